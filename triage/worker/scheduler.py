"""The long-running service behind `triage run`: APScheduler 3 jobs, IDLE threads, leases.

- one **poll job** per mailbox, every `poll_interval_seconds` (first run at start-up);
- for an IMAP mailbox with `idle = true` whose server has IDLE, an **IDLE thread** takes the
  mailbox over: it polls, then waits in IDLE (re-issued every `idle_renew_seconds`); the poll
  job then only wakes it, so the periodic poll remains as a safety net;
- the **daily digest** at `digest.time` and the **retention purge** at PURGE_TIME, both in
  `digest.timezone` (`triage.worker.jobs`); not scheduled in a dry run, which must not write.
  A worker that starts within MISFIRE_GRACE_SECONDS after one of those times runs it at once,
  as APScheduler does for a job it was late for.

**Several workers** share the database (`triage.worker.cluster`): each schedule is this
process's own, in memory (never a shared APScheduler job store). A poll runs only for a mailbox
whose lease this worker holds (`MailboxLeases`: its fair share, renewed every third of
`cluster.lease_seconds`, taken over when a worker dies, handed over when one joins); the IDLE
thread of a mailbox runs only while the lease is held. The digest and the purge fire in every
worker and run in one (`run_once_per_period`). A single worker (SQLite included) goes the same
way and simply holds every lease. A dry run takes no lease: it changes nothing.

Shutdown (SIGTERM, SIGINT, or `Service.shutdown()`) sets one stop event: each runner finishes
the message it is on (stored and filed), IDLE is ended with DONE, running jobs are waited for,
connections are closed, then the leases are freed so another worker can take over at once. A
mailbox whose credentials are refused is stopped on its own, with a clear error in the log; the
others go on. When every mailbox is stopped, the service ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from triage.config import ConfigError, Settings
from triage.logs import get_logger
from triage.worker import jobs
from triage.worker.cluster import MailboxLeases, worker_id
from triage.worker.hooks import AfterStoreHook
from triage.worker.runner import MailboxRunner, open_database, selected_mailboxes

log = get_logger(__name__)

#: When the retention purge runs each day, in the digest's time zone: a quiet hour.
PURGE_TIME = "03:30"
#: How long shutdown waits for an IDLE thread to end its current message and IDLE.
THREAD_JOIN_SECONDS = 60
#: A job fired this late still runs (APScheduler's misfire grace); a worker started this soon
#: after the digest or purge time runs it at start-up.
MISFIRE_GRACE_SECONDS = 300


def _hour_minute(value: str, where: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in value.split(":"))
    except ValueError:
        raise ConfigError(f"{where} must be HH:MM, not {value!r}") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigError(f"{where} must be HH:MM, not {value!r}")
    return hour, minute


class Service:
    """The scheduled worker for the configured mailboxes (or one of them)."""

    def __init__(
        self,
        settings: Settings,
        *,
        mailbox_name: str | None = None,
        dry_run: bool = False,
        hooks: Sequence[AfterStoreHook] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.mailboxes = selected_mailboxes(settings, mailbox_name)
        self.dry_run = dry_run
        self.hooks = hooks
        self.environ = environ
        self.stop = threading.Event()
        self.worker_id = settings.cluster.worker_id or worker_id()
        self.runners: dict[str, MailboxRunner] = {}
        self.idle_threads: dict[str, threading.Thread] = {}
        self.scheduler: BackgroundScheduler | None = None
        #: The mailbox leases of this worker; None in a dry run (it changes nothing, so it needs none).
        self.leases: MailboxLeases | None = None
        self._sessions: Any = None
        self._engine: Any = None
        self._started = False
        self._interval = max(1, int(settings.poll_interval_seconds))
        self._threads_lock = threading.Lock()
        #: Mailboxes whose server turned out to have no IDLE: polled by the poll job only.
        self._no_idle: set[str] = set()

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Open the database, make the runners, take the leases, start the scheduler."""
        try:
            self._start()
        except BaseException:
            self.shutdown()
            raise

    def _start(self) -> None:
        self._engine, sessions = open_database(self.settings)
        self._sessions = sessions
        for mailbox in self.mailboxes:
            # Each runner has its own stop event: set for all at shutdown, for one when its lease goes.
            runner = MailboxRunner(
                self.settings, mailbox, sessions=sessions, hooks=self.hooks, dry_run=self.dry_run,
                stop=threading.Event(), environ=self.environ,
            )
            runner.pipeline  # noqa: B018 - load the stages at start-up; WorkerError if they cannot be
            self.runners[mailbox.name] = runner
        timezone = self.settings.digest.timezone
        self.scheduler = BackgroundScheduler(
            timezone=timezone,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.runners) + 4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        if not self.dry_run:
            self.leases = MailboxLeases(
                sessions, self.worker_id, list(self.runners), timedelta(seconds=self.settings.cluster.lease_seconds),
                on_gain=self._on_gain, on_lose=self._on_lose,
            )
            self.leases.start()
        interval = self._interval
        for name in self.runners:
            self.scheduler.add_job(
                self._poll_job, IntervalTrigger(seconds=interval, timezone=timezone), args=[name], id=f"poll:{name}",
                name=f"poll {name}", next_run_time=datetime.now(ZoneInfo(timezone)),
            )
        if not self.dry_run:
            for job_id, when, where, func, label in (
                ("digest", self.settings.digest.time, "digest.time", self._digest_job, "daily digest"),
                ("purge", PURGE_TIME, "purge time", self._purge_job, "retention purge"),
            ):
                hour, minute = _hour_minute(when, where)
                self.scheduler.add_job(func, CronTrigger(hour=hour, minute=minute, timezone=timezone),
                                       id=job_id, name=label)
                if _just_missed(hour, minute, timezone):
                    self.scheduler.add_job(func, id=f"{job_id}:late-start", name=f"{label} (late start)")
        self.scheduler.start()
        self._started = True
        log.info("worker started", worker=self.worker_id, mailboxes=list(self.runners), poll_interval_s=interval,
                 dry_run=self.dry_run, leased=sorted(self.leases.held()) if self.leases else list(self.runners),
                 lease_s=self.settings.cluster.lease_seconds)

    def shutdown(self) -> None:
        """Stop after the current message of each mailbox; close everything; free the leases. Safe twice."""
        self._stop_all()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        for thread in list(self.idle_threads.values()):
            if thread.is_alive():
                thread.join(THREAD_JOIN_SECONDS)
        for runner in self.runners.values():
            runner.close()
        if self.leases is not None:
            self.leases.stop()  # after the runners: nobody takes a mailbox we still work in
            self.leases = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._started:
            log.info("worker stopped", worker=self.worker_id)
            self._started = False

    def _stop_all(self) -> None:
        self.stop.set()
        for runner in self.runners.values():
            runner.stop.set()
            runner.wake.set()

    def all_stopped(self) -> bool:
        """Every mailbox is stopped (refused credentials or unusable config)."""
        return bool(self.runners) and all(r.stopped_reason is not None for r in self.runners.values())

    def run_forever(self, *, handle_signals: bool = True) -> int:
        """Start, wait for SIGTERM/SIGINT (or every mailbox stopped), shut down; the exit status."""
        previous: dict[int, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self.start()
            while not self.stop.wait(1.0):
                if self.all_stopped():
                    log.error("every mailbox is stopped; the worker ends",
                              reasons={n: r.stopped_reason for n, r in self.runners.items()})
                    return 1
            return 0
        finally:
            self.shutdown()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        log.info("shutdown requested: finishing the current message", signal=signal.Signals(signum).name)
        self._stop_all()

    # --- leases ------------------------------------------------------------------------------

    def holds(self, name: str) -> bool:
        """Whether this worker polls `name` now (always, in a dry run)."""
        return self.leases is None or self.leases.holds(name)

    def _on_gain(self, name: str) -> None:
        """A mailbox became ours (start-up, a dead worker's, a hand-over): poll it now."""
        if not self._resume(self.runners[name]):
            return
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.add_job(self._poll_job, args=[name], id=f"gained:{name}", name=f"first poll {name}",
                                   replace_existing=True)

    def _on_lose(self, name: str) -> None:
        """A mailbox stopped being ours: end its IDLE and its poll after the current message."""
        runner = self.runners[name]
        runner.stop.set()
        runner.wake.set()
        thread = self.idle_threads.get(name)
        if thread is not None and thread is not threading.current_thread():
            thread.join(THREAD_JOIN_SECONDS)
        runner.quiesce()

    # --- jobs --------------------------------------------------------------------------------

    def _poll_job(self, name: str) -> None:
        runner = self.runners[name]
        if self.stop.is_set():
            return
        if runner.stopped_reason is not None:
            if self.scheduler is not None:
                try:
                    self.scheduler.remove_job(f"poll:{name}")
                except Exception:  # noqa: BLE001 - already removed
                    pass
            return
        if not self.holds(name):
            return  # another worker polls it
        if runner.mailbox.kind == "imap" and runner.mailbox.idle and name not in self._no_idle:
            with self._threads_lock:
                thread = self.idle_threads.get(name)
                if thread is not None and thread.is_alive():
                    runner.wake.set()  # the IDLE thread owns the connection: ask it to poll now
                    return
                if not self._resume(runner):
                    return
                thread = threading.Thread(target=self._idle_main, args=(runner,), name=f"idle:{name}", daemon=True)
                self.idle_threads[name] = thread
                thread.start()
            return
        if self._resume(runner):
            runner.poll()

    def _resume(self, runner: MailboxRunner) -> bool:
        """Let a runner whose lease we hold work again (after a loss); False when shutting down."""
        runner.stop.clear()
        if self.stop.is_set():
            runner.stop.set()
            return False
        return True

    def _idle_main(self, runner: MailboxRunner) -> None:
        try:
            runner.serve_idle(runner.stop, poll_interval=self._interval)
        except Exception:  # noqa: BLE001 - the poll job goes on polling this mailbox
            log.exception("IDLE thread failed; falling back to polling", mailbox=runner.name)
            self._no_idle.add(runner.name)
            return
        if not runner.stop.is_set() and runner.stopped_reason is None:
            self._no_idle.add(runner.name)  # the server has no IDLE: the poll job polls from now on

    def _digest_job(self) -> None:
        jobs.cluster_digest(self.settings, self._sessions, owner=self.worker_id, stop=self.stop)

    def _purge_job(self) -> None:
        jobs.cluster_purge(self.settings, self._sessions, owner=self.worker_id, stop=self.stop)


def _just_missed(hour: int, minute: int, timezone: str, now: datetime | None = None) -> bool:
    """Whether today's HH:MM in `timezone` passed less than MISFIRE_GRACE_SECONDS ago."""
    zone = ZoneInfo(timezone)
    now = (now or datetime.now(zone)).astimezone(zone)
    scheduled = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return timedelta(0) <= now - scheduled <= timedelta(seconds=MISFIRE_GRACE_SECONDS)
