"""The act stage: poll a mailbox, judge each new message, store it, file it — exactly once.

One poll of one mailbox (`MailboxRunner.poll`):

1. **Select** the watched folder: one round trip. If UIDVALIDITY, UIDNEXT (or, without
   UIDNEXT, HIGHESTMODSEQ) are what the last complete poll saw and nothing stored waits to be
   filed, the poll ends there. If the server does not say UIDVALIDITY, nothing is ingested.
2. **List** what is new: UIDs above the last one seen, or, after a UIDVALIDITY change (or on
   the first poll), every message with its Message-ID, so that known messages are matched
   without fetching them and never judged twice.
3. **Recover** what a crash left half done: a message stored but not filed is filed now (one
   that is no longer in the folder was filed before the crash). A message filed but not stored
   cannot be missed: it is not in the store, so it is listed and fetched like a new one.
4. **Take** each new message in UID order, fetched in batches (`UID FETCH` of up to
   FETCH_BATCH_MESSAGES / FETCH_BATCH_BYTES with `BODY.PEEK[]`): judge it (a big backfill in
   a pool of processes, `judging.py`), then in **one transaction** store its raw bytes and its
   result and run the after-store hooks, commit. Only then is it filed (keyword, then move:
   processed, needs review, or failed), one IMAP command per destination per batch, and the
   filing noted with the last UID seen.
5. **Record** the poll (time, error) for /health and log one health line.

A message that breaks a stage is stored with its error and filed into the failed folder; a
message the database will not take is stored with the storing error instead; only a database
or mailbox that is down ends the poll (STYLE habit 6). Connection drops, server restarts,
timeouts and BYE reconnect with exponential backoff and jitter; refused credentials or an
unusable configuration stop the mailbox with a clear error while the others go on.

`--dry-run` never changes the mailbox *or the database*: the folder is opened with EXAMINE,
no folder is created, nothing is stored, tagged or moved, and the report lists what would have
happened to each message. (Storing without filing would make the next real run file them
without judging them again, which is not what a dry run promises.)
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from triage.config import MailboxConfig, Settings
from triage.db import store
from triage.db.schema import Message, Result
from triage.logs import get_logger
from triage.mailbox import (
    Fetched,
    FolderState,
    Listing,
    MailboxAuthError,
    MailboxConfigError,
    MailboxConnectionError,
    MailboxError,
    MailboxSource,
    MessageKey,
    UidValidityUnknown,
    open_mailbox,
)
from triage.mailbox.base import header_message_id
from triage.pipeline import Pipeline
from triage.results import TriageResult
from triage.worker.hooks import AfterStoreHook, hook_name, registered_hooks
from triage.worker.judging import Judge, default_processes

log = get_logger(__name__)

#: A fetch batch ends at this many messages or bytes, whichever comes first: large enough that a
#: backfill is not dominated by round trips, small enough to bound memory and lost work.
FETCH_BATCH_MESSAGES = 200
FETCH_BATCH_BYTES = 16 * 1024 * 1024
#: Stored-but-unfiled messages are filed this many at a time.
RECOVERY_BATCH = 500
#: Reconnect backoff inside one poll: first delay, ceiling, and how long a poll keeps trying.
RETRY_INITIAL_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
RETRY_BUDGET_SECONDS = 120.0


class WorkerError(RuntimeError):
    """The worker cannot run at all (no mailbox, database not migrated); the message says why."""


class MessageUnstorable(RuntimeError):
    """The database refused this one message twice while it answers other queries."""


# --- reports -----------------------------------------------------------------------------------

@dataclass
class PlannedAction:
    """What a dry run would have done with one message."""

    key: str
    subject: str | None
    message_id: str | None
    destination: str | None
    error: str | None = None


@dataclass
class PollReport:
    """What one poll of one mailbox did; the health line in the log is made from it."""

    mailbox: str
    kind: str
    dry_run: bool = False
    #: Nothing arrived since the last complete poll: the poll ended after one SELECT.
    unchanged: bool = False
    #: Messages seen for the first time (not in the store under their place in the mailbox).
    new: int = 0
    #: Judged and stored without an error (in a dry run: would have been).
    processed: int = 0
    #: Stored with an error and filed into the failed folder (dry run: would have been).
    failed: int = 0
    #: Recognised as already stored (by Message-ID or bytes): not judged again, only tagged.
    known: int = 0
    #: Tagged/moved in the mailbox during this poll (recovered ones included).
    filed: int = 0
    #: Stored by an earlier, interrupted poll and filed only now.
    recovered: int = 0
    hook_errors: int = 0
    reconnects: int = 0
    uidvalidity_changed: bool = False
    #: Stopped early by a shutdown request (the current message was finished and filed).
    interrupted: bool = False
    round_trips: int = 0
    duration_seconds: float = 0.0
    error: str | None = None
    #: The mailbox is stopped (credentials refused, unusable config): no more polls this run.
    stopped: bool = False
    planned: list[PlannedAction] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_seconds"] = round(self.duration_seconds, 4)
        if not self.dry_run:
            data.pop("planned")
        return data

    def health(self) -> dict[str, Any]:
        """The fields of the per-poll health line."""
        return {
            "mailbox": self.mailbox, "new": self.new, "processed": self.processed, "failed": self.failed,
            "known": self.known, "filed": self.filed, "recovered": self.recovered, "unchanged": self.unchanged,
            "round_trips": self.round_trips, "reconnects": self.reconnects,
            "duration_ms": round(self.duration_seconds * 1000, 1), "dry_run": self.dry_run, "error": self.error,
        }


# --- helpers -----------------------------------------------------------------------------------

class Backoff:
    """Exponential backoff with jitter: each delay lies in [d/2, d], d doubling up to `maximum`."""

    def __init__(self, initial: float = RETRY_INITIAL_SECONDS, maximum: float = RETRY_MAX_SECONDS,
                 rng: Callable[[], float] = random.random) -> None:
        self.initial, self.maximum, self._rng = initial, maximum, rng
        self.attempt = 0

    def next(self) -> float:
        ceiling = min(self.maximum, self.initial * (2 ** self.attempt))
        self.attempt += 1
        return ceiling / 2 + self._rng() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0


def destination(mailbox: MailboxConfig, *, error: bool, needs_review: bool) -> str | None:
    """The folder a judged message is filed into: failed, needs review, or processed (None: tag only)."""
    if error:
        return mailbox.failed_folder
    if needs_review:
        return mailbox.review_folder
    return mailbox.processed_folder


@dataclass(frozen=True)
class _State:
    """The stored mailbox_state, copied out of its session."""

    uidvalidity: int | None
    last_uid: int | None
    uidnext: int | None
    highestmodseq: int | None


@dataclass(frozen=True)
class _ToFile:
    """A stored message waiting to be filed."""

    key: MessageKey
    message_pk: int
    destination: str | None
    #: Already filed once (a duplicate or a message found again): tag in place, never move again.
    tag_only: bool = False


def _is_outage(exc: BaseException) -> bool:
    """A database error that is about the database (down, locked), not about one message."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return bool(getattr(exc, "connection_invalidated", False))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


# --- the runner -------------------------------------------------------------------------------

class MailboxRunner:
    """Intake of one mailbox: owns its source (connection), its pipeline and its backoff."""

    def __init__(
        self,
        settings: Settings,
        mailbox: MailboxConfig,
        *,
        sessions: sessionmaker[Session],
        pipeline: Pipeline | None = None,
        source: MailboxSource | None = None,
        hooks: Sequence[AfterStoreHook] | None = None,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        environ: Mapping[str, str] | None = None,
        retry_budget_seconds: float = RETRY_BUDGET_SECONDS,
        retry_initial_seconds: float = RETRY_INITIAL_SECONDS,
        judge_processes: int | None = None,
    ) -> None:
        self.settings = settings
        self.mailbox = mailbox
        self.name = mailbox.name
        self.sessions = sessions
        self.dry_run = dry_run
        self.stop = stop or threading.Event()
        #: Set to end an IDLE wait early (a scheduled poll, a shutdown).
        self.wake = threading.Event()
        self.hooks = list(registered_hooks() if hooks is None else hooks)
        self.retry_budget_seconds = retry_budget_seconds
        self.retry_initial_seconds = retry_initial_seconds
        self._environ = environ
        self._source = source
        self._pipeline = pipeline
        self._lock = threading.RLock()
        #: Why this mailbox was stopped (refused credentials, unusable config); None while running.
        self.stopped_reason: str | None = None
        #: Non-UID kinds: keys (with their size) already handled by this process, not read again.
        self._seen: dict[MessageKey, int | None] = {}
        self._judge = Judge(settings, mailbox, lambda: self.pipeline,
                            default_processes(settings.judge_processes) if judge_processes is None else judge_processes)

    # --- public ------------------------------------------------------------------------------

    @property
    def source(self) -> MailboxSource:
        if self._source is None:
            self._source = open_mailbox(self.mailbox, environ=self._environ)
        return self._source

    @property
    def pipeline(self) -> Pipeline:
        """The judging stages for this mailbox, loaded once; WorkerError when they cannot be."""
        if self._pipeline is None:
            from triage.pipeline.factory import build_pipeline

            try:
                self._pipeline = build_pipeline(self.settings, self.mailbox)
            except Exception as exc:  # noqa: BLE001 - a broken install is not a broken message
                raise WorkerError(f"cannot load the judging stages: {_first_line(exc)}") from exc
        return self._pipeline

    def close(self) -> None:
        """Close the mailbox connection (never raises)."""
        with self._lock:
            if self._source is not None:
                self._source.close()

    def quiesce(self) -> None:
        """Stop after the current message, end IDLE, close the connection; returns once no poll runs.

        For a mailbox this worker hands to another (`triage.worker.cluster`): when this returns,
        nothing of this runner touches the mailbox or the store any more. `stop.clear()` resumes.
        """
        self.stop.set()
        self.wake.set()
        with self._lock:
            self.close()

    def poll(self) -> PollReport:
        """One poll, reconnecting with backoff on connection trouble; never raises for a message."""
        report = PollReport(mailbox=self.name, kind=self.mailbox.kind, dry_run=self.dry_run)
        started = time.monotonic()
        if self.stopped_reason is not None:
            report.error, report.stopped = self.stopped_reason, True
            return report
        backoff = Backoff(self.retry_initial_seconds, RETRY_MAX_SECONDS)
        deadline = started + self.retry_budget_seconds
        with self._lock:
            while True:
                try:
                    self._poll_once(report)
                    report.error = None
                    break
                except (MailboxAuthError, MailboxConfigError) as exc:
                    self._stop_mailbox(str(exc))
                    report.error, report.stopped = str(exc), True
                    break
                except MailboxConnectionError as exc:
                    report.error = str(exc)
                    self.close()
                    delay = backoff.next()
                    if self.stop.is_set() or time.monotonic() + delay > deadline:
                        log.error("mailbox unreachable", mailbox=self.name, error=str(exc))
                        break
                    report.reconnects += 1
                    log.warning("mailbox connection lost, reconnecting", mailbox=self.name, error=str(exc),
                                retry_in_s=round(delay, 2), attempt=backoff.attempt)
                    if self.stop.wait(delay):
                        break
                except (UidValidityUnknown, MailboxError, WorkerError) as exc:
                    # WorkerError: the stages could not be loaded. Nothing was taken, so no mail
                    # is filed as failed for what is a fault of the installation.
                    report.error = str(exc)
                    log.error("poll failed", mailbox=self.name, error=str(exc))
                    break
                except SQLAlchemyError as exc:
                    report.error = f"database: {_first_line(exc)}"
                    log.error("poll failed: database", mailbox=self.name, error=report.error)
                    break
                except Exception as exc:  # noqa: BLE001 - a bug must not kill the scheduler thread
                    report.error = f"internal error: {_first_line(exc)}"
                    log.exception("poll failed: internal error", mailbox=self.name)
                    self.close()
                    break
        report.duration_seconds = time.monotonic() - started
        self._record_poll(report)
        log.info("poll", **report.health())
        return report

    def serve_idle(self, stop: threading.Event, *, poll_interval: float) -> None:
        """Poll, then IDLE until new mail, the renew interval, a wake-up or `stop`; repeat.

        Used when the server has IDLE: a new mail is taken within seconds. IDLE is re-issued
        every `idle_renew_seconds` (Exchange Online drops idle sessions early), and a poll runs
        at least every `poll_interval` seconds whatever IDLE says (the safety net). Returns when
        `stop` is set, the mailbox is stopped, or the server turns out to have no IDLE.
        """
        backoff = Backoff(self.retry_initial_seconds, 300.0)
        renew = max(1.0, float(self.mailbox.idle_renew_seconds))
        while not stop.is_set() and self.stopped_reason is None:
            report = self.poll()
            if report.stopped or stop.is_set():
                return
            if report.error is not None:
                stop.wait(backoff.next())
                continue
            backoff.reset()
            with self._lock:
                source = self.source
                if not source.connected:
                    continue
                if not source.supports_idle():
                    log.info("server has no IDLE: polling only", mailbox=self.name, every_s=poll_interval)
                    return
                try:
                    source.wait_for_change(min(renew, poll_interval), self.wake)
                except MailboxConnectionError as exc:
                    log.warning("IDLE interrupted, reconnecting", mailbox=self.name, error=str(exc))
                    self.close()
                except MailboxError as exc:
                    log.warning("IDLE failed", mailbox=self.name, error=str(exc))
                    self.close()
            self.wake.clear()

    # --- one poll ----------------------------------------------------------------------------

    def _stop_mailbox(self, reason: str) -> None:
        self.stopped_reason = reason
        self.close()
        log.error("mailbox stopped", mailbox=self.name, reason=reason,
                  hint="fix the credentials or the [[mailbox]] settings and restart; other mailboxes go on")

    def _poll_once(self, report: PollReport) -> None:
        source = self.source
        source.connect(readonly=self.dry_run)
        before = source.round_trips
        try:
            self._poll_connected(source, report)
        finally:
            report.round_trips += source.round_trips - before

    def _poll_connected(self, source: MailboxSource, report: PollReport) -> None:
        folder = source.select()
        if source.uses_uids and folder.uidvalidity is None:
            raise UidValidityUnknown(
                f"mailbox {self.name!r}: the server did not say the UIDVALIDITY of {self.mailbox.folder!r}; "
                "UIDs cannot be trusted, so nothing is ingested"
            )
        uidvalidity = folder.uidvalidity if source.uses_uids else None
        state, unfiled = self._read_state()
        rescan = source.uses_uids and (state is None or state.uidvalidity != uidvalidity)
        if rescan and state is not None and state.uidvalidity is not None:
            report.uidvalidity_changed = True
            log.warning("UIDVALIDITY changed: re-scanning by Message-ID", mailbox=self.name,
                        old=state.uidvalidity, new=uidvalidity)
        if source.uses_uids and not rescan and not unfiled and self._unchanged(state, folder):
            report.unchanged = True
            return

        after = None if (rescan or not source.uses_uids or state is None) else state.last_uid
        # Matching by Message-ID needs something stored to match: not on a mailbox's first poll.
        match_ids = rescan and self._has_messages()
        listings = source.list_messages(after=after, message_ids=match_ids)
        highest = max((int(item.key) for item in listings), default=None) if source.uses_uids else None
        todo = self._not_stored(listings, uidvalidity)
        if match_ids and todo:
            todo = self._match_by_message_id(source, todo, uidvalidity, report)
        if unfiled and not self.dry_run:
            self._file_unfiled(source, uidvalidity, report)

        report.new += len(todo)
        if todo:
            self.pipeline  # noqa: B018 - load the stages before the first message is taken
        self._judge.plan(len(todo))
        try:
            for batch in self._batches(todo):
                if self.stop.is_set():
                    report.interrupted = True
                    break
                self._take_batch(source, batch, uidvalidity, report)
                if report.interrupted:
                    break
        finally:
            self._judge.close()

        if source.uses_uids and not self.dry_run and not report.interrupted:
            seen = [highest, state.last_uid if state is not None and not rescan else None]
            last_uid = max((uid for uid in seen if uid is not None), default=None)
            self._write_state(uidvalidity=uidvalidity, last_uid=last_uid, uidnext=folder.uidnext,
                              highestmodseq=folder.highestmodseq)

    @staticmethod
    def _unchanged(state: _State | None, folder: FolderState) -> bool:
        """Nothing new since the last complete poll: same UIDNEXT, or (no UIDNEXT) same HIGHESTMODSEQ."""
        if state is None:
            return False
        if folder.uidnext is not None:
            return state.uidnext == folder.uidnext
        return folder.highestmodseq is not None and state.highestmodseq == folder.highestmodseq

    def _read_state(self) -> tuple[_State | None, bool]:
        with self.sessions() as session:
            row = store.get_mailbox_state(session, self.name)
            state = None if row is None else _State(row.uidvalidity, row.last_uid, row.uidnext, row.highestmodseq)
            unfiled = bool(store.unfiled_messages(session, self.name, limit=1)) if self.source.can_file else False
            return state, unfiled

    def _has_messages(self) -> bool:
        with self.sessions() as session:
            return session.scalar(select(Message.id).where(Message.mailbox == self.name).limit(1)) is not None

    def _write_state(self, **changes: Any) -> None:
        with self.sessions() as session, session.begin():
            store.update_mailbox_state(session, self.name, **changes)

    def _record_poll(self, report: PollReport) -> None:
        if self.dry_run:
            return
        try:
            with self.sessions() as session, session.begin():
                store.record_poll(session, self.name, error=report.error, seconds=round(report.duration_seconds, 4))
        except SQLAlchemyError as exc:
            log.warning("could not record the poll", mailbox=self.name, error=_first_line(exc))

    def _not_stored(self, listings: list[Listing], uidvalidity: int | None) -> list[Listing]:
        """The listed messages not yet stored under their place (UID) or handled by this process."""
        if self.source.uses_uids:
            with self.sessions() as session:
                known = store.known_uids(session, self.name, uidvalidity) if uidvalidity is not None else set()
            return [item for item in listings if int(item.key) not in known]
        return [item for item in listings if self._seen.get(item.key, -1) != item.size]

    def _batches(self, todo: list[Listing]) -> list[list[Listing]]:
        batches: list[list[Listing]] = []
        current: list[Listing] = []
        size = 0
        for item in todo:
            item_size = item.size or 0
            if current and (len(current) >= FETCH_BATCH_MESSAGES or size + item_size > FETCH_BATCH_BYTES):
                batches.append(current)
                current, size = [], 0
            current.append(item)
            size += item_size
        if current:
            batches.append(current)
        return batches

    # --- re-scan and recovery ---------------------------------------------------------------

    def _match_by_message_id(self, source: MailboxSource, todo: list[Listing], uidvalidity: int | None,
                             report: PollReport) -> list[Listing]:
        """After a UIDVALIDITY change: known messages get their new place, unknown ones stay to do."""
        remaining: list[Listing] = []
        tag: list[MessageKey] = []
        with self.sessions() as session:
            for item in todo:
                row = store.find_known(session, self.name, message_id=item.message_id) if item.message_id else None
                if row is None:
                    remaining.append(item)
                    continue
                report.known += 1
                if self.dry_run:
                    continue
                store.relocate_message(session, row, int(uidvalidity or 0), int(item.key))
                if row.filed:
                    tag.append(item.key)  # found again: tag in place, never judged or moved twice
                # not filed: now at its new place, so the recovery below files it
            if self.dry_run:
                session.rollback()
            else:
                session.commit()
        if tag and self.mailbox.keyword:
            source.file(tag, None, keyword=self.mailbox.keyword)
        return remaining

    def _file_unfiled(self, source: MailboxSource, uidvalidity: int | None, report: PollReport) -> None:
        """File what was stored but not filed (a crash, a dropped connection between the two)."""
        done: set[int] = set()
        while True:
            with self.sessions() as session:
                rows = [r for r in store.unfiled_messages(session, self.name, limit=RECOVERY_BATCH) if r.id not in done]
                pending = [(r.id, self._key_of(r, uidvalidity), self._destination_of(session, r)) for r in rows]
            if not pending:
                return
            done.update(pk for pk, _key, _dest in pending)
            with_key = [(pk, key, dest) for pk, key, dest in pending if key is not None]
            present = source.present([key for _pk, key, _dest in with_key]) if with_key else set()
            to_file = [_ToFile(key, pk, dest) for pk, key, dest in with_key if key in present]
            gone = [(pk, dest) for pk, key, dest in pending if key is None or key not in present]
            if to_file:
                self._file(source, to_file, report, recovering=True)
                report.recovered += len(to_file)
            if gone:
                # Not in the watched folder any more: the move happened before the crash (or a
                # person took it); either way there is nothing left to file.
                with self.sessions() as session, session.begin():
                    for pk, dest in gone:
                        store.mark_filed(session, pk, dest)
                log.info("stored messages no longer in the folder noted as filed", mailbox=self.name, count=len(gone))
            if len(rows) < RECOVERY_BATCH:
                return

    def _key_of(self, row: Message, uidvalidity: int | None) -> MessageKey | None:
        if self.source.uses_uids:
            return int(row.uid) if row.uid is not None and row.uidvalidity == uidvalidity else None
        return row.origin

    def _destination_of(self, session: Session, row: Message) -> str | None:
        needs_review = bool(session.scalar(select(Result.needs_review).where(Result.message_pk == row.id)))
        return destination(self.mailbox, error=row.status == "failed", needs_review=needs_review)

    # --- taking new messages -----------------------------------------------------------------

    def _take_batch(self, source: MailboxSource, batch: list[Listing], uidvalidity: int | None,
                    report: PollReport) -> None:
        fetched = source.fetch([item.key for item in batch])
        # Folder and Maildir kinds: what the store already has is not judged again.
        known = {id(item): self._known_locally(item, report) for item in fetched}
        judged = self._judge.many([(item.raw, item.origin) for item in fetched
                                   if item.raw is not None and known[id(item)] is None])
        to_file: list[_ToFile] = []
        done_upto: MessageKey | None = None
        try:
            for item in fetched:
                found = known[id(item)]
                if found is not None:
                    outcome = found if isinstance(found, _ToFile) else None
                else:
                    outcome = self._take(item, next(judged) if item.raw is not None else None, uidvalidity, report)
                done_upto = item.key
                if outcome is not None:
                    to_file.append(outcome)
                if self.stop.is_set():
                    report.interrupted = True  # finish this message (store and file it), then stop
                    break
        finally:
            judged.close()  # a stop mid-batch: judgements not yet stored are dropped, never half used
        if to_file and not self.dry_run:
            self._file(source, to_file, report)
        if source.uses_uids and not self.dry_run:
            handled = [int(i.key) for i in batch]
            if report.interrupted:
                handled = [uid for uid in handled if done_upto is not None and uid <= int(done_upto)]
            if handled:
                # uidnext None: until the poll completes, the next one must list, not trust UIDNEXT.
                self._write_state(uidvalidity=uidvalidity, last_uid=max(handled), uidnext=None, highestmodseq=None)

    def _known_locally(self, item: Fetched, report: PollReport) -> _ToFile | bool | None:
        """Folder and Maildir kinds: a message the store has already (re-read files, restarts).

        None: to be judged and stored. False: known, nothing to do. A _ToFile: known, not filed yet.
        """
        if self.source.uses_uids or item.raw is None:
            return None
        known = self._known_by_identity(item.raw)
        if known is None:
            return None
        self._seen[item.key] = len(item.raw)
        report.new -= 1  # listed because this process had not read it yet; stored long ago
        report.known += 1
        pk, filed, dest = known
        if filed or not self.source.can_file or self.dry_run:
            return False
        return _ToFile(item.key, pk, dest)

    def _take(self, item: Fetched, result: TriageResult | None, uidvalidity: int | None,
              report: PollReport) -> _ToFile | None:
        """Store one judged message in its own transaction; say where to file it."""
        source = self.source
        uid = int(item.key) if source.uses_uids else None
        raw = item.raw
        if raw is None or result is None:
            # The server would not give the bytes: keep a stand-in, so the failure is stored and seen.
            raw = (f"X-Triage-Unreadable: {self.name} {uidvalidity}/{item.key}\r\n\r\n{item.error}\r\n").encode()
            result = TriageResult(file=item.origin, error=item.error or "fetch: the message could not be read")
        dest = destination(self.mailbox, error=result.error is not None, needs_review=result.decision.needs_review)
        if result.error is not None:
            log.warning("message failed", mailbox=self.name, key=str(item.key), error=result.error)
        if self.dry_run:
            report.planned.append(PlannedAction(str(item.key), result.subject, result.message_id, dest, result.error))
            if result.error is None:
                report.processed += 1
            else:
                report.failed += 1
            return None
        try:
            pk, created, filed, placed_here, status, dest = self._store(item, uid, uidvalidity, raw, result, dest, report)
        except MessageUnstorable as exc:
            # The database takes nothing of this message: it goes to the failed folder for a
            # person, unstored, rather than block the mailbox for ever.
            log.error("message could not be stored; filed as failed", mailbox=self.name, key=str(item.key), error=str(exc))
            report.failed += 1
            if source.can_file and self.mailbox.failed_folder:
                source.file([item.key], self.mailbox.failed_folder, keyword=None)
            return None
        if not source.uses_uids:
            self._seen[item.key] = len(raw)
        if created:
            if status == "failed":
                report.failed += 1
            else:
                report.processed += 1
        else:
            report.known += 1
        if filed and created:
            return None  # read-only folder: noted as filed when stored
        if not source.can_file:
            return None
        if not created and (filed or not placed_here):
            # Known already: a second copy, a message moved back by a person, or found again
            # after a UIDVALIDITY change. Tag it where it is; never judge or move it twice.
            return _ToFile(item.key, pk, dest, tag_only=True) if source.uses_uids else None
        return _ToFile(item.key, pk, dest)

    def _known_by_identity(self, raw: bytes) -> tuple[int, bool, str | None] | None:
        """A stored message with this Message-ID or these bytes (folder and Maildir kinds)."""
        message_id = header_message_id(raw)
        sha = hashlib.sha256(raw).hexdigest()
        with self.sessions() as session:
            row = store.find_known(session, self.name, message_id=message_id, raw_sha256=sha)
            if row is None and message_id is not None:
                row = store.find_known(session, self.name, raw_sha256=sha)
            if row is None:
                return None
            return row.id, bool(row.filed), self._destination_of(session, row)

    def _store(self, item: Fetched, uid: int | None, uidvalidity: int | None, raw: bytes, result: TriageResult,
               dest: str | None, report: PollReport) -> tuple[int, bool, bool, bool, str, str | None]:
        """record_message + hooks, committed; on a message-specific refusal, store the error instead.

        Returns (row id, created, filed, stored at this UID, status, destination).
        """
        # IMAP: the place is (UIDVALIDITY, UID); Maildir: the key, which recovery files by; folder: the path.
        origin = None if self.source.uses_uids else str(item.key) if self.source.kind == "maildir" else item.origin
        attempt_result = result
        for attempt in (1, 2):
            session = self.sessions()
            try:
                with session.begin():
                    row, created = store.record_message(
                        session, self.name, uidvalidity if uid is not None else None, uid, raw, attempt_result,
                        received_at=item.received_at, origin=origin,
                    )
                    if created:
                        self._run_hooks(session, row, attempt_result, report)
                    if not self.source.can_file and not row.filed:
                        store.mark_filed(session, row, None)
                    if not created:
                        dest = self._destination_of(session, row)
                    placed_here = uid is None or (row.uid == uid and row.uidvalidity == uidvalidity)
                    return row.id, created, bool(row.filed), placed_here, row.status, dest
            except SQLAlchemyError as exc:
                if _is_outage(exc):
                    raise
                if attempt == 2:
                    if self._database_answers():
                        raise MessageUnstorable(_first_line(exc)) from None
                    raise
                log.error("storing the message failed; storing its error instead", mailbox=self.name,
                          key=str(item.key), error=_first_line(exc))
                attempt_result = TriageResult(file=origin, error=f"store: {_first_line(exc)}")
                dest = self.mailbox.failed_folder
            finally:
                session.close()
        raise AssertionError("unreachable")

    def _database_answers(self) -> bool:
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def _run_hooks(self, session: Session, row: Message, result: TriageResult, report: PollReport) -> None:
        for hook in self.hooks:
            try:
                with session.begin_nested():
                    hook(session, row, result)
            except Exception as exc:  # noqa: BLE001 - a hook never costs us the message
                report.hook_errors += 1
                log.error("after-store hook failed", mailbox=self.name, hook=hook_name(hook), message=row.id,
                          error=_first_line(exc))

    def _file(self, source: MailboxSource, items: list[_ToFile], report: PollReport, *, recovering: bool = False) -> None:
        """Tag/move grouped by destination (one command each), then note the filing in one transaction."""
        groups: dict[tuple[str | None, bool], list[_ToFile]] = {}
        for item in items:
            groups.setdefault((item.destination, item.tag_only), []).append(item)
        keyword = self.mailbox.keyword or None
        for (dest, tag_only), group in groups.items():
            source.file([i.key for i in group], None if tag_only else dest, keyword=keyword, recovering=recovering)
        with self.sessions() as session, session.begin():
            for item in items:
                if not item.tag_only:
                    store.mark_filed(session, item.message_pk, item.destination)
        report.filed += len(items)


# --- run once ---------------------------------------------------------------------------------

def open_database(settings: Settings) -> tuple[Any, sessionmaker[Session]]:
    """The writer engine and session factory; refuses a database that is not migrated to head."""
    from triage.db import migrate
    from triage.db.engine import make_engine, safe_url, session_factory

    try:
        current = migrate.is_current(settings.database_url)
    except SQLAlchemyError as exc:
        raise WorkerError(f"cannot open the database {safe_url(settings.database_url)}: {_first_line(exc)}") from None
    if not current:
        raise WorkerError(
            f"the database is not up to date ({migrate.describe(settings.database_url)}): run `triage db upgrade` first"
        )
    engine = make_engine(settings.database_url, sqlite_immediate=True)
    return engine, session_factory(engine)


def selected_mailboxes(settings: Settings, mailbox_name: str | None = None) -> list[MailboxConfig]:
    """The configured mailboxes, or the one named; WorkerError when there is none."""
    if mailbox_name is not None:
        try:
            return [settings.mailbox(mailbox_name)]
        except Exception as exc:  # noqa: BLE001 - ConfigError: say which names exist
            raise WorkerError(str(exc)) from None
    if not settings.mailboxes:
        raise WorkerError("no mailbox is configured: add a [[mailbox]] table to the config")
    return list(settings.mailboxes)


def run_once(
    settings: Settings,
    mailbox_name: str | None = None,
    dry_run: bool = False,
    *,
    hooks: Sequence[AfterStoreHook] | None = None,
    stop: threading.Event | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[PollReport]:
    """Poll every configured mailbox (or the one named) once and return one report per mailbox.

    The entry point for `triage run --once`, cron and the demo. A mailbox that fails (refused
    credentials, unreachable server) gets a report with `error` set; the others are polled
    anyway. Raises WorkerError only when nothing can run (no mailbox, database not migrated).
    `hooks` default to the registered ones; `stop`, when set, ends the run after the current
    message.
    """
    mailboxes = selected_mailboxes(settings, mailbox_name)
    engine, sessions = open_database(settings)
    stop = stop or threading.Event()
    reports: list[PollReport] = []
    try:
        for mailbox in mailboxes:
            if stop.is_set():
                break
            runner = MailboxRunner(settings, mailbox, sessions=sessions, hooks=hooks, dry_run=dry_run, stop=stop,
                                   environ=environ)
            runner.pipeline  # noqa: B018 - WorkerError now, rather than a failed poll per mailbox
            try:
                reports.append(runner.poll())
            finally:
                runner.close()
    finally:
        engine.dispose()
    return reports
