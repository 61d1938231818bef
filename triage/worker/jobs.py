"""The scheduled jobs besides polling: the daily digest and the retention purge.

The scheduler of every worker fires these at their times; `cluster_digest` and `cluster_purge`
let one worker of the cluster run them per period (`triage.worker.cluster.run_once_per_period`,
a row of `job_runs` per job and day). The digest is `triage.outbound.digest` (made once per
mailbox and day, delivered once per target; a missed day is caught up). The purge deletes what
is older than `retention_days` (`triage purge` runs the same code by hand).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings
from triage.logs import get_logger

log = get_logger(__name__)

DIGEST_JOB = "digest"
PURGE_JOB = "purge"


def job_period(settings: Settings, now: datetime | None = None) -> str:
    """The period of a daily cluster job fired `now`: the day in digest.timezone ("2026-03-03").

    The same label as the digest's own period, so the run row and the digests it makes agree.
    """
    from triage.db.schema import utcnow

    return (now or utcnow()).astimezone(ZoneInfo(settings.digest.timezone)).date().isoformat()


def cluster_digest(settings: Settings, sessions: sessionmaker[Session], *, owner: str,
                   stop: threading.Event | None = None, now: datetime | None = None) -> bool:
    """The scheduled digest: run by one worker of the cluster per day; True when this one ran it."""
    from triage.worker.cluster import run_once_per_period

    ran = run_once_per_period(sessions, DIGEST_JOB, job_period(settings, now),
                              lambda: run_digest(settings, sessions=sessions) or True,
                              owner=owner, ttl=timedelta(seconds=settings.cluster.lease_seconds), stop=stop)
    return bool(ran)


def cluster_purge(settings: Settings, sessions: sessionmaker[Session], *, owner: str,
                  stop: threading.Event | None = None, now: datetime | None = None) -> bool:
    """The scheduled purge: run by one worker of the cluster per day; True when this one ran it."""
    from triage.worker.cluster import run_once_per_period

    ran = run_once_per_period(sessions, PURGE_JOB, job_period(settings, now),
                              lambda: run_purge(settings, owner=owner) or True,
                              owner=owner, ttl=timedelta(seconds=settings.cluster.lease_seconds), stop=stop)
    return bool(ran)


def run_digest(settings: Settings, *, sessions: sessionmaker[Session] | None = None) -> None:
    """Make, file and send the daily digest of every mailbox, once (`triage.outbound.digest`)."""
    from triage.outbound.digest import run_all_digests

    for outcome in run_all_digests(settings, sessions=sessions):
        if not outcome.ok:
            log.error("digest job: not everything was delivered", mailbox=outcome.mailbox, period=outcome.period,
                      error=outcome.error, failed=[f"{d.channel}:{d.target}" for d in outcome.deliveries
                                                   if d.status not in ("delivered", "done", "busy")])


#: The lease that makes the purge run once per cluster, however many workers share the database.
PURGE_LEASE = "job:purge"
PURGE_LEASE_SECONDS = 3600


def purge_cutoff(settings: Settings, now: datetime | None = None) -> datetime:
    """The moment before which stored records are past the retention period."""
    from triage.db.schema import utcnow

    return (now or utcnow()) - timedelta(days=settings.retention_days)


def run_purge(settings: Settings, *, now: datetime | None = None, dry_run: bool = False,
              owner: str | None = None) -> dict[str, int] | None:
    """Delete messages (and their results, findings, replies, reviews) older than the retention.

    Runs once per cluster: the job takes the lease PURGE_LEASE first; a worker that finds it held
    by another returns None. The purge itself is idempotent, so a second run in the same night
    deletes nothing. `now` is the clock (tests pass a fixed one); `dry_run` only counts.
    Returns the counts per table, which also go to the log.
    """
    import os
    import socket

    from triage.db import store
    from triage.db.engine import make_engine, session_factory

    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    cutoff = purge_cutoff(settings, now)
    engine = make_engine(settings.database_url, sqlite_immediate=True)
    try:
        sessions = session_factory(engine)
        if not dry_run:
            with sessions() as session, session.begin():
                if not store.acquire_lease(session, PURGE_LEASE, owner, timedelta(seconds=PURGE_LEASE_SECONDS),
                                           now=now):
                    log.info("purge job: another worker is purging", holder=store.lease_holder(session, PURGE_LEASE,
                                                                                                 now=now))
                    return None
        try:
            with sessions() as session, session.begin():
                counts = store.purge_older_than(session, cutoff, dry_run=dry_run)
        finally:
            if not dry_run:
                with sessions() as session, session.begin():
                    store.release_lease(session, PURGE_LEASE, owner, now=now)
    finally:
        engine.dispose()
    log.info("purge job: done" if not dry_run else "purge job: dry run", cutoff=cutoff.isoformat(),
             retention_days=settings.retention_days, **counts)
    return counts
