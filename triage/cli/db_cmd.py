"""`triage db`: create or upgrade the database schema."""

from __future__ import annotations

from pathlib import Path

import typer

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.config import _masked_url

app = typer.Typer(help="Database schema and migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Alembic revision to upgrade to."),
    config: Path | None = ConfigOption,
) -> None:
    """Apply the Alembic migrations to the configured database.

    Example:  TRIAGE_DATABASE_URL=postgresql+psycopg://triage@127.0.0.1/triage triage db upgrade
    """
    from triage.db import migrate

    settings = settings_or_exit(config)
    try:
        migrate.upgrade(settings.database_url, revision)
    except Exception as exc:  # noqa: BLE001 - shown to the operator, URL masked
        err_console.print(f"[bold red]migration failed on {_masked_url(settings.database_url)}:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"database {_masked_url(settings.database_url)} is at revision {migrate.current(settings.database_url)}")
