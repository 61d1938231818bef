"""Run the Alembic migrations programmatically, from the scripts shipped inside the package.

`triage db upgrade` calls `upgrade(settings.database_url)`; an installed triage needs no
alembic.ini and no source checkout. On PostgreSQL the migration holds an advisory lock, so
several workers starting at once migrate the database one after the other, not together.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection

from triage.db.engine import make_engine, safe_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged scripts (and the database, when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        # ConfigParser treats % as interpolation; a URL-encoded password would break it.
        url = database_url if isinstance(database_url, str) else database_url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str | None:
    """The newest revision the packaged scripts know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Upgrade the database at `database_url` to `revision` (default: the newest), in one transaction."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), revision)
    finally:
        engine.dispose()


def downgrade(database_url: str | URL, revision: str) -> None:
    """Downgrade the database to `revision` ("base" drops every triage table)."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection=connection), revision)
    finally:
        engine.dispose()


def current(database_url: str | URL) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_current(database_url: str | URL) -> bool:
    """Whether the database is at the newest revision (workers refuse to start otherwise)."""
    return current(database_url) == head()


def describe(database_url: str | URL) -> str:
    """One line for operators: which database (password masked) is at which revision."""
    return f"{safe_url(database_url)} at revision {current(database_url) or 'none'} (head {head()})"
