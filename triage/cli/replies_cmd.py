"""`triage replies`: the replies to suppliers, for the person handling them — list, show, send."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit

app = typer.Typer(help="Replies to suppliers: list them, read one, send one.", no_args_is_help=True)


@contextmanager
def _session(config: Path | None) -> Iterator[tuple[object, object]]:
    from triage.worker.runner import WorkerError, open_database

    settings = settings_or_exit(config)
    try:
        engine, sessions = open_database(settings)
    except WorkerError as exc:
        err_console.print(f"[bold red]cannot run:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        with sessions() as session:
            yield settings, session
    finally:
        engine.dispose()


def _local(value, settings) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(settings.digest.timezone)).strftime("%Y-%m-%d %H:%M")


@app.command("list")
def list_replies(
    status: str | None = typer.Option(None, "--status", help="Only this status: pending, drafted, sent, suppressed, failed."),
    mailbox: str | None = typer.Option(None, "--mailbox", "-m", help="Only this mailbox."),
    limit: int = typer.Option(50, "--limit", help="At most this many, newest first."),
    config: Path | None = ConfigOption,
) -> None:
    """List the replies, newest first: id, when, status, mode, recipient, subject."""
    from sqlalchemy import select

    from triage.db.schema import Message, Reply

    with _session(config) as (settings, session):
        query = select(Reply, Message.mailbox).join(Message, Message.id == Reply.message_pk)
        if status:
            query = query.where(Reply.status == status)
        if mailbox:
            query = query.where(Message.mailbox == mailbox)
        rows = session.execute(query.order_by(Reply.created_at.desc(), Reply.id.desc()).limit(limit)).all()
        if not rows:
            console.print("no replies")
        for reply, box in rows:
            # One line per reply, never wrapped, so it can be read and grepped on any terminal.
            print(f"{reply.id:>5}  {_local(reply.created_at, settings):<16}  {reply.status:<10}  {reply.mode:<5}  "
                  f"{box}  {reply.recipient or '-'}  {reply.subject or ''}")


@app.command("show")
def show_reply(
    reply_id: int = typer.Argument(..., help="The reply's id (see `triage replies list`)."),
    config: Path | None = ConfigOption,
) -> None:
    """Show one reply: its state, why it was held back or failed, and its text."""
    from triage.db.schema import Reply

    with _session(config) as (settings, session):
        reply = session.get(Reply, reply_id)
        if reply is None:
            err_console.print(f"[bold red]no reply with id {reply_id}[/]")
            raise typer.Exit(1)
        message = reply.message
        lines = [
            ("Reply", f"{reply.id} to message {message.id} in {message.mailbox}"),
            ("Status", f"{reply.status} ({reply.mode})"),
            ("To", reply.recipient or ""), ("Subject", reply.subject or ""), ("Language", reply.language or ""),
            ("In-Reply-To", reply.in_reply_to or ""), ("Message-ID", reply.rfc_message_id or ""),
            ("Created", _local(reply.created_at, settings)), ("Drafted", _local(reply.drafted_at, settings)),
            ("Sent", _local(reply.sent_at, settings) + (f" by {reply.sent_by}" if reply.sent_by else "")),
            ("Held back", reply.reason or ""), ("Error", reply.error or ""),
            ("Original", f"{message.subject or ''} — {message.sender or ''}"),
        ]
        for label, value in lines:
            if value:
                console.print(f"[bold]{label + ':':<13}[/] {escape(value)}", highlight=False)
        print()
        print(reply.body_text or "(no text)")


@app.command("send")
def send(
    reply_id: int = typer.Argument(..., help="The reply's id (see `triage replies list`)."),
    by: str | None = typer.Option(None, "--by", help="Who sends it (recorded); default: your login name."),
    force: bool = typer.Option(False, "--force", help="Send even a held-back reply, or one whose sending never finished."),
    config: Path | None = ConfigOption,
) -> None:
    """Send one drafted (or failed) reply by SMTP, once; it is recorded as sent by you."""
    from triage.outbound.replies import ReplyNotSendable, send_reply
    from triage.outbound.smtp import SmtpError

    with _session(config) as (settings, session):
        try:
            reply = send_reply(session, settings, reply_id, sent_by=by or getpass.getuser(), force=force)
        except ReplyNotSendable as exc:
            err_console.print(f"[bold red]not sent:[/] {exc}")
            raise typer.Exit(1) from None
        except SmtpError as exc:
            err_console.print(f"[bold red]sending failed:[/] {exc}")
            raise typer.Exit(1) from None
        console.print(f"reply {reply.id} sent to {escape(reply.recipient or '')}", highlight=False)
