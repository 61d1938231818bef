"""Engines from URLs: SQLite set up for a service, PostgreSQL via psycopg, passwords never shown."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from triage.db import store
from triage.db.engine import make_engine, normalize_url, safe_url
from triage.db.schema import Base, MailboxState, Message
from triage.results import TriageResult


def test_sqlite_file_gets_wal_foreign_keys_busy_timeout_and_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "triage.db"
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert target.is_file()
    finally:
        engine.dispose()


def test_sqlite_savepoint_rolls_back_only_the_inner_work(tmp_path: Path) -> None:
    """pysqlite breaks SAVEPOINT unless SQLAlchemy owns BEGIN; the store relies on savepoints."""
    engine = make_engine(f"sqlite:///{tmp_path / 'sp.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with engine.connect() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            nested = conn.begin_nested()
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            nested.rollback()
            conn.commit()
            assert [r[0] for r in conn.exec_driver_sql("SELECT x FROM t")] == [1]
    finally:
        engine.dispose()


def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_unknown_backend_is_refused_without_showing_the_password() -> None:
    with pytest.raises(ValueError) as excinfo:
        make_engine("mysql://user:hunter2@db/triage")
    assert "hunter2" not in str(excinfo.value)


def test_password_is_never_shown_or_logged(caplog: pytest.LogCaptureFixture) -> None:
    url = "postgresql+psycopg://triage:s3cr%40t-pw@127.0.0.1:5432/triage"
    assert "s3cr" not in safe_url(url)
    assert "triage:***@127.0.0.1" in safe_url(url)
    with caplog.at_level(logging.DEBUG):
        engine = make_engine(url)  # no connection is made until used
    try:
        assert "s3cr" not in repr(engine)
        assert all("s3cr" not in record.getMessage() for record in caplog.records)
    finally:
        engine.dispose()


def test_timestamps_are_aware_utc_on_both_backends(db_engine: Engine) -> None:
    stockholm = timezone(timedelta(hours=1))
    local = datetime(2026, 3, 3, 12, 0, 0, 123456, tzinfo=stockholm)
    with Session(db_engine) as session, session.begin():
        session.add(MailboxState(mailbox="m", last_poll_at=local, updated_at=local))
    with Session(db_engine) as session:
        state = session.get(MailboxState, "m")
        assert state is not None and state.last_poll_at is not None
        assert state.last_poll_at.tzinfo is not None and state.last_poll_at.utcoffset() == timedelta(0)
        assert state.last_poll_at == local
        assert state.last_poll_at.hour == 11
        # And comparisons in SQL see the same instant.
        found = session.scalars(
            sa.select(MailboxState.mailbox).where(MailboxState.last_poll_at < datetime(2026, 3, 3, 11, 0, 1, tzinfo=UTC))
        ).all()
        assert found == ["m"]


def test_naive_timestamps_are_refused(db_engine: Engine) -> None:
    with Session(db_engine) as session:
        session.add(MailboxState(mailbox="m", last_poll_at=datetime(2026, 3, 3, 12, 0), updated_at=datetime.now(UTC)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            session.flush()


def test_sqlite_writers_in_two_processes_wait_their_turn(tmp_path: Path) -> None:
    """Two writers on one SQLite file (worker and demo, say) with immediate transactions:
    the second waits for the first instead of failing, and the message is stored once."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    setup = make_engine(url)
    Base.metadata.create_all(setup)
    setup.dispose()
    raw = b"Message-ID: <shared@x>\r\nSubject: hej\r\n\r\nbody\r\n"
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def writer() -> None:
        engine = make_engine(url, sqlite_immediate=True)
        try:
            barrier.wait(timeout=10)
            with Session(engine) as session, session.begin():
                _, created = store.record_message(session, "unit-a", 1, 1, raw, TriageResult(file=None, message_id="<shared@x>"))
                outcomes.append(created)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            outcomes.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(map(str, outcomes)) == ["False", "False", "False", "True"]
    check = make_engine(url)
    try:
        with Session(check) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
    finally:
        check.dispose()
