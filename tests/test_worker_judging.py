"""Judging a backfill in a pool of processes: same results, same order, exactly once, crash-proof."""

from __future__ import annotations

import os
import signal

import pytest

from tests.support.intake import GARBAGE, db, mail, runner  # noqa: F401 - fixtures
from tests.test_worker_unit import FakeSource
from triage.worker import judging

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def small_backfill(monkeypatch):
    monkeypatch.setattr(judging, "PARALLEL_MIN_MESSAGES", 10)
    monkeypatch.setattr(judging, "CHUNK", 3)


def messages(count: int) -> dict[int, bytes]:
    out = {uid: mail(subject=f"Inbjudan {uid}") for uid in range(1, count + 1)}
    out[count // 2] = GARBAGE
    return out


def stored(db):
    return [(m.uid, m.subject, m.status, (m.error or "")[:20]) for m in db.messages()]


def test_a_pool_judges_like_the_worker_and_a_judge_that_dies_costs_no_message(db, tmp_path):
    """One test for both, because every pool process loads the models (seconds each)."""
    from tests.support.intake import sqlite_db

    source = FakeSource(messages=messages(30))
    worker = runner(db, source.config, source=source, judge_processes=2)
    killed = []

    def kill_a_judge(session, message, result):
        pool = worker._judge._pool
        if message.uid == 2 and pool is not None and not killed:
            pid = next(iter(pool._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    worker.hooks = [kill_a_judge]
    report = worker.poll()
    assert killed and report.error is None
    rows = db.messages()
    assert [m.uid for m in rows] == list(range(1, 31))
    assert sum(m.status == "failed" for m in rows) == 1  # only the garbage, not the messages the dead process held
    assert all(m.attempts == 1 for m in rows)

    alone_db = sqlite_db(tmp_path / "alone")
    alone_source = FakeSource(messages=messages(30))
    runner(alone_db, alone_source.config, source=alone_source, judge_processes=1).poll()
    assert stored(db) == stored(alone_db)  # the same judgements as in the worker itself, in UID order
