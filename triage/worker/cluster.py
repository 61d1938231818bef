"""Several workers on one database: each mailbox polled by one worker at a time, jobs once per period.

**Mailboxes** (`MailboxLeases`). Every worker holds the lease `worker:<id>` (it is alive) and
the leases `mailbox:<name>` of the mailboxes it polls, all rows of the `leases` table with an
expiry. A side thread renews them every `ttl/3` in one transaction and, when the worker holds
fewer than its fair share (`fair_share`: mailboxes / live workers, the remainder going to the
first workers by id, so the shares add up) claims free or expired ones with
`SELECT … FOR UPDATE SKIP LOCKED` (`store.claim_free_leases`); one that holds more hands the
surplus over (stops its runner after the current message, then frees the lease). A worker that
dies stops renewing: after `ttl` its mailboxes are free and the others take them over, and their
runners recover whatever it left half done (a message stored but not filed is filed; one not
stored is fetched again). A clean stop frees the leases at once. A lease renewal that fails for
longer than two thirds of `ttl` (the database is away) counts as losing every mailbox, so a worker
never goes on polling a mailbox another worker may have taken. Clocks of the workers' machines
must agree to well within `ttl/3` (NTP).

**Jobs** (`run_once_per_period`). The digest and the purge fire in every worker's own in-memory
APScheduler (never a shared job store). The run for (job, period) is a row of `job_runs` whose
primary key is the "once": the worker whose INSERT wins runs the job and beats the row's heartbeat;
the others wait until it is done, or take the run over when its heartbeat stops (the runner died).
The digest and the purge are idempotent in the database as well (one digest per mailbox and
period, each delivery claimed once; a second purge deletes nothing), so even a run taken over
from a worker that was only paused costs time, never a duplicate.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from triage.db import store
from triage.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")
#: How long a lease lasts without renewal: a dead worker's mailboxes wait at most this long.
DEFAULT_TTL = timedelta(seconds=90)
MAILBOX_PREFIX = "mailbox:"
WORKER_PREFIX = "worker:"
#: The lease row of a worker that died is deleted after this many lease periods.
FORGET_AFTER_TTLS = 20


def worker_id() -> str:
    """This process in the cluster: host and pid (unique while it lives)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def fair_share(mailboxes: int, workers: int, rank: int = 0) -> int:
    """How many mailboxes the live worker at `rank` (0-based, by worker id) of `workers` polls.

    The first `mailboxes % workers` get one more than the others, so the shares add up to the
    number of mailboxes exactly: 20 over 3 workers is 7, 7, 6.
    """
    workers = max(1, workers)
    return mailboxes // workers + (1 if min(rank, workers - 1) < mailboxes % workers else 0)


class MailboxLeases:
    """Which of its mailboxes this worker polls: its fair share, leased in the database.

    `holds(name)` is what the scheduler asks before each poll. `on_gain(name)` is called when a
    mailbox becomes ours (poll it now); `on_lose(name)` when it stops being ours — it must stop
    the mailbox's runner and return only when no poll of it runs any more, because for a
    hand-over the lease is freed right after it returns. Call `start()` once, `stop()` at the end.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        owner: str,
        mailboxes: Iterable[str],
        ttl: timedelta = DEFAULT_TTL,
        *,
        on_gain: Callable[[str], None] = lambda name: None,
        on_lose: Callable[[str], None] = lambda name: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions, self.owner, self.ttl = sessions, owner, ttl
        self.mailboxes = list(dict.fromkeys(mailboxes))
        self.on_gain, self.on_lose, self._clock = on_gain, on_lose, clock
        self._lock = threading.RLock()
        self._held: set[str] = set()
        #: Still leased by us while their runner finishes; polled by nobody.
        self._draining: set[str] = set()
        self._valid_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drains: list[threading.Thread] = []
        self._rows_made = False
        self.live_workers = 0

    @property
    def worker_lease(self) -> str:
        return f"{WORKER_PREFIX}{self.owner}"

    @staticmethod
    def lease_name(mailbox: str) -> str:
        return f"{MAILBOX_PREFIX}{mailbox}"

    # --- asking -----------------------------------------------------------------------------

    def holds(self, mailbox: str) -> bool:
        """Whether this worker may poll `mailbox` now (leased, renewed recently, not handed over)."""
        with self._lock:
            return mailbox in self._held and self._clock() < self._valid_until

    def held(self) -> set[str]:
        """The mailboxes this worker polls now."""
        with self._lock:
            return set(self._held) if self._clock() < self._valid_until else set()

    def settle(self, timeout: float | None = None) -> None:
        """Wait until the hand-overs and lease losses under way have stopped their runners."""
        with self._lock:
            threads = list(self._drains)
        for thread in threads:
            thread.join(timeout)

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Take the first share now (the caller's first polls find it), then renew from a thread."""
        self.tick()
        self._thread = threading.Thread(target=self._main, name="leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing and free every lease (call after the runners have stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.ttl.total_seconds())
        self.settle(self.ttl.total_seconds())
        with self._lock:
            names = [self.lease_name(m) for m in self._held | self._draining]
            self._held.clear()
            self._draining.clear()
            self._valid_until = 0.0
        try:
            with self.sessions() as session, session.begin():
                store.release_leases(session, [*names, self.worker_lease], self.owner)
        except Exception as exc:  # noqa: BLE001 - unreleased leases simply expire
            log.warning("leases not released; they expire", error=str(exc), expire_s=self.ttl.total_seconds())
            return
        log.info("leases released", worker=self.owner, mailboxes=len(names))

    def _main(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a bug here must not end the renewals silently
                log.exception("lease round failed")

    # --- one round --------------------------------------------------------------------------

    def tick(self) -> None:
        """Renew what we hold, count live workers, claim up to our share or hand the surplus over."""
        started = self._clock()
        with self._lock:
            mine = self._held | self._draining
            active = set(self._held)
        try:
            with self.sessions() as session, session.begin():
                if not self._rows_made:
                    store.ensure_leases(session, [self.lease_name(m) for m in self.mailboxes])
                store.acquire_lease(session, self.worker_lease, self.owner, self.ttl)
                kept = {name[len(MAILBOX_PREFIX):] for name in
                        store.renew_leases(session, [self.lease_name(m) for m in mine], self.owner, self.ttl)}
                workers = sorted(store.live_leases(session, WORKER_PREFIX))
                rank = workers.index(self.worker_lease) if self.worker_lease in workers else len(workers)
                share = fair_share(len(self.mailboxes), len(workers), rank)
                want = share - len(active & kept)
                gained: list[tuple[str, str | None]] = []
                if want > 0 and not self._stop.is_set():
                    candidates = [self.lease_name(m) for m in self.mailboxes if m not in mine]
                    gained = store.claim_free_leases(session, candidates, self.owner, self.ttl, limit=want)
                store.forget_dead_leases(session, WORKER_PREFIX, self.ttl * FORGET_AFTER_TTLS)
            self._rows_made = True
        except Exception as exc:  # noqa: BLE001 - the database is away: the expiry decides
            log.warning("lease renewal failed", worker=self.owner, error=str(exc).splitlines()[0] if str(exc) else "")
            if self._clock() >= self._valid_until and active:
                self._lose(active, reason="renewal failed")
            return
        self.live_workers = len(workers)
        lost = mine - kept
        with self._lock:
            self._valid_until = started + self.ttl.total_seconds() * 2 / 3
            self._held -= lost
            self._draining -= lost
            new = [name[len(MAILBOX_PREFIX):] for name, _previous in gained]
            self._held.update(new)
            surplus = sorted(self._held)[share:] if len(self._held) > share else []
            self._held.difference_update(surplus)
            self._draining.update(surplus)
        if lost:
            self._lose(lost, reason="taken by another worker")
        for name, previous in gained:
            mailbox = name[len(MAILBOX_PREFIX):]
            if previous is not None and previous != self.owner:
                log.warning("mailbox taken over from a worker whose lease ran out", mailbox=mailbox,
                            previous=previous, worker=self.owner)
            else:
                log.info("mailbox leased", mailbox=mailbox, worker=self.owner)
            self._call(self.on_gain, mailbox)
        for mailbox in surplus:
            self._spawn(self._hand_over, (mailbox,), f"hand-over:{mailbox}")

    def _lose(self, mailboxes: set[str], *, reason: str) -> None:
        with self._lock:
            self._held -= mailboxes
            self._draining -= mailboxes
        for mailbox in sorted(mailboxes):
            log.error("mailbox lease lost: stopping its polls", mailbox=mailbox, worker=self.owner, reason=reason)
            # In a thread of its own: stopping a runner waits for its current message, and the
            # renewals of the other leases must not wait for that.
            self._spawn(self._call, (self.on_lose, mailbox), f"lost:{mailbox}")

    def _spawn(self, target: Callable[..., None], args: tuple, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._drains = [t for t in self._drains if t.is_alive()] + [thread]
        thread.start()

    def _hand_over(self, mailbox: str) -> None:
        """Another worker joined: stop polling this mailbox, then free its lease for it."""
        self._call(self.on_lose, mailbox)
        with self._lock:
            if mailbox not in self._draining:
                return  # lost meanwhile, or stop() released it
            self._draining.discard(mailbox)
        try:
            with self.sessions() as session, session.begin():
                store.release_leases(session, [self.lease_name(mailbox)], self.owner)
            log.info("mailbox handed over to a new worker", mailbox=mailbox, worker=self.owner)
        except Exception as exc:  # noqa: BLE001 - it expires instead
            log.warning("lease not released; it expires", mailbox=mailbox, error=str(exc))

    @staticmethod
    def _call(callback: Callable[[str], None], mailbox: str) -> None:
        try:
            callback(mailbox)
        except Exception:  # noqa: BLE001 - the lease bookkeeping goes on
            log.exception("lease callback failed", mailbox=mailbox)


def run_once_per_period(
    sessions: sessionmaker[Session],
    job: str,
    period: str,
    work: Callable[[], T],
    *,
    owner: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    stop: threading.Event | None = None,
) -> T | None:
    """Run `work` if this worker wins the run of (`job`, `period`); None when it ran elsewhere.

    A worker that finds the run under way waits (checking every ttl/3, or until `stop`) until it
    is done, and takes it over when its heartbeat is older than `ttl` (the worker running it
    died). The winner renews the heartbeat every ttl/3 while `work` runs, and records the run
    done, or failed with the error (`work` raising is re-raised after that).
    """
    owner = owner or worker_id()
    stop = stop or threading.Event()
    step = max(0.05, ttl.total_seconds() / 3)
    while True:
        with sessions() as session, session.begin():
            state = store.claim_job_run(session, job, period, owner, stale_after=ttl)
        if state == "claimed":
            break
        if state == "done":
            log.info("cluster job already run for this period", job=job, period=period)
            return None
        log.info("cluster job running in another worker: standing by", job=job, period=period)
        if stop.wait(step):
            return None

    beating = threading.Event()

    def beat() -> None:
        while not beating.wait(step):
            try:
                with sessions() as session, session.begin():
                    if not store.beat_job_run(session, job, period, owner):
                        log.error("cluster job taken over by another worker", job=job, period=period)
                        return
            except Exception as exc:  # noqa: BLE001 - the database is away: the next beat may do
                log.warning("cluster job heartbeat failed", job=job, period=period, error=str(exc))

    heart = threading.Thread(target=beat, name=f"job:{job}", daemon=True)
    heart.start()
    log.info("cluster job started", job=job, period=period, worker=owner)
    error: str | None = None
    try:
        return work()
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        beating.set()
        heart.join(step * 3)
        try:
            with sessions() as session, session.begin():
                store.finish_job_run(session, job, period, owner, error=error)
        except Exception as exc:  # noqa: BLE001 - the run stays "running" and is taken over after ttl
            log.warning("cluster job end not recorded", job=job, period=period, error=str(exc))
        log.info("cluster job finished", job=job, period=period, worker=owner, error=error)
