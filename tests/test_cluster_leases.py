"""Cluster leases and jobs (triage.worker.cluster) on SQLite and the real PostgreSQL: every mailbox
leased by exactly one worker, shared fairly, taken over after a worker dies, handed over when one
joins; a cluster job run once per period however many workers fire it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from triage.db import store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Base
from triage.db.schema import utcnow
from triage.worker.cluster import MailboxLeases, fair_share, run_once_per_period

MAILBOXES = [f"box-{i:02d}" for i in range(7)]


@pytest.fixture
def db_sessions(db_url: URL):
    """Sessions as a worker has them: on SQLite every transaction takes the write lock at BEGIN."""
    engine = make_engine(db_url, sqlite_immediate=True)
    Base.metadata.create_all(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


class Clock:
    """A monotonic clock the test moves by hand (the keeper's validity window)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def holders(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return {name.removeprefix("mailbox:"): owner for name, owner in store.live_leases(session, "mailbox:").items()}


def keeper(sessions: sessionmaker[Session], owner: str, ttl: float = 30.0, **kwargs) -> MailboxLeases:
    return MailboxLeases(sessions, owner, MAILBOXES, timedelta(seconds=ttl), **kwargs)


def test_fair_shares_add_up_to_every_mailbox() -> None:
    assert [fair_share(20, 3, rank) for rank in range(3)] == [7, 7, 6]
    assert [fair_share(20, w) for w in (1, 2, 0)] == [20, 10, 20]
    assert [fair_share(2, 3, rank) for rank in range(3)] == [1, 1, 0]


def test_every_mailbox_is_leased_by_exactly_one_of_several_workers(db_sessions: sessionmaker[Session]) -> None:
    workers = [keeper(db_sessions, f"w{i}") for i in range(3)]
    with ThreadPoolExecutor(3) as pool:  # all three start at the same moment
        list(pool.map(lambda k: k.tick(), workers))
    for _ in range(3):  # a few renewal rounds: the first ones hand the surplus over to the late ones
        for k in workers:
            k.tick()
        for k in workers:
            k.settle(5)
    held = [k.held() for k in workers]
    assert set().union(*held) == set(MAILBOXES)
    assert sum(len(h) for h in held) == len(MAILBOXES)  # nobody shares a mailbox
    assert [len(h) for h in held] == [3, 2, 2]  # fair: 7 over 3 workers, the remainder to the first by id
    assert holders(db_sessions) == {m: f"w{i}" for i, h in enumerate(held) for m in h}


def test_a_new_worker_gets_its_share_after_the_first_one_stops_polling_it(db_sessions: sessionmaker[Session]) -> None:
    quiesced: list[str] = []
    first = keeper(db_sessions, "first", on_lose=quiesced.append)
    first.tick()
    assert first.held() == set(MAILBOXES)  # alone: every mailbox
    second = keeper(db_sessions, "second")
    second.tick()
    assert second.held() == set()  # nothing free yet
    first.tick()  # sees two workers: hands the surplus over
    first.settle(5)
    assert len(first.held()) == 4 and sorted(quiesced) == sorted(set(MAILBOXES) - first.held())
    second.tick()
    assert second.held() == set(quiesced)


def test_a_dead_workers_mailboxes_are_taken_over_after_expiry(db_sessions: sessionmaker[Session]) -> None:
    dead = keeper(db_sessions, "dead:1", ttl=1.0)
    dead.tick()  # took everything, then died: no more renewals, no release
    gained: list[str] = []
    survivor = keeper(db_sessions, "alive:2", ttl=30.0, on_gain=gained.append)
    survivor.tick()
    assert survivor.held() == set()
    time.sleep(1.1)
    survivor.tick()
    assert survivor.held() == set(MAILBOXES) and sorted(gained) == MAILBOXES
    assert set(holders(db_sessions).values()) == {"alive:2"}


def test_a_clean_stop_frees_the_leases_at_once(db_sessions: sessionmaker[Session]) -> None:
    leaving = keeper(db_sessions, "leaving")
    leaving.tick()
    leaving.stop()
    assert holders(db_sessions) == {}
    staying = keeper(db_sessions, "staying")
    staying.tick()
    assert staying.held() == set(MAILBOXES)


def test_a_worker_whose_renewals_fail_stops_polling_before_its_lease_can_expire(
    db_sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    lost: list[str] = []
    k = keeper(db_sessions, "cut-off", ttl=30.0, on_lose=lost.append, clock=clock)
    k.tick()
    assert k.holds(MAILBOXES[0])
    clock.now += 19  # within two thirds of the ttl: still ours
    assert k.holds(MAILBOXES[0])
    clock.now += 2  # past it, with no successful renewal: another worker may take it soon
    assert not k.holds(MAILBOXES[0])
    broken = sessionmaker()  # no engine: every renewal fails

    k.sessions = broken
    k.tick()
    k.settle(5)
    assert sorted(lost) == MAILBOXES and k.held() == set()


def test_a_lease_taken_by_another_worker_is_lost_not_renewed(db_sessions: sessionmaker[Session]) -> None:
    lost: list[str] = []
    k = keeper(db_sessions, "paused", ttl=30.0, on_lose=lost.append)
    k.tick()
    with db_sessions() as session, session.begin():  # it paused past the expiry; another took one over
        store.release_leases(session, ["mailbox:box-03"], "paused")
        assert store.claim_free_leases(session, ["mailbox:box-03"], "other", timedelta(seconds=30), limit=1)
    k.tick()
    k.settle(5)
    assert lost == ["box-03"] and "box-03" not in k.held()
    assert holders(db_sessions)["box-03"] == "other"


def test_a_cluster_job_runs_once_however_many_workers_fire_it(db_sessions: sessionmaker[Session]) -> None:
    ran = []

    def job() -> str:
        ran.append(1)
        time.sleep(0.5)
        return "done"

    def fire(i: int) -> str | None:
        return run_once_per_period(db_sessions, "digest", "2026-03-03", job, owner=f"w{i}", ttl=timedelta(seconds=3))

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(fire, range(5)))
    assert len(ran) == 1 and outcomes.count("done") == 1 and outcomes.count(None) == 4
    # Fired again later the same day (a restarted worker): nothing; the next day: runs.
    assert fire(9) is None and len(ran) == 1
    assert run_once_per_period(db_sessions, "digest", "2026-03-04", job, owner="w0") == "done" and len(ran) == 2
    with db_sessions() as session:
        rows = store.job_runs(session, "digest")
    assert [(r.period, r.status, r.attempt) for r in rows] == [("2026-03-03", "done", 1), ("2026-03-04", "done", 1)]


def test_a_job_left_running_by_a_dead_worker_is_taken_over(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session, session.begin():  # a worker claimed the purge, then died
        assert store.claim_job_run(session, "purge", "2026-03-03", "dead:1", stale_after=timedelta(seconds=1),
                                   now=utcnow() - timedelta(seconds=5)) == "claimed"
    ran = []
    assert run_once_per_period(db_sessions, "purge", "2026-03-03", lambda: ran.append(1) or "ok", owner="alive:2",
                               ttl=timedelta(seconds=1)) == "ok"
    with db_sessions() as session:
        (row,) = store.job_runs(session, "purge")
    assert ran == [1] and (row.owner, row.status, row.attempt) == ("alive:2", "done", 2)


def test_a_standby_worker_waits_while_the_running_one_beats_then_skips(db_sessions: sessionmaker[Session]) -> None:
    started, release = threading.Event(), threading.Event()

    def long_job() -> str:
        started.set()
        release.wait(10)
        return "long"

    runner = threading.Thread(target=run_once_per_period,
                              args=(db_sessions, "digest", "2026-03-05", long_job),
                              kwargs={"owner": "busy", "ttl": timedelta(seconds=0.6)})
    runner.start()
    assert started.wait(10)
    standby: list[object] = []
    waiter = threading.Thread(target=lambda: standby.append(run_once_per_period(
        db_sessions, "digest", "2026-03-05", lambda: "twice", owner="standby", ttl=timedelta(seconds=0.6))))
    waiter.start()
    time.sleep(1.5)  # longer than the ttl: only the heartbeat keeps the standby from taking over
    assert waiter.is_alive() and standby == []
    release.set()
    runner.join(10)
    waiter.join(10)
    assert standby == [None]


def test_a_failed_job_is_recorded_and_not_rerun_in_the_period(db_sessions: sessionmaker[Session]) -> None:
    def broken() -> None:
        raise RuntimeError("smtp down")

    try:
        run_once_per_period(db_sessions, "digest", "2026-03-06", broken, owner="w1")
    except RuntimeError:
        pass
    else:
        raise AssertionError("the job's error must reach the caller")
    assert run_once_per_period(db_sessions, "digest", "2026-03-06", lambda: "again", owner="w2") is None
    with db_sessions() as session:
        (row,) = store.job_runs(session, "digest")
    assert row.status == "failed" and "smtp down" in row.error


def test_metrics_show_each_mailboxs_poll_duration_and_the_worker_that_polls_it(
    db_sessions: sessionmaker[Session],
) -> None:
    from triage.web.metrics import render_metrics

    k = keeper(db_sessions, "host-a:41")
    k.tick()
    with db_sessions() as session, session.begin():
        store.record_poll(session, "box-00", seconds=0.25)
        store.record_poll(session, "box-01", error="LOGIN failed", seconds=3.5)
    with db_sessions() as session:
        text = render_metrics(session)
    assert 'triage_mailbox_last_poll_duration_seconds{mailbox="box-00"} 0.25' in text
    assert 'triage_mailbox_last_poll_duration_seconds{mailbox="box-01"} 3.5' in text
    assert 'triage_mailbox_leased{mailbox="box-06",worker="host-a:41"} 1' in text
    assert "triage_workers 1" in text
