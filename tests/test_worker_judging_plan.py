"""When a poll is judged in a pool of processes: only when the time it saves beats starting it."""

from __future__ import annotations

from triage.config import MailboxConfig, Settings
from triage.pipeline import Pipeline
from triage.pipeline.stages import NullExtractor
from triage.classify.routing import JurisdictionRouter
from triage.worker import judging
from triage.worker.judging import Judge


def _judge(processes: int) -> Judge:
    pipeline = Pipeline(router=JurisdictionRouter(None), extractor=NullExtractor())
    return Judge(Settings(), MailboxConfig(), lambda: pipeline, processes)


def test_until_the_cost_is_known_the_message_count_alone_decides():
    judge = _judge(2)
    judge.plan(judging.PARALLEL_MIN_MESSAGES - 1)
    assert not judge.parallel
    judge.plan(judging.PARALLEL_MIN_MESSAGES)
    assert judge.parallel


def test_one_process_never_opens_a_pool():
    judge = _judge(1)
    judge.plan(100_000)
    assert not judge.parallel


def test_a_known_cost_decides_whether_the_pool_pays(monkeypatch):
    monkeypatch.setattr(judging, "POOL_START_CPU_SECONDS", 4.0)
    judge = _judge(2)
    judge.cost_per_message = 0.02  # 300 × 0.02 × (1 − 1/2) = 3 s saved < 4 s to start
    judge.plan(300)
    assert not judge.parallel
    judge.plan(500)  # 5 s saved
    assert judge.parallel


def test_judging_in_the_worker_measures_the_cost():
    judge = _judge(2)
    results = list(judge.many([(b"Subject: a\r\n\r\nHej\r\n", "a"), (b"Subject: b\r\n\r\nHej\r\n", "b")]))
    assert [r.file for r in results] == ["a", "b"]
    assert judge.cost_per_message is not None and judge.cost_per_message >= 0.0
