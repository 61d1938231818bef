"""The long-running service behind `triage run`: APScheduler 3 jobs and IDLE threads.

- one **poll job** per mailbox, every `poll_interval_seconds` (first run at start-up);
- for an IMAP mailbox with `idle = true` whose server has IDLE, an **IDLE thread** takes the
  mailbox over: it polls, then waits in IDLE (re-issued every `idle_renew_seconds`); the poll
  job then only wakes it, so the periodic poll remains as a safety net;
- the **daily digest** at `digest.time` and the **retention purge** at PURGE_TIME, both in
  `digest.timezone` (`triage.worker.jobs`); not scheduled in a dry run, which must not write.

Shutdown (SIGTERM, SIGINT, or `Service.shutdown()`) sets one stop event: each runner finishes
the message it is on (stored and filed), IDLE is ended with DONE, running jobs are waited for,
connections are closed. A mailbox whose credentials are refused is stopped on its own, with a
clear error in the log; the others go on. When every mailbox is stopped, the service ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from triage.config import ConfigError, Settings
from triage.logs import get_logger
from triage.worker import jobs
from triage.worker.hooks import AfterStoreHook
from triage.worker.runner import MailboxRunner, open_database, selected_mailboxes

log = get_logger(__name__)

#: When the retention purge runs each day, in the digest's time zone: a quiet hour.
PURGE_TIME = "03:30"
#: How long shutdown waits for an IDLE thread to end its current message and IDLE.
THREAD_JOIN_SECONDS = 60


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
        self.runners: dict[str, MailboxRunner] = {}
        self.idle_threads: dict[str, threading.Thread] = {}
        self.scheduler: BackgroundScheduler | None = None
        self._engine: Any = None
        self._started = False

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Open the database, make the runners, start the scheduler and the IDLE threads."""
        try:
            self._start()
        except BaseException:
            self.shutdown()
            raise

    def _start(self) -> None:
        self._engine, sessions = open_database(self.settings)
        for mailbox in self.mailboxes:
            runner = MailboxRunner(
                self.settings, mailbox, sessions=sessions, hooks=self.hooks, dry_run=self.dry_run, stop=self.stop,
                environ=self.environ,
            )
            runner.pipeline  # noqa: B018 - load the stages at start-up; WorkerError if they cannot be
            self.runners[mailbox.name] = runner
        timezone = self.settings.digest.timezone
        self.scheduler = BackgroundScheduler(
            timezone=timezone,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.runners) + 2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        interval = max(1, int(self.settings.poll_interval_seconds))
        for name, runner in self.runners.items():
            idle = runner.mailbox.kind == "imap" and runner.mailbox.idle
            if idle:
                thread = threading.Thread(target=self._idle_main, args=(runner, interval), name=f"idle:{name}", daemon=True)
                self.idle_threads[name] = thread
            # With IDLE the thread polls first; the job is the safety net from one interval on.
            first_run = None if idle else "now"
            self.scheduler.add_job(
                self._poll_job, IntervalTrigger(seconds=interval, timezone=timezone), args=[name], id=f"poll:{name}",
                name=f"poll {name}", **({"next_run_time": _now(timezone)} if first_run else {}),
            )
        if not self.dry_run:
            hour, minute = _hour_minute(self.settings.digest.time, "digest.time")
            self.scheduler.add_job(jobs.run_digest, CronTrigger(hour=hour, minute=minute, timezone=timezone),
                                   args=[self.settings], id="digest", name="daily digest")
            hour, minute = _hour_minute(PURGE_TIME, "purge time")
            self.scheduler.add_job(jobs.run_purge, CronTrigger(hour=hour, minute=minute, timezone=timezone),
                                   args=[self.settings], id="purge", name="retention purge")
        self.scheduler.start()
        for thread in self.idle_threads.values():
            thread.start()
        self._started = True
        log.info("worker started", mailboxes=list(self.runners), poll_interval_s=interval, dry_run=self.dry_run,
                 idle=[name for name in self.idle_threads])

    def shutdown(self) -> None:
        """Stop after the current message of each mailbox; close everything. Safe to call twice."""
        self.stop.set()
        for runner in self.runners.values():
            runner.wake.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        for thread in self.idle_threads.values():
            if thread.is_alive():
                thread.join(THREAD_JOIN_SECONDS)
        for runner in self.runners.values():
            runner.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._started:
            log.info("worker stopped")
            self._started = False

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
        self.stop.set()
        for runner in self.runners.values():
            runner.wake.set()

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
        thread = self.idle_threads.get(name)
        if thread is not None and thread.is_alive():
            runner.wake.set()  # the IDLE thread owns the connection: ask it to poll now
            return
        runner.poll()

    def _idle_main(self, runner: MailboxRunner, interval: int) -> None:
        try:
            runner.serve_idle(self.stop, poll_interval=interval)
        except Exception:  # noqa: BLE001 - the poll job goes on polling this mailbox
            log.exception("IDLE thread failed; falling back to polling", mailbox=runner.name)


def _now(timezone: str) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone))
