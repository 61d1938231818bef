"""Several workers on one PostgreSQL: each mailbox polled by one worker at a time, jobs once.

Leases are rows in the `leases` table (`triage.db.store.acquire_lease/release_lease/lease_holder`):
a conditional UPDATE takes a lease that is free, ours, or expired, so two workers can never hold
it at once, on PostgreSQL as on SQLite. A worker holds `mailbox:<name>` while it polls that
mailbox and renews it every `ttl/3` from a side thread; if the worker dies, the lease expires
after `ttl` and the next worker to ask takes the mailbox over. Cluster-wide jobs (digest, purge)
take `job:<name>` the same way, so however many workers fire their own in-memory schedule
(never a shared APScheduler job store), one of them runs the job. The digest and the purge are
also idempotent in the database (a digest is made once per mailbox and period; a second purge
deletes nothing), so a lease lost to a very long pause costs time, never a duplicate.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from triage.db import store
from triage.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")
#: How long a lease lasts without renewal: a dead worker's mailboxes wait at most this long.
DEFAULT_TTL = timedelta(seconds=90)


def worker_id() -> str:
    """This process in the cluster: host and pid (unique while it lives)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Pollable(Protocol):
    name: str

    def poll(self) -> Any: ...


class Lease:
    """One named lease, taken and renewed for `owner`; use as `with lease: …` only after `acquire()`."""

    def __init__(self, sessions: sessionmaker[Session], name: str, owner: str, ttl: timedelta = DEFAULT_TTL) -> None:
        self.sessions, self.name, self.owner, self.ttl = sessions, name, owner, ttl
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Set when a renewal failed: the work under the lease should stop at the next message.
        self.lost = threading.Event()

    def acquire(self) -> bool:
        """Take or renew the lease now; False when another worker holds it."""
        with self.sessions() as session, session.begin():
            return store.acquire_lease(session, self.name, self.owner, self.ttl)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl.total_seconds())
        try:
            with self.sessions() as session, session.begin():
                store.release_lease(session, self.name, self.owner)
        except Exception:  # noqa: BLE001 - an unreleased lease simply expires
            log.warning("lease not released, it will expire", lease=self.name)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                if not self.acquire():
                    self.lost.set()
                    log.error("lease taken over by another worker", lease=self.name)
                    return
            except Exception as exc:  # noqa: BLE001 - the database is away: expiry decides
                log.warning("lease renewal failed", lease=self.name, error=str(exc))

    def __enter__(self) -> Lease:
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name=f"lease:{self.name}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LeasedRunner:
    """Wraps a MailboxRunner: `poll()` polls only while this worker holds the mailbox's lease.

    Returns None (and does nothing) when another worker holds it. The runner's own `stop`
    event is set if the lease is lost mid-poll, so it ends after the message it is on.
    """

    def __init__(self, runner: Pollable, sessions: sessionmaker[Session], *, owner: str | None = None,
                 ttl: timedelta = DEFAULT_TTL) -> None:
        self.runner = runner
        self.name = runner.name
        self.lease = Lease(sessions, f"mailbox:{runner.name}", owner or worker_id(), ttl)

    def poll(self) -> Any:
        if not self.lease.acquire():
            return None
        with self.lease:
            return self.runner.poll()


def once_per_cluster(sessions: sessionmaker[Session], job: str, work: Callable[[], T], *, owner: str | None = None,
                     ttl: timedelta = timedelta(hours=1)) -> T | None:
    """Run `work` if this worker gets the lease `job:<job>`; None when another worker runs it."""
    lease = Lease(sessions, f"job:{job}", owner or worker_id(), ttl)
    if not lease.acquire():
        log.info("cluster job runs elsewhere", job=job)
        return None
    with lease:
        return work()
