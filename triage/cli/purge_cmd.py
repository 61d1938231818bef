"""`triage purge`: delete what is older than the retention period (default 3 years)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.logs import configure_logging


def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be deleted; delete nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as one JSON object."),
    config: Path | None = ConfigOption,
) -> None:
    """Delete messages, results, findings, replies, reviews and digests past the retention period.

    Examples:

      triage purge --dry-run     # how many rows are older than retention_days, per table
      triage purge               # delete them (the daily job of `triage run` does the same)

    The age of a message is when triage stored it, never a date a sender wrote. The period is
    `retention_days` in the config (default 1095, three years). Exit status: 0 done; 1 another
    worker is purging right now; 2 cannot run (config, database not migrated).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from triage.db import migrate
    from triage.db.engine import safe_url
    from triage.worker.jobs import purge_cutoff, run_purge

    settings = settings_or_exit(config)
    configure_logging(settings.log_level)  # to stderr: stdout is for the counts
    try:
        current = migrate.is_current(settings.database_url)
    except SQLAlchemyError as exc:
        err_console.print(f"[bold red]cannot open the database {safe_url(settings.database_url)}:[/] "
                          f"{str(exc).splitlines()[0]}")
        raise typer.Exit(2) from None
    if not current:
        err_console.print("[bold red]the database is not up to date:[/] run `triage db upgrade` first")
        raise typer.Exit(2)
    cutoff = purge_cutoff(settings)
    counts = run_purge(settings, dry_run=dry_run)
    if counts is None:
        err_console.print("another worker holds the purge lease; nothing done")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps({"dry_run": dry_run, "cutoff": cutoff.isoformat(), "retention_days": settings.retention_days,
                          "counts": counts}, indent=2))
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"stored before {cutoff:%Y-%m-%d %H:%M} UTC ({settings.retention_days} days): {verb}")
    for table, n in counts.items():
        console.print(f"  {table:<18} {n}")
