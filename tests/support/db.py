"""Database fixtures: every storage test runs on SQLite (a temporary file) and on the real PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 with trust auth, database `test` (override with
TRIAGE_TEST_POSTGRES_URL). Each test gets a schema of its own, created empty and dropped after,
so parallel or leftover runs never see each other's tables. When the server is unreachable the
PostgreSQL tests FAIL with the reason; they are never skipped, so CI cannot go green without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from triage.db.engine import make_engine, safe_url, session_factory
from triage.db.schema import Base

POSTGRES_ENV = "TRIAGE_TEST_POSTGRES_URL"
#: Tried in order when TRIAGE_TEST_POSTGRES_URL is not set (trust auth: either role may exist).
POSTGRES_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)
BACKENDS = ("sqlite", "postgresql")


def _reachable(url: str) -> str | None:
    """None when we can log in at `url`, else why not."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 - the reason goes into the failure message
        lines = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {lines[0] if lines else repr(exc)}"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The URL of the test PostgreSQL server; fails (never skips) the test when it cannot be reached."""
    candidates = (os.environ[POSTGRES_ENV],) if os.environ.get(POSTGRES_ENV) else POSTGRES_CANDIDATES
    reasons = []
    for url in candidates:
        reason = _reachable(url)
        if reason is None:
            return url
        reasons.append(f"{safe_url(url)}: {reason}")
    pytest.fail("PostgreSQL for the storage tests is unreachable:\n  " + "\n  ".join(reasons), pytrace=False)


@contextmanager
def postgres_schema(server_url: str) -> Iterator[URL]:
    """A fresh, empty schema on the server, dropped afterwards; yields a URL whose search_path is it."""
    name = f"triage_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        # The application name tags this test's connections, so cleanup ends exactly those.
        url = make_url(server_url).update_query_dict(
            {"options": f"-csearch_path={name}", "application_name": f"triage-test-{name}"}
        )
        try:
            yield url
        finally:
            with admin.connect() as conn:
                # Sessions a failed test left open would block DROP SCHEMA; end them first.
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE pid <> pg_backend_pid() AND application_name = 'triage-test-{name}'"
                )
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(params=[pytest.param(b, marks=[pytest.mark.postgres] if b == "postgresql" else []) for b in BACKENDS])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[URL]:
    """An empty database (no tables) on each backend: a SQLite file under a folder not yet made,
    and a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield make_url(f"sqlite:///{tmp_path / 'var' / 'triage.db'}")
        return
    server_url = request.getfixturevalue("postgres_server_url")
    with postgres_schema(server_url) as url:
        yield url


@pytest.fixture
def pg_url(postgres_server_url: str) -> Iterator[URL]:
    """An empty PostgreSQL schema, for tests that only make sense there (concurrency)."""
    with postgres_schema(postgres_server_url) as url:
        yield url


@pytest.fixture
def db_engine(db_url: URL) -> Iterator[Engine]:
    """An engine on `db_url` with the whole schema created from `triage.db.schema`."""
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db_sessions(db_engine: Engine) -> sessionmaker[Session]:
    """A session factory on `db_engine`, for tests that need several units of work."""
    return session_factory(db_engine)


@pytest.fixture
def db_session(db_sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session on a database with the schema; rolled back and closed after the test."""
    session = db_sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
