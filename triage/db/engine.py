"""Engines and sessions from a database URL: SQLite (the embedded default) or PostgreSQL.

SQLite gets WAL (readers never wait for the worker), foreign keys (so deletes cascade), a busy
timeout (a second process waits instead of failing) and transactions that SQLAlchemy controls,
so savepoints work. PostgreSQL is reached through psycopg 3. The URL's password never reaches a
log line: use `safe_url()` whenever a URL is shown.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def safe_url(url: str | URL) -> str:
    """The URL for display, with its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as nothing rather than leaked
        return "<unparsable database URL>"


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; bare `postgresql://`/`postgres://` mean psycopg 3, the driver we ship."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str | URL, *, sqlite_immediate: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for `url`, set up for triage; extra keyword arguments go to SQLAlchemy.

    `sqlite_immediate` makes every SQLite transaction take the write lock at BEGIN: meant for
    processes that write (the worker, the demo). A deferred transaction that read first and
    writes later fails at once ("database is locked") if another process wrote in between,
    busy timeout or not; an immediate one waits its turn instead. Readers (the web app) keep
    the default, and in WAL mode they never wait for a writer.
    """
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, immediate=sqlite_immediate, **kwargs)
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        engine = sa.create_engine(parsed, **kwargs)
        log.debug("database engine for %s", safe_url(parsed))
        return engine
    raise ValueError(f"unsupported database {safe_url(parsed)!r}: use sqlite:///FILE or postgresql+psycopg://…")


def _sqlite_engine(url: URL, *, immediate: bool, **kwargs: Any) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin; without this
        # pysqlite silently breaks SAVEPOINT (SQLAlchemy docs, "Serializable isolation").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                cursor.execute("PRAGMA journal_mode = WAL")
                # NORMAL is durable across application crashes in WAL mode; only an OS crash
                # can lose the last transactions, never corrupt the file.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    log.debug("database engine for %s", safe_url(url))
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work; objects stay readable after commit (no lazy reload surprises)."""
    return sessionmaker(engine, expire_on_commit=False)
