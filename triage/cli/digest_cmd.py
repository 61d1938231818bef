"""`triage digest`: make the managers' digest of each mailbox now and deliver it (once)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit


def digest(
    on: str | None = typer.Option(None, "--date", help="The day to make (YYYY-MM-DD); default: today, up to now."),
    mailbox: str | None = typer.Option(None, "--mailbox", "-m", help="Only this mailbox (its `name` in the config)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the digest that would be made; store and send nothing."),
    show: bool = typer.Option(False, "--show", help="Also print the plain-text digest."),
    config: Path | None = ConfigOption,
) -> None:
    """Make the digest of everything processed since the previous digest, and deliver it.

    Examples:

      triage digest                         # today's digest of every mailbox: SMTP, IMAP folder, files
      triage digest --mailbox hjarta --show
      triage digest --date 2026-03-03       # deliver that day's digest again where it failed
      triage digest --dry-run               # what the digest would say now; nothing is written or sent

    A digest is made once per mailbox and day and delivered once per target: running it again
    sends nothing new; a delivery that failed is tried again. A day whose job did not run is
    caught up by the next digest. Exit status: 0 fine; 1 a delivery failed; 2 cannot run.
    """
    from triage.config import ConfigError
    from triage.db.schema import utcnow
    from triage.outbound.digest import DigestPeriodError, preview_digest, run_all_digests
    from triage.worker.runner import WorkerError, open_database

    settings = settings_or_exit(config)
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        err_console.print(f"[bold red]--date must be YYYY-MM-DD, not {on!r}[/]")
        raise typer.Exit(2) from None
    try:
        mailboxes = [settings.mailbox(mailbox)] if mailbox else list(settings.mailboxes)
    except ConfigError as exc:
        err_console.print(f"[bold red]config error:[/] {exc}")
        raise typer.Exit(2) from None
    if not mailboxes:
        err_console.print("[bold red]no mailbox is configured:[/] add a [[mailbox]] table to the config")
        raise typer.Exit(2)
    try:
        engine, sessions = open_database(settings)
    except WorkerError as exc:
        err_console.print(f"[bold red]cannot run:[/] {exc}")
        raise typer.Exit(2) from None
    failed = False
    try:
        if dry_run:
            now = utcnow()
            for box in mailboxes:
                with sessions() as session:
                    try:
                        rendered = preview_digest(session, settings, box, on=day, now=now)
                    except DigestPeriodError as exc:
                        err_console.print(f"[bold red]{box.name}:[/] {exc}")
                        failed = True
                        continue
                    finally:
                        session.rollback()
                console.rule(f"{box.name}: {rendered.subject}", characters="-")
                print(rendered.text)
            return
        outcomes = run_all_digests(settings, sessions=sessions, mailbox_name=mailbox, on=day)
        for outcome in outcomes:
            if outcome.error:
                err_console.print(f"[bold red]{outcome.mailbox}:[/] {outcome.error}")
                failed = True
                continue
            made = "made now" if outcome.created else "made earlier"
            console.print(f"[bold]{outcome.mailbox}[/] {outcome.period}: {made}, {outcome.message_count} message(s)")
            for d in outcome.deliveries:
                colour = {"delivered": "green", "done": "dim", "busy": "yellow"}.get(d.status, "red")
                console.print(f"  {d.channel:<5} {d.target}: [{colour}]{d.status}[/]" + (f" – {d.error}" if d.error else ""),
                              markup=True, highlight=False)
            if not outcome.deliveries:
                console.print("  [yellow]no delivery configured[/] ([digest] recipients, imap_folder, directory)")
            if show and outcome.text:
                print(outcome.text)
            failed = failed or not outcome.ok
    finally:
        engine.dispose()
    if failed:
        raise typer.Exit(1)
