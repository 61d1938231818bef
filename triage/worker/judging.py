"""Judging the fetched messages: in the worker process, or in a pool of processes for a backfill.

Judging is pure (raw bytes in, `TriageResult` out) and takes most of a message's time, so a
poll with many new messages — the first poll of a full mailbox — judges them in a pool of
processes, one per CPU (`judge_processes`), while the worker stores the results in UID order,
each in its own transaction, as they come. Exactly once is untouched: only storing and filing
make a message taken, and they stay in the worker, in order. A few new messages (the everyday
case, and every IDLE wake-up) are judged in the worker itself: no start-up cost, no latency.

Pool processes are started with `spawn` (the worker has threads: fork is not safe), load the
stages once, and die with the worker (PR_SET_PDEATHSIG on Linux), so a killed worker leaves
none behind. A pool process that dies on a message (a crash in a C extension, the OOM killer)
costs that message an error result, not the poll.

In the worker process the stages are loaded once and shared by every mailbox, whose polls and
IDLE threads run at the same time; spaCy's vocabulary is not safe to change from two threads
at once, so judging in the worker is serialised by one lock (`IN_PROCESS`). It costs no
throughput: judging is pure Python under the GIL, and fetching, storing and filing overlap still.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from triage.config import MailboxConfig, Settings
from triage.logs import get_logger
from triage.pipeline import Pipeline
from triage.results import TriageResult

log = get_logger(__name__)

#: A poll with fewer messages to judge never uses the pool (below it, starting the pool and
#: loading the stages in each process costs more than it saves).
PARALLEL_MIN_MESSAGES = 200
#: CPU seconds a pool process needs before its first message: a fresh interpreter importing and
#: loading every stage, and the lazily loaded resources of its first mails (`triage bench floor`,
#: "startup": about 0.9 s import + 1.9 s load + 0.7 s first mails on the 2-core CI machine).
POOL_START_CPU_SECONDS = 4.0
#: Messages handed to a pool process at a time.
CHUNK = 8

_child_pipeline: Pipeline | None = None
_libc: object | None = None
#: Held while the worker process judges with its shared stages (see the module docstring).
IN_PROCESS = threading.Lock()


def _die_with_parent() -> None:
    """Linux: have the kernel end this process when the worker dies, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the worker died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _child_init(settings: Settings, mailbox: MailboxConfig) -> None:
    global _child_pipeline
    _die_with_parent()
    try:
        # One thread per process: the pool is the parallelism; BLAS/OpenMP threads on top of it
        # would only fight over the same cores.
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    from triage.pipeline.factory import build_pipeline

    _child_pipeline = build_pipeline(settings, mailbox)


def _child_judge(items: Sequence[tuple[bytes, str | None]]) -> list[TriageResult]:
    assert _child_pipeline is not None
    results = judge_all(_child_pipeline, items)
    release_memory()
    return results


def release_memory() -> None:
    """Hand the heap that judging freed back to the system (glibc's malloc_trim; elsewhere a no-op).

    Judging a mail allocates and frees tens of MB (parsed parts, spaCy docs, n-gram lists); glibc
    keeps the freed pages, so a worker's RSS creeps up by ~40 MB over a few hundred mails. Called
    after each chunk (~1 ms, against ~200 ms of judging), it keeps the worker near its loaded size.
    """
    global _libc
    if _libc is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            _libc = libc if hasattr(libc, "malloc_trim") else False
        except OSError:
            _libc = False
    if _libc:
        _libc.malloc_trim(0)  # type: ignore[attr-defined]


def judge_all(pipeline: Pipeline, items: Sequence[tuple[bytes, str | None]]) -> list[TriageResult]:
    """Judge several messages, in order: with `pipeline.judge_many` when the pipeline offers one
    (a stage can then batch its work, e.g. spaCy's `nlp.pipe`), else one by one."""
    judge_many = getattr(pipeline, "judge_many", None)
    if callable(judge_many) and len(items) > 1:
        try:
            results = list(judge_many(list(items)))
            if len(results) == len(items):
                return results
            log.error("judge_many returned the wrong number of results; judging one by one",
                      expected=len(items), got=len(results))
        except Exception:  # noqa: BLE001 - fall back to one by one, where each failure stays its own
            log.exception("judge_many failed; judging one by one")
    return [judge_safely(pipeline, raw, origin) for raw, origin in items]


def judge_safely(pipeline: Pipeline, raw: bytes, origin: str | None) -> TriageResult:
    """`pipeline.judge`, with the promise kept even if a stage breaks it: errors become results."""
    try:
        return pipeline.judge(raw, file=origin)
    except Exception as exc:  # noqa: BLE001 - judge() never raises; if it does, the message still goes on
        lines = str(exc).strip().splitlines()
        return TriageResult(file=origin, error=f"judge: {type(exc).__name__}: {lines[0] if lines else ''}".strip())


def default_processes(setting: int) -> int:
    """`judge_processes` as a number of processes: 0 means one per CPU."""
    return setting if setting > 0 else (os.cpu_count() or 1)


class Judge:
    """Judges one poll's messages, in order; opens a pool only for a big poll (see the module docstring)."""

    def __init__(self, settings: Settings, mailbox: MailboxConfig, pipeline: Callable[[], Pipeline],
                 processes: int = 1) -> None:
        self.settings = settings
        self.mailbox = mailbox
        self._pipeline = pipeline
        self.processes = max(1, processes)
        self._pool: ProcessPoolExecutor | None = None
        self.parallel = False
        #: CPU seconds per message judged in this process (moving average), once some were.
        self.cost_per_message: float | None = None

    def plan(self, count: int) -> None:
        """Decide for this poll: `count` messages to judge.

        The pool pays when the time it saves, count × cost × (1 − 1/processes), is more than a
        pool process takes to start (its processes start side by side). Until this worker has
        judged something itself the cost is unknown and PARALLEL_MIN_MESSAGES alone decides.
        """
        self.parallel = self.processes > 1 and count >= PARALLEL_MIN_MESSAGES and (
            self.cost_per_message is None
            or count * self.cost_per_message * (1 - 1 / self.processes) > POOL_START_CPU_SECONDS
        )

    def _measured(self, cpu_seconds: float, count: int) -> None:
        if count:
            cost = cpu_seconds / count
            previous = self.cost_per_message
            self.cost_per_message = cost if previous is None else 0.8 * previous + 0.2 * cost

    def one(self, raw: bytes, origin: str | None) -> TriageResult:
        pipeline = self._pipeline()
        with IN_PROCESS:
            started = time.thread_time()
            result = judge_safely(pipeline, raw, origin)
            self._measured(time.thread_time() - started, 1)
            return result

    def many(self, items: Sequence[tuple[bytes, str | None]]) -> Iterator[TriageResult]:
        """Results in the order of `items`, each as soon as it (and those before it) is ready."""
        if not self.parallel or len(items) < 2:
            pipeline = self._pipeline()
            for index in range(0, len(items), CHUNK):
                with IN_PROCESS:  # not held across the yield: the caller stores while others judge
                    started = time.thread_time()
                    results = judge_all(pipeline, items[index:index + CHUNK])
                    self._measured(time.thread_time() - started, len(results))
                release_memory()
                yield from results
            return
        pool = self._ensure_pool()
        chunks = [list(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]
        futures: list[Future[list[TriageResult]]] = [pool.submit(_child_judge, chunk) for chunk in chunks]
        try:
            for index, chunk in enumerate(chunks):
                try:
                    results = futures[index].result()
                except BrokenProcessPool:
                    # A pool process died, on this chunk or a later one: judge this chunk one
                    # message at a time in single-use processes, so that only a message that
                    # kills its judge fails; the later chunks go to a new pool.
                    self.close()
                    results = self._isolated(chunk)
                    pool = self._ensure_pool()
                    for later in range(index + 1, len(chunks)):
                        futures[later] = pool.submit(_child_judge, chunks[later])
                yield from results
        finally:
            for future in futures:
                future.cancel()

    def _isolated(self, chunk: Sequence[tuple[bytes, str | None]]) -> list[TriageResult]:
        """Judge one message at a time in a pool of one; a message that kills it gets an error."""
        results: list[TriageResult] = []
        single: ProcessPoolExecutor | None = None
        try:
            for raw, origin in chunk:
                if single is None:
                    single = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_child_init, initargs=(self.settings, self.mailbox))
                try:
                    results.extend(single.submit(_child_judge, [(raw, origin)]).result())
                except BrokenProcessPool:
                    log.error("a judging process died on a message", mailbox=self.mailbox.name, origin=origin)
                    results.append(TriageResult(file=origin, error="judge: the judging process died on this message"))
                    single.shutdown(wait=False, cancel_futures=True)
                    single = None
        finally:
            if single is not None:
                single.shutdown(wait=False, cancel_futures=True)
        return results

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            log.info("judging in parallel", mailbox=self.mailbox.name, processes=self.processes)
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_init, initargs=(self.settings, self.mailbox),
            )
        return self._pool

    def close(self) -> None:
        """Stop the pool (after each poll: its processes hold the models in memory)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
