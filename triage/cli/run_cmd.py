"""`triage run`: the worker — poll the configured mailboxes on a schedule, or once."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.logs import configure_logging


def _quiet_library_logs() -> None:
    # imapclient logs every protocol line (mail bodies included) at DEBUG, Alembic its set-up
    # at INFO; our own log says what happened per poll and per message, so their chatter stays
    # out even at debug level.
    for name in ("imapclient", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(
    once: bool = typer.Option(False, "--once", help="Poll every mailbox once and exit (for cron and tests)."),
    mailbox: str | None = typer.Option(None, "--mailbox", "-m", help="Only this mailbox (its `name` in the config)."),
    dry_run: bool = typer.Option(
        False, "--dry-run",
        help="Judge and report, but change nothing: no flag, no move, no folder created, nothing stored.",
    ),
    as_json: bool = typer.Option(False, "--json", help="With --once: print one JSON report per mailbox."),
    config: Path | None = ConfigOption,
) -> None:
    """Run the worker: read each function mailbox, judge new mail, store it, file it.

    Examples:

      triage run                           # the service: polls every poll_interval_seconds, IDLE when possible
      triage run --once                    # one poll of every mailbox, then exit (cron)
      triage run --once --mailbox hjarta   # one mailbox only
      triage run --once --dry-run          # what would happen, changing nothing

    Stops on SIGTERM or Ctrl-C after finishing the message it is on. The log (JSON lines when
    not on a terminal) has one health line per poll. Exit status: 0 fine; 1 a mailbox failed
    (with --once) or every mailbox is stopped; 2 triage cannot run (config, database not migrated).
    """
    from triage.outbound.hooks import reply_hook
    from triage.worker.hooks import register_hook
    from triage.worker.runner import WorkerError, run_once
    from triage.worker.scheduler import Service

    settings = settings_or_exit(config)
    configure_logging(settings.log_level)
    _quiet_library_logs()
    if not dry_run:
        register_hook(reply_hook(settings))  # drafts or sends the reply to the supplier, after commit
    if not once:
        try:
            service = Service(settings, mailbox_name=mailbox, dry_run=dry_run)
            status = service.run_forever()
        except WorkerError as exc:
            err_console.print(f"[bold red]cannot run:[/] {exc}")
            raise typer.Exit(2) from None
        raise typer.Exit(status)

    stop = threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, on_signal)
    try:
        reports = run_once(settings, mailbox, dry_run, stop=stop)
    except WorkerError as exc:
        err_console.print(f"[bold red]cannot run:[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    for report in reports:
        if as_json:
            print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
            continue
        _print_report(report)
    if any(r.error for r in reports):
        raise typer.Exit(1)


def _print_report(report: Any) -> None:
    prefix = "[dim](dry run)[/] " if report.dry_run else ""
    if report.error:
        state = "stopped" if report.stopped else "failed"
        console.print(f"{prefix}[bold]{report.mailbox}[/]: [red]{state}[/]: {report.error}")
    elif report.unchanged:
        console.print(f"{prefix}[bold]{report.mailbox}[/]: nothing new ({report.round_trips} round trip)")
    else:
        console.print(
            f"{prefix}[bold]{report.mailbox}[/]: {report.new} new, {report.processed} processed, "
            f"{report.failed} failed, {report.known} already known, {report.filed} filed"
            + (f", {report.recovered} recovered" if report.recovered else "")
            + f" in {report.duration_seconds:.1f}s"
        )
    for action in report.planned:
        where = action.destination or "(tag only)"
        what = f"[red]{action.error}[/]" if action.error else (action.subject or "(no subject)")
        console.print(f"  would file {action.key} → {where}: {what}")
