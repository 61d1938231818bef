"""Two workers, one PostgreSQL: the same message, reply, digest or lease is taken exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from triage.db import store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Base, Digest, Message, Reply
from triage.results import Decision, TriageResult

pytestmark = pytest.mark.postgres

RAW = (
    b"From: anna@pharma.example\r\nTo: samverkan@region.example\r\nSubject: Inbjudan\r\n"
    b"Message-ID: <race@pharma.example>\r\n\r\nHej!\r\n"
)


def result() -> TriageResult:
    return TriageResult(file=None, message_id="<race@pharma.example>", decision=Decision(verdict="needs_info"))


@pytest.fixture
def pg_engine(pg_url: URL) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=12, max_overflow=4)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def pg_sessions(pg_engine: Engine) -> sessionmaker[Session]:
    return session_factory(pg_engine)


def run_together(n: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in n threads released at the same instant."""
    barrier = threading.Barrier(n)

    def one() -> Any:
        barrier.wait(timeout=10)
        return work()

    with ThreadPoolExecutor(n) as pool:
        return [f.result(timeout=60) for f in [pool.submit(one) for _ in range(n)]]


def count(sessions: sessionmaker[Session], entity: type) -> int:
    with sessions() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(entity)) or 0)


def test_insert_blocked_by_an_uncommitted_twin_returns_the_twin(pg_sessions: sessionmaker[Session]) -> None:
    """Worker B looks (sees nothing: A has not committed), inserts, waits on A's unique key,
    and when A commits gets the existing row back instead of an error."""
    inserted = threading.Event()
    outcome: dict[str, Any] = {}

    def worker_a() -> None:
        with pg_sessions() as session:
            row, created = store.record_message(session, "unit-a", 1, 1, RAW, result())
            outcome["a"] = (row.id, created)
            inserted.set()
            threading.Event().wait(0.5)  # B is now blocked on our unique key
            session.commit()

    def worker_b() -> None:
        inserted.wait(timeout=10)
        with pg_sessions() as session:
            started = time.monotonic()
            # Another UIDVALIDITY: only the Message-ID key collides.
            row, created = store.record_message(session, "unit-a", 2, 7, RAW, result())
            outcome["b"] = (row.id, created)
            outcome["b_waited"] = time.monotonic() - started
            session.commit()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcome["a"][1] is True and outcome["b"] == (outcome["a"][0], False)
    assert outcome["b_waited"] > 0.3  # B really waited on A's key, then took the IntegrityError path
    assert count(pg_sessions, Message) == 1
    with pg_sessions() as session:
        moved = session.get(Message, outcome["a"][0])
        assert (moved.uidvalidity, moved.uid) == (2, 7)  # where the message is now


def test_many_workers_storing_the_same_message_make_one_row(pg_sessions: sessionmaker[Session]) -> None:
    def work() -> bool:
        with pg_sessions() as session:
            _, created = store.record_message(session, "unit-a", 1, 1, RAW, result())
            session.commit()
            return created

    outcomes = run_together(8, work)
    assert sorted(outcomes) == [False] * 7 + [True]
    assert count(pg_sessions, Message) == 1


def test_one_reply_and_one_digest_however_many_workers(pg_sessions: sessionmaker[Session]) -> None:
    with pg_sessions() as session, session.begin():
        row, _ = store.record_message(session, "unit-a", 1, 1, RAW, result())
        pk = row.id

    def reply() -> bool:
        with pg_sessions() as session:
            _, created = store.claim_reply(session, pk, mode="send", recipient="anna@pharma.example")
            session.commit()
            return created

    def digest() -> tuple[bool, int]:
        with pg_sessions() as session:
            d, created = store.create_digest(session, "unit-a", "2026-03-03", store.utcnow() + timedelta(hours=1))
            session.commit()
            return created, d.message_count

    assert sorted(run_together(6, reply)) == [False] * 5 + [True]
    digests = run_together(6, digest)
    assert sorted(c for c, _ in digests) == [False] * 5 + [True]
    assert [n for c, n in digests if c] == [1]
    assert count(pg_sessions, Reply) == 1 and count(pg_sessions, Digest) == 1


def test_one_worker_gets_the_lease(pg_sessions: sessionmaker[Session]) -> None:
    names = iter(f"worker-{i}" for i in range(100))
    lock = threading.Lock()

    def take() -> bool:
        with lock:
            owner = next(names)
        with pg_sessions() as session:
            got = store.acquire_lease(session, "mailbox:unit-a", owner, timedelta(minutes=1))
            session.commit()
            return got

    assert sorted(run_together(8, take)) == [False] * 7 + [True]
    # Once the lease exists the race is an UPDATE, not an INSERT: still exactly one.
    with pg_sessions() as session, session.begin():
        session.execute(sa.text("UPDATE leases SET expires_at = now() - interval '1 second'"))
    assert sorted(run_together(8, take)) == [False] * 7 + [True]
