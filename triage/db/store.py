"""Units of work on the database: one function per thing the worker, the CLI and the web app do.

Every function takes the caller's `Session` and never commits: the runner owns the transaction
(STYLE habits 6 and 9: one session, one transaction per message). Functions flush, so that a
unique key is checked where the function is called, and the ones that may race with another
worker (`record_message`, `create_digest`, `claim_delivery`, `claim_reply`, `acquire_lease`,
`ensure_leases`, `claim_job_run`) insert inside a savepoint and, when another transaction got there first, return its row with
`created=False` instead of failing the caller's transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from sqlalchemy import Select, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import triage
from triage.db.schema import (
    DELIVERY_CHANNELS,
    DELIVERY_STATUSES,
    REPLY_STATUSES,
    USER_ROLES,
    Digest,
    DigestDelivery,
    EventField,
    FindingRow,
    JobRun,
    Lease,
    MailboxState,
    Message,
    Result,
    Reply,
    Review,
    User,
    utcnow,
)
from triage.results import (
    EVENT_FIELDS,
    CheckOutcome,
    Classification,
    Decision,
    Evidence,
    EventDetails,
    Finding,
    Routing,
    TriageResult,
)

#: Error texts are kept for people to read, not as a dump: longer ones are cut.
MAX_ERROR_CHARS = 4000
#: Only this much of a raw message is read to find its Message-ID when the pipeline could not.
_HEADER_SCAN_BYTES = 256 * 1024


# --- identity of a message -------------------------------------------------------------------

def normalize_message_id(value: str | None) -> str | None:
    """The Message-ID without surrounding space and angle brackets; None when there is none."""
    if value is None:
        return None
    value = value.strip().strip("<>").strip()
    return value or None


def message_key(message_id: str | None, raw_sha256: str) -> str:
    """The identity a message is recognised by in its mailbox: its Message-ID, else its bytes.

    Never From+Subject+Date: two different mails sent in the same second share those.
    """
    normalized = normalize_message_id(message_id)
    if normalized is not None:
        return "mid:" + hashlib.sha256(normalized.encode("utf-8", "surrogateescape")).hexdigest()
    return "sha256:" + raw_sha256


def _header_message_id(raw: bytes) -> str | None:
    """The Message-ID header read straight from the raw bytes, for a mail the parser gave up on."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:_HEADER_SCAN_BYTES])
        value = headers.get("Message-ID")
        text = str(value).strip() if value is not None else ""
    except Exception:  # noqa: BLE001 - a hostile header block means "no Message-ID", never a crash
        return None
    return text if normalize_message_id(text) is not None else None



def _insert_once(session: Session, row: Any, lookup: Callable[[], Any]) -> tuple[Any, bool]:
    """Insert `row` in a savepoint; if a racing transaction inserted its twin first (unique
    constraint), return that one instead: (row, created)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = lookup()
        if existing is None:
            raise
        return existing, False
    return row, True

def _message(session: Session, message: Message | int) -> Message:
    if isinstance(message, Message):
        return message
    row = session.get(Message, message)
    if row is None:
        raise LookupError(f"no message with id {message}")
    return row


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_ERROR_CHARS:
        return text
    return text[: MAX_ERROR_CHARS - 1] + "…"


# --- intake ------------------------------------------------------------------------------------

def find_known(
    session: Session,
    mailbox: str,
    *,
    uidvalidity: int | None = None,
    uid: int | None = None,
    message_id: str | None = None,
    raw_sha256: str | None = None,
) -> Message | None:
    """The stored message at this place in the mailbox, or with this identity, if any.

    Looks by (mailbox, UIDVALIDITY, UID) first, then by Message-ID, then, for a mail without a
    Message-ID, by the SHA-256 of its raw bytes.
    """
    if uidvalidity is not None and uid is not None:
        row = session.scalars(
            select(Message).where(Message.mailbox == mailbox, Message.uidvalidity == uidvalidity, Message.uid == uid)
        ).first()
        if row is not None:
            return row
    keys = []
    if normalize_message_id(message_id) is not None:
        keys.append(message_key(message_id, ""))
    if raw_sha256 is not None and normalize_message_id(message_id) is None:
        keys.append(message_key(None, raw_sha256))
    if not keys:
        return None
    return session.scalars(select(Message).where(Message.mailbox == mailbox, Message.dedup_key.in_(keys))).first()


def known_uids(session: Session, mailbox: str, uidvalidity: int) -> set[int]:
    """The UIDs already stored for this mailbox under this UIDVALIDITY (for a re-scan)."""
    rows = session.scalars(
        select(Message.uid).where(
            Message.mailbox == mailbox, Message.uidvalidity == uidvalidity, Message.uid.is_not(None)
        )
    )
    return {int(uid) for uid in rows}


def record_message(
    session: Session,
    mailbox: str,
    uidvalidity: int | None,
    uid: int | None,
    raw: bytes,
    result: TriageResult | None,
    *,
    received_at: datetime | None = None,
    origin: str | None = None,
    now: datetime | None = None,
) -> tuple[Message, bool]:
    """Store a message and its result once; return (row, created).

    Idempotent by (mailbox, UIDVALIDITY, UID), by Message-ID per mailbox, and by the SHA-256 of
    the raw bytes when there is no Message-ID. A message already stored is returned unchanged
    (its result is not replaced: use `replace_result` to re-process), except that after a
    UIDVALIDITY change its place in the mailbox is updated to where it is now, and a message
    stored raw-only (status "received") gets this result as its first judgement. `uidvalidity`
    and `uid` are None for folder and Maildir mailboxes (then `origin` says where it came from).
    `result` None stores the raw bytes alone, status "received", to be judged later.
    """
    now = now or utcnow()
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    message_id = (result.message_id if result is not None else None) or _header_message_id(raw)
    lookup = {"uidvalidity": uidvalidity, "uid": uid, "message_id": message_id, "raw_sha256": raw_sha256}

    existing = find_known(session, mailbox, **lookup)
    if existing is not None:
        _relocate(session, existing, uidvalidity, uid)
        if result is not None and existing.status == "received" and existing.result is None:
            # Stored raw-only before a crash: this judgement is the first, so it is kept.
            _attach_result(existing, result, now)
            session.flush()
        return existing, False

    row = Message(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        origin=origin,
        message_id=message_id,
        dedup_key=message_key(message_id, raw_sha256),
        raw_sha256=raw_sha256,
        raw=raw,
        size=len(raw),
        subject=result.subject if result is not None else None,
        sender=result.sender if result is not None else None,
        received_at=received_at,
        stored_at=now,
        status="received",
        attempts=0,
        filed=False,
    )
    try:
        with session.begin_nested():
            session.add(row)
            if result is not None:
                _attach_result(row, result, now)
            session.flush()
    except IntegrityError:
        # Another transaction stored the same message between our look and our insert.
        existing = find_known(session, mailbox, **lookup)
        if existing is None:
            raise
        _relocate(session, existing, uidvalidity, uid)
        return existing, False
    return row, True


def relocate_message(session: Session, message: Message | int, uidvalidity: int, uid: int) -> bool:
    """Note where a stored message is now, found again by Message-ID after a UIDVALIDITY change.

    The re-scan matches a known message by its Message-ID without fetching its bytes; this is
    the `record_message` relocation for that case. True when the message's place changed (False:
    it already has a place under this UIDVALIDITY, so this is a second copy).
    """
    message = _message(session, message)
    before = (message.uidvalidity, message.uid)
    _relocate(session, message, uidvalidity, uid)
    return (message.uidvalidity, message.uid) != before


def _relocate(session: Session, message: Message, uidvalidity: int | None, uid: int | None) -> None:
    """After a UIDVALIDITY change the old UID means nothing: remember where the message is now."""
    if uidvalidity is None or uid is None:
        return
    if message.uidvalidity == uidvalidity and message.uid is not None:
        return  # a second copy in the same mailbox: the first place stays the place
    try:
        with session.begin_nested():
            message.uidvalidity, message.uid = uidvalidity, uid
            session.flush()
    except IntegrityError:
        session.refresh(message)


def _evidence_columns(evidence: Evidence | None) -> dict[str, Any]:
    if evidence is None:
        return {}
    return {
        "evidence_text": evidence.text,
        "evidence_source": evidence.source,
        "evidence_part": evidence.part,
        "evidence_start": evidence.start,
        "evidence_end": evidence.end,
    }


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def _build_result(result: TriageResult, now: datetime) -> Result:
    classification, routing, check, decision = result.classification, result.routing, result.check, result.decision
    event_json = result.event.to_json()
    row = Result(
        created_at=now,
        language=result.language,
        jurisdiction=routing.jurisdiction,
        rulebook=routing.rulebook,
        rulebook_version=check.rulebook_version,
        no_section=routing.no_section,
        chapter=classification.chapter,
        confidence=float(classification.confidence) if classification.confidence is not None else None,
        probabilities={str(k): float(v) for k, v in classification.probabilities.items()},
        model_version=classification.model_version,
        triage_version=triage.__version__,
        verdict=decision.verdict,
        needs_review=bool(decision.needs_review),
        review_reasons=list(decision.reasons),
        rules_ran=list(check.rules_ran),
        rules_hit=list(check.rules_hit),
        event=event_json,
        amounts=list(result.event.amounts),
        timings_ms={str(k): float(v) for k, v in result.timings_ms.items()},
        error=result.error,
    )
    for position, finding in enumerate(check.findings):
        row.findings.append(
            FindingRow(
                position=position,
                rule=finding.rule,
                kind=finding.kind,
                code=finding.code,
                severity=finding.severity,
                message=finding.message,
                citation=finding.citation,
                confidence=float(finding.confidence),
                **_evidence_columns(finding.evidence),
            )
        )
    names = list(EVENT_FIELDS) + [name for name in result.event.evidence if name not in EVENT_FIELDS]
    position = 0
    for name in names:
        value = event_json.get(name)
        evidences: list[Evidence | None] = list(result.event.evidence.get(name, []))
        if not evidences:
            if _empty(value):
                continue
            evidences = [None]
        for evidence in evidences:
            row.event_fields.append(EventField(position=position, field=name, value=value, **_evidence_columns(evidence)))
            position += 1
    return row


def _attach_result(message: Message, result: TriageResult, now: datetime) -> Result:
    row = _build_result(result, now)
    message.result = row
    message.processed_at = now
    message.attempts = (message.attempts or 0) + 1
    message.status = "failed" if result.error else "processed"
    message.error = _cut(result.error)
    if result.subject is not None:
        message.subject = result.subject
    if result.sender is not None:
        message.sender = result.sender
    if message.message_id is None and result.message_id is not None:
        message.message_id = result.message_id
    return row


def replace_result(session: Session, message: Message | int, result: TriageResult, *, now: datetime | None = None) -> Result:
    """Store a new judgement of a stored message; the old result, findings and fields go."""
    message = _message(session, message)
    old = message.result
    if old is not None:
        message.result = None
        session.flush()  # the old row must be gone before the new one takes its unique key
    row = _attach_result(message, result, now or utcnow())
    session.flush()
    return row


def mark_failed(session: Session, message: Message | int, error: str, *, now: datetime | None = None) -> None:
    """Record an error that happened outside the judging stages (storing, filing) on a message."""
    message = _message(session, message)
    message.status = "failed"
    message.error = _cut(error)
    message.processed_at = message.processed_at or now or utcnow()
    session.flush()


def mark_filed(session: Session, message: Message | int, folder: str | None, *, now: datetime | None = None) -> None:
    """Note that the message was tagged/moved in its mailbox (`folder` None: tagged in place)."""
    message = _message(session, message)
    message.filed = True
    message.filed_folder = folder
    message.filed_at = now or utcnow()
    session.flush()


def unfiled_messages(session: Session, mailbox: str, *, limit: int | None = None) -> list[Message]:
    """Judged messages not yet tagged/moved in the mailbox: what a restart must file first."""
    query = (
        select(Message)
        .where(Message.mailbox == mailbox, Message.filed.is_(False), Message.status != "received")
        .order_by(Message.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def pending_messages(session: Session, mailbox: str, *, limit: int | None = None) -> list[Message]:
    """Messages stored with their raw bytes but not judged yet (a crash between the two)."""
    query = select(Message).where(Message.mailbox == mailbox, Message.status == "received").order_by(Message.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# --- reading results back ----------------------------------------------------------------------

def _evidence(row: FindingRow | EventField) -> Evidence | None:
    if row.evidence_text is None:
        return None
    return Evidence(
        text=row.evidence_text,
        source=row.evidence_source or "",
        part=row.evidence_part,
        start=row.evidence_start,
        end=row.evidence_end,
    )


def _event_from_json(data: dict[str, Any] | None, fields: Iterable[EventField], amounts: list[Any] | None) -> EventDetails:
    data = dict(data or {})
    for name in ("start", "end"):
        if isinstance(data.get(name), str):
            data[name] = datetime.fromisoformat(data[name])
    if isinstance(data.get("registration_deadline"), str):
        data["registration_deadline"] = date.fromisoformat(data["registration_deadline"])
    event = EventDetails(**{name: data[name] for name in EVENT_FIELDS if name in data and data[name] is not None})
    for row in fields:
        evidence = _evidence(row)
        if evidence is not None:
            event.add_evidence(row.field, evidence)
    event.amounts = list(amounts or [])
    return event


def load_result(session: Session, message: Message | int) -> TriageResult | None:
    """The stored judgement of a message as a `TriageResult`, evidence included; None if not judged."""
    message = _message(session, message)
    row = message.result
    if row is None:
        return None
    findings = tuple(
        Finding(
            rule=f.rule, kind=f.kind, code=f.code, severity=f.severity, message=f.message,
            evidence=_evidence(f), citation=f.citation, confidence=f.confidence,
        )
        for f in row.findings
    )
    return TriageResult(
        file=message.origin,
        message_id=message.message_id,
        raw_sha256=message.raw_sha256,
        subject=message.subject,
        sender=message.sender,
        language=row.language,
        routing=Routing(jurisdiction=row.jurisdiction, rulebook=row.rulebook, no_section=row.no_section),
        classification=Classification(
            chapter=row.chapter,
            confidence=row.confidence,
            probabilities=dict(row.probabilities or {}),
            model_version=row.model_version,
        ),
        event=_event_from_json(row.event, row.event_fields, row.amounts),
        check=CheckOutcome(findings=findings, rules_ran=tuple(row.rules_ran or ()), rulebook_version=row.rulebook_version),
        decision=Decision(verdict=row.verdict, needs_review=row.needs_review, reasons=tuple(row.review_reasons or ())),
        error=row.error,
        timings_ms=dict(row.timings_ms or {}),
    )


def list_results(
    session: Session,
    *,
    mailbox: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    verdict: str | None = None,
) -> list[tuple[Message, Result | None]]:
    """Judged messages (failed ones too, with no result or an error) processed in [since, until)."""
    query: Select[tuple[Message, Result]] = (
        select(Message, Result)
        .outerjoin(Result, Result.message_pk == Message.id)
        .where(Message.processed_at.is_not(None))
        .order_by(Message.processed_at, Message.id)
    )
    if mailbox is not None:
        query = query.where(Message.mailbox == mailbox)
    if since is not None:
        query = query.where(Message.processed_at >= since)
    if until is not None:
        query = query.where(Message.processed_at < until)
    if verdict is not None:
        query = query.where(Result.verdict == verdict)
    return [(m, r) for m, r in session.execute(query)]


# --- mailbox state -------------------------------------------------------------------------------

_STATE_FIELDS = frozenset(
    {"uidvalidity", "last_uid", "uidnext", "highestmodseq", "last_poll_at", "last_poll_seconds", "last_success_at",
     "last_error", "last_error_at"}
)


def get_mailbox_state(session: Session, mailbox: str) -> MailboxState | None:
    """Where intake stands in this mailbox, or None before its first poll."""
    return session.get(MailboxState, mailbox)


def mailbox_states(session: Session) -> list[MailboxState]:
    """The state of every mailbox polled so far (for /health), by name."""
    return list(session.scalars(select(MailboxState).order_by(MailboxState.mailbox)))


def update_mailbox_state(session: Session, mailbox: str, *, now: datetime | None = None, **changes: Any) -> MailboxState:
    """Set some of uidvalidity, last_uid, uidnext, highestmodseq, last_poll_at, last_poll_seconds,
    last_success_at, last_error, last_error_at for a mailbox, creating its row on first use."""
    unknown = set(changes) - _STATE_FIELDS
    if unknown:
        raise TypeError(f"unknown mailbox state field(s): {', '.join(sorted(unknown))}")
    if "last_error" in changes:
        changes["last_error"] = _cut(changes["last_error"])
    now = now or utcnow()
    state = session.get(MailboxState, mailbox)
    if state is None:
        try:
            with session.begin_nested():
                state = MailboxState(mailbox=mailbox, updated_at=now)
                session.add(state)
                session.flush()
        except IntegrityError:
            state = session.get(MailboxState, mailbox, populate_existing=True)
            if state is None:
                raise
    for key, value in changes.items():
        setattr(state, key, value)
    state.updated_at = now
    session.flush()
    return state


def record_poll(session: Session, mailbox: str, *, error: str | None = None, seconds: float | None = None,
                now: datetime | None = None) -> MailboxState:
    """Note a poll of the mailbox: its time, how long it took, and its error or its success (/health, /metrics)."""
    now = now or utcnow()
    if error is None:
        return update_mailbox_state(session, mailbox, now=now, last_poll_at=now, last_poll_seconds=seconds,
                                    last_success_at=now, last_error=None)
    return update_mailbox_state(session, mailbox, now=now, last_poll_at=now, last_poll_seconds=seconds,
                                last_error=error, last_error_at=now)


# --- digests ----------------------------------------------------------------------------------

def last_digest(session: Session, mailbox: str) -> Digest | None:
    """The most recent digest of a mailbox (its period_end is where the next one starts)."""
    return session.scalars(
        select(Digest).where(Digest.mailbox == mailbox).order_by(Digest.period_end.desc(), Digest.id.desc())
    ).first()


def create_digest(
    session: Session,
    mailbox: str,
    period: str,
    period_end: datetime,
    *,
    period_start: datetime | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> tuple[Digest, bool]:
    """Make the digest of `mailbox` for `period` once; return (digest, created).

    A new digest takes every judged message of the mailbox processed before `period_end` that no
    digest has reported yet: a day whose job did not run is caught up, and a message committed
    late by a slow worker comes in the next digest instead of being lost. If the digest for this
    (mailbox, period) exists already, it is returned with created=False and nothing changes.
    """
    now = now or utcnow()
    existing = session.scalars(select(Digest).where(Digest.mailbox == mailbox, Digest.period == period)).first()
    if existing is not None:
        return existing, False
    if period_start is None:
        previous = last_digest(session, mailbox)
        period_start = previous.period_end if previous is not None else None
    digest = Digest(
        mailbox=mailbox, period=period, period_start=period_start, period_end=period_end,
        created_at=now, language=language, message_count=0,
    )
    try:
        with session.begin_nested():
            session.add(digest)
            session.flush()
            claimed = session.execute(
                update(Message)
                .where(
                    Message.mailbox == mailbox,
                    Message.digest_pk.is_(None),
                    Message.processed_at.is_not(None),
                    Message.processed_at < period_end,
                )
                .values(digest_pk=digest.id)
                .execution_options(synchronize_session=False)
            )
            digest.message_count = claimed.rowcount
            session.flush()
    except IntegrityError:
        existing = session.scalars(select(Digest).where(Digest.mailbox == mailbox, Digest.period == period)).first()
        if existing is None:
            raise
        return existing, False
    return digest, True


def digest_messages(session: Session, digest: Digest) -> list[tuple[Message, Result | None]]:
    """The messages a digest reports, with their results, in the order they were processed."""
    query = (
        select(Message, Result)
        .outerjoin(Result, Result.message_pk == Message.id)
        .where(Message.digest_pk == digest.id)
        .order_by(Message.processed_at, Message.id)
    )
    return [(m, r) for m, r in session.execute(query)]


def claim_delivery(
    session: Session, digest: Digest, channel: str, target: str, *, now: datetime | None = None
) -> tuple[DigestDelivery, bool]:
    """The delivery record of `digest` on `channel` to `target`, made once; return (row, created).

    created=False means this delivery was already claimed: look at its status before sending.
    """
    if channel not in DELIVERY_CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(DELIVERY_CHANNELS)}, not {channel!r}")

    def lookup() -> DigestDelivery | None:
        return session.scalars(
            select(DigestDelivery).where(
                DigestDelivery.digest_pk == digest.id, DigestDelivery.channel == channel, DigestDelivery.target == target
            )
        ).first()

    existing = lookup()
    if existing is not None:
        return existing, False
    row = DigestDelivery(digest_pk=digest.id, channel=channel, target=target, status="pending", attempts=0,
                         created_at=now or utcnow())
    return _insert_once(session, row, lookup)


def mark_delivery(
    session: Session, delivery: DigestDelivery, status: str, *, error: str | None = None, now: datetime | None = None
) -> None:
    """Record the outcome of one delivery attempt ("delivered" or "failed")."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"status must be one of {', '.join(DELIVERY_STATUSES)}, not {status!r}")
    delivery.status = status
    delivery.attempts = (delivery.attempts or 0) + 1
    delivery.error = _cut(error)
    if status == "delivered":
        delivery.delivered_at = now or utcnow()
    session.flush()


# --- replies ----------------------------------------------------------------------------------

def claim_reply(
    session: Session,
    message: Message | int,
    *,
    mode: str,
    recipient: str | None = None,
    subject: str | None = None,
    body_text: str | None = None,
    body_html: str | None = None,
    language: str | None = None,
    rfc_message_id: str | None = None,
    in_reply_to: str | None = None,
    status: str = "pending",
    reason: str | None = None,
    now: datetime | None = None,
) -> tuple[Reply, bool]:
    """The reply to a message, made at most once ever; return (reply, created).

    created=False means a reply to this message exists already (whatever its status): do not
    compose or send another. A suppressed reply (loop prevention) is recorded too, with `reason`.
    """
    if status not in REPLY_STATUSES:
        raise ValueError(f"status must be one of {', '.join(REPLY_STATUSES)}, not {status!r}")
    message = _message(session, message)

    def lookup() -> Reply | None:
        return session.scalars(select(Reply).where(Reply.message_pk == message.id)).first()

    existing = lookup()
    if existing is not None:
        return existing, False
    row = Reply(
        message_pk=message.id, created_at=now or utcnow(), mode=mode, status=status, language=language,
        recipient=recipient.strip().lower() if recipient else None, subject=subject, body_text=body_text,
        body_html=body_html, rfc_message_id=rfc_message_id, in_reply_to=in_reply_to, reason=reason,
    )
    return _insert_once(session, row, lookup)


def mark_reply(
    session: Session,
    reply: Reply,
    status: str,
    *,
    error: str | None = None,
    sent_by: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move a reply on: "drafted" (appended to Drafts), "sent", "suppressed" or "failed"."""
    if status not in REPLY_STATUSES:
        raise ValueError(f"status must be one of {', '.join(REPLY_STATUSES)}, not {status!r}")
    now = now or utcnow()
    reply.status = status
    reply.error = _cut(error)
    if status == "drafted":
        reply.drafted_at = now
    elif status == "sent":
        reply.sent_at = now
        reply.sent_by = sent_by
    session.flush()


def count_replies_to(session: Session, recipient: str, since: datetime) -> int:
    """How many replies (drafted, sent or under way) went to this address since `since`."""
    return int(
        session.scalar(
            select(func.count(Reply.id)).where(
                Reply.recipient == recipient.strip().lower(),
                Reply.created_at >= since,
                Reply.status.in_(("pending", "drafted", "sent")),
            )
        )
        or 0
    )


def find_reply_by_rfc_message_id(session: Session, rfc_message_id: str) -> Reply | None:
    """Our reply with this Message-ID: a mail answering to it is a reply to one of ours."""
    return session.scalars(select(Reply).where(Reply.rfc_message_id == rfc_message_id.strip())).first()


# --- reviews and users ------------------------------------------------------------------------

def record_review(
    session: Session,
    message: Message | int,
    reviewer: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Review:
    """Keep a person's correction of a message's result: who, when, before/after and why."""
    message = _message(session, message)
    review = Review(
        message_pk=message.id, reviewer=reviewer, created_at=now or utcnow(), before=before, after=after, comment=comment
    )
    session.add(review)
    session.flush()
    return review


def add_user(
    session: Session,
    username: str,
    role: str = "reviewer",
    *,
    password_hash: str | None = None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> User:
    """Create a user of the review UI; `password_hash` must be an Argon2 hash, never a password."""
    if role not in USER_ROLES:
        raise ValueError(f"role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    _check_hash(password_hash)
    user = User(username=username, role=role, password_hash=password_hash, display_name=display_name,
                active=True, created_at=now or utcnow())
    session.add(user)
    session.flush()
    return user


def set_password_hash(session: Session, user: User, password_hash: str) -> None:
    """Replace a user's Argon2 hash."""
    _check_hash(password_hash)
    user.password_hash = password_hash
    session.flush()


def _check_hash(password_hash: str | None) -> None:
    if password_hash is not None and not password_hash.startswith("$argon2"):
        raise ValueError("password_hash must be an Argon2 PHC string ($argon2id$…); passwords are never stored")


def get_user(session: Session, username: str) -> User | None:
    """The user with this name, or None."""
    return session.scalars(select(User).where(User.username == username)).first()


# --- retention --------------------------------------------------------------------------------

def purge_older_than(session: Session, cutoff: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Delete messages stored before `cutoff` and everything hanging off them; return counts.

    Goes with each message: its result, findings, event fields, reply and reviews. Digests made
    before `cutoff` (they quote mail) go with their deliveries. The age of a message is when
    triage stored it, by our own clock, never a date header a sender wrote. `dry_run` counts only.
    Children are deleted explicitly, so the purge does not depend on ON DELETE CASCADE.
    """
    old_messages = select(Message.id).where(Message.stored_at < cutoff)
    old_results = select(Result.id).where(Result.message_pk.in_(old_messages))
    old_digests = select(Digest.id).where(Digest.created_at < cutoff)
    steps: list[tuple[str, Any, Any]] = [
        ("findings", FindingRow, FindingRow.result_id.in_(old_results)),
        ("event_fields", EventField, EventField.result_id.in_(old_results)),
        ("results", Result, Result.message_pk.in_(old_messages)),
        ("replies", Reply, Reply.message_pk.in_(old_messages)),
        ("reviews", Review, Review.message_pk.in_(old_messages)),
        ("messages", Message, Message.stored_at < cutoff),
        ("digest_deliveries", DigestDelivery, DigestDelivery.digest_pk.in_(old_digests)),
        ("digests", Digest, Digest.created_at < cutoff),
    ]
    counts: dict[str, int] = {}
    for name, entity, condition in steps:
        if dry_run:
            counts[name] = int(session.scalar(select(func.count()).select_from(entity).where(condition)) or 0)
            continue
        if entity is Digest:
            # A message kept longer than its digest just forgets which digest reported it.
            session.execute(
                update(Message).where(Message.digest_pk.in_(old_digests)).values(digest_pk=None)
                .execution_options(synchronize_session=False)
            )
        result = session.execute(delete(entity).where(condition).execution_options(synchronize_session=False))
        counts[name] = int(result.rowcount or 0)
    if not dry_run:
        session.expire_all()
    return counts


# --- leases -----------------------------------------------------------------------------------

def acquire_lease(session: Session, name: str, owner: str, ttl: timedelta, *, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `owner` until now + ttl; False when another holds it.

    One conditional UPDATE (ours, free or expired) or, for a new name, one INSERT: atomic on
    PostgreSQL and SQLite alike. The lease counts only once the caller commits.
    """
    now = now or utcnow()
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.owner == owner, Lease.owner.is_(None), Lease.expires_at <= now))
        .values(
            owner=owner,
            expires_at=now + ttl,
            renewed_at=now,
            acquired_at=case((Lease.owner == owner, Lease.acquired_at), else_=now),
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return True
    try:
        with session.begin_nested():
            session.add(Lease(name=name, owner=owner, expires_at=now + ttl, acquired_at=now, renewed_at=now))
            session.flush()
    except IntegrityError:
        return False  # the row exists and someone else holds it
    return True


def release_lease(session: Session, name: str, owner: str, *, now: datetime | None = None) -> bool:
    """Give the lease up (only its owner can); True when it was held by `owner`."""
    released = session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.owner == owner)
        .values(owner=None, expires_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return released.rowcount == 1


def lease_holder(session: Session, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds the lease now, or None when it is free or expired."""
    lease = session.get(Lease, name, populate_existing=True)
    if lease is None or lease.owner is None or lease.expires_at <= (now or utcnow()):
        return None
    return lease.owner


def _live(now: datetime) -> Any:
    """A lease that counts: held by someone and not expired."""
    return (Lease.owner.is_not(None)) & (Lease.expires_at > now)


def ensure_leases(session: Session, names: Iterable[str], *, now: datetime | None = None) -> None:
    """Make sure a (free) lease row exists for every name, so that it can be locked and claimed."""
    names = list(dict.fromkeys(names))
    if not names:
        return
    existing = set(session.scalars(select(Lease.name).where(Lease.name.in_(names))))
    now = now or utcnow()
    for name in names:
        if name in existing:
            continue
        try:
            with session.begin_nested():
                session.add(Lease(name=name, owner=None, expires_at=now))
                session.flush()
        except IntegrityError:
            pass  # another worker made it at the same moment


def claim_free_leases(session: Session, names: Iterable[str], owner: str, ttl: timedelta, *, limit: int,
                      now: datetime | None = None) -> list[tuple[str, str | None]]:
    """Take up to `limit` of the named leases that are free or expired; [(name, previous owner)].

    The rows are locked with `SELECT … FOR UPDATE SKIP LOCKED`: workers claiming at the same
    moment never wait for each other and never get the same row (PostgreSQL; SQLite's write
    lock serialises them instead). A lease `owner` holds already in the database is taken back
    too (after a restart under the same worker id, or a renewal that failed). A previous owner
    that is another worker is one whose lease ran out: the mailbox is taken over. The rows must
    exist (`ensure_leases`).
    """
    names = list(names)
    if limit <= 0 or not names:
        return []
    now = now or utcnow()
    rows = session.execute(
        select(Lease.name, Lease.owner)
        .where(Lease.name.in_(names), or_(Lease.owner.is_(None), Lease.expires_at <= now, Lease.owner == owner))
        .order_by(Lease.name)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    taken: list[tuple[str, str | None]] = []
    for name, previous in rows:
        done = session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.owner.is_(None), Lease.expires_at <= now, Lease.owner == owner))
            .values(owner=owner, expires_at=now + ttl, acquired_at=now, renewed_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:
            taken.append((name, previous))
    return taken


def renew_leases(session: Session, names: Iterable[str], owner: str, ttl: timedelta, *,
                 now: datetime | None = None) -> set[str]:
    """Extend the named leases `owner` still holds to now + ttl; the names it still holds.

    A lease of ours that ran out but that nobody took is still ours (nobody else polled it);
    one another worker took over is not renewed and not returned: it is lost.
    """
    names = list(names)
    if not names:
        return set()
    now = now or utcnow()
    session.execute(
        update(Lease)
        .where(Lease.name.in_(names), Lease.owner == owner)
        .values(expires_at=now + ttl, renewed_at=now)
        .execution_options(synchronize_session=False)
    )
    return set(session.scalars(select(Lease.name).where(Lease.name.in_(names), Lease.owner == owner)))


def release_leases(session: Session, names: Iterable[str], owner: str, *, now: datetime | None = None) -> int:
    """Give up the named leases `owner` holds (free for the next worker at once); how many."""
    names = list(names)
    if not names:
        return 0
    done = session.execute(
        update(Lease)
        .where(Lease.name.in_(names), Lease.owner == owner)
        .values(owner=None, expires_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)


def live_leases(session: Session, prefix: str, *, now: datetime | None = None) -> dict[str, str]:
    """Name → owner of every lease whose name starts with `prefix` that is held and not expired."""
    now = now or utcnow()
    rows = session.execute(
        select(Lease.name, Lease.owner).where(Lease.name.startswith(prefix, autoescape=True), _live(now))
        .order_by(Lease.name)
    ).all()
    return {name: owner for name, owner in rows}


def forget_dead_leases(session: Session, prefix: str, older_than: timedelta, *, now: datetime | None = None) -> int:
    """Delete leases named `prefix…` expired for longer than `older_than` (one row per dead worker pid)."""
    now = now or utcnow()
    done = session.execute(
        delete(Lease).where(Lease.name.startswith(prefix, autoescape=True), Lease.expires_at < now - older_than)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)


# --- cluster-wide jobs -------------------------------------------------------------------------

def claim_job_run(session: Session, job: str, period: str, owner: str, *, stale_after: timedelta,
                  now: datetime | None = None) -> str:
    """Claim the run of `job` for `period`: "claimed" (run it now), "done" or "running" (elsewhere).

    The first INSERT of (job, period) wins; a later caller finds the row. A run still "running"
    whose heartbeat is older than `stale_after` was left by a worker that died: it is taken
    over with one conditional UPDATE, so of several workers noticing at once exactly one gets it.
    A run that ended ("done" or "failed") is not run again in the same period.
    """
    now = now or utcnow()
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, period=period, owner=owner, status="running", attempt=1, started_at=now,
                               heartbeat_at=now))
            session.flush()
        return "claimed"
    except IntegrityError:
        pass
    row = session.get(JobRun, (job, period), populate_existing=True)
    if row is None:  # deleted in between (a purge of job rows); try again next time
        return "running"
    if row.status != "running":
        return "done"
    if row.heartbeat_at > now - stale_after:
        return "running"
    taken = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.status == "running",
               JobRun.heartbeat_at == row.heartbeat_at, JobRun.owner == row.owner)
        .values(owner=owner, attempt=JobRun.attempt + 1, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return "claimed" if taken.rowcount == 1 else "running"


def beat_job_run(session: Session, job: str, period: str, owner: str, *, now: datetime | None = None) -> bool:
    """Renew the heartbeat of a run `owner` is working on; False when it is no longer ours."""
    done = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.owner == owner, JobRun.status == "running")
        .values(heartbeat_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def finish_job_run(session: Session, job: str, period: str, owner: str, *, error: str | None = None,
                   now: datetime | None = None) -> bool:
    """Mark `owner`'s run done (or failed, with the error); False when another worker took it over."""
    now = now or utcnow()
    done = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.owner == owner, JobRun.status == "running")
        .values(status="failed" if error else "done", finished_at=now, heartbeat_at=now, error=_cut(error))
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def job_runs(session: Session, job: str | None = None) -> list[JobRun]:
    """The recorded runs of one job (or all), oldest period first."""
    query = select(JobRun).order_by(JobRun.job, JobRun.period)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))
