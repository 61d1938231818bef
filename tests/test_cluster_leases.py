"""Cluster leases (triage.worker.cluster) on SQLite and the real PostgreSQL: one poller per
mailbox at a time, renewed while it works, taken over after the holder dies; jobs once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from triage.db import store
from triage.worker.cluster import LeasedRunner, once_per_cluster


class FakeRunner:
    """Stands for a MailboxRunner: counts concurrent polls, can be held inside a poll."""

    def __init__(self, name: str, hold: float = 0.0) -> None:
        self.name, self.hold = name, hold
        self.active = 0
        self.max_active = 0
        self.polls = 0
        self._lock = threading.Lock()

    def poll(self) -> str:
        with self._lock:
            self.active += 1
            self.polls += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.hold)
        with self._lock:
            self.active -= 1
        return "polled"


def test_one_worker_polls_a_mailbox_at_a_time(db_sessions: sessionmaker[Session]) -> None:
    runner = FakeRunner("se-hjarta", hold=0.3)
    workers = [LeasedRunner(runner, db_sessions, owner=f"w{i}", ttl=timedelta(seconds=30)) for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda w: w.poll(), workers))
    assert runner.max_active == 1
    assert results.count("polled") == runner.polls >= 1
    assert results.count(None) == 3 - runner.polls
    with db_sessions() as session:
        assert store.lease_holder(session, "mailbox:se-hjarta") is None  # released after the poll


def test_the_lease_is_renewed_while_a_long_poll_runs(db_sessions: sessionmaker[Session]) -> None:
    long_poll = FakeRunner("no-kardiologi", hold=2.5)  # longer than the ttl: only renewal keeps it
    same_mailbox_elsewhere = FakeRunner("no-kardiologi")
    holder = LeasedRunner(long_poll, db_sessions, owner="a", ttl=timedelta(seconds=1.2))
    other = LeasedRunner(same_mailbox_elsewhere, db_sessions, owner="b", ttl=timedelta(seconds=1.2))
    thread = threading.Thread(target=holder.poll)
    thread.start()
    while long_poll.polls == 0:
        time.sleep(0.01)
    tries = []
    while long_poll.active:
        tries.append(other.poll())
        time.sleep(0.2)
    thread.join()
    assert len(tries) >= 8 and set(tries) == {None}, tries  # refused for the whole 2.5 s, twice the ttl
    assert other.poll() == "polled"  # released at the end of the poll


def test_a_dead_workers_mailbox_is_taken_over_after_expiry(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session, session.begin():  # a worker took the lease and then died
        assert store.acquire_lease(session, "mailbox:se-ortopedi", "dead:1", timedelta(seconds=1))
    runner = FakeRunner("se-ortopedi")
    survivor = LeasedRunner(runner, db_sessions, owner="alive:2", ttl=timedelta(seconds=30))
    assert survivor.poll() is None
    time.sleep(1.2)
    assert survivor.poll() == "polled"


def test_a_cluster_job_runs_once_however_many_workers_fire_it(db_sessions: sessionmaker[Session]) -> None:
    ran = []

    def job() -> str:
        ran.append(1)
        time.sleep(0.3)
        return "done"

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(lambda i: once_per_cluster(db_sessions, "digest", job, owner=f"w{i}"), range(5)))
    assert len(ran) == 1 and outcomes.count("done") == 1 and outcomes.count(None) == 4
