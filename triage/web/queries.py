"""The read queries of the review UI: the filtered inbox, its counts, and one message in full.

Filters apply to triage's own judgement (the stored result); the inbox shows, next to it, what
a review changed. Dates are calendar days in the digest's time zone, on the processing time,
as the digest counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from triage.db.schema import Message, Reply, Result, Review

#: The pseudo-verdict of a message that failed (no verdict, an error instead).
FAILED = "failed"
PAGE_SIZE = 50


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox shows: every field None means "any"."""

    mailbox: str | None = None
    verdict: str | None = None
    chapter: str | None = None
    needs_review: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def as_query(self, **changes: Any) -> dict[str, str]:
        """The filter as URL query parameters (for links that keep it)."""
        values = {
            "mailbox": self.mailbox, "verdict": self.verdict, "chapter": self.chapter,
            "needs_review": None if self.needs_review is None else ("yes" if self.needs_review else "no"),
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "page": str(self.page) if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class InboxRow:
    """One line of the inbox."""

    id: int
    mailbox: str
    subject: str | None
    sender: str | None
    received_at: datetime | None
    processed_at: datetime | None
    status: str
    error: str | None
    chapter: str | None
    confidence: float | None
    verdict: str | None
    needs_review: bool
    reply_status: str | None
    reviews: int
    corrected: dict[str, Any] | None = None


@dataclass
class InboxPage:
    """A page of the inbox, how many rows match in all, and the counts above it."""

    rows: list[InboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    page: int = 1
    pages: int = 1


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in `zone`, as aware datetimes."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _filtered(query: Select, f: InboxFilter, zone: str, *, with_verdict: bool = True) -> Select:
    query = query.where(Message.processed_at.is_not(None))
    if f.mailbox:
        query = query.where(Message.mailbox == f.mailbox)
    if f.chapter:
        query = query.where(Result.chapter == f.chapter)
    if f.needs_review is not None:
        query = query.where(Result.needs_review.is_(f.needs_review))
    if f.date_from:
        query = query.where(Message.processed_at >= day_bounds(f.date_from, zone)[0])
    if f.date_to:
        query = query.where(Message.processed_at < day_bounds(f.date_to, zone)[1])
    if with_verdict and f.verdict:
        if f.verdict == FAILED:
            query = query.where(Message.status == "failed")
        else:
            query = query.where(Result.verdict == f.verdict)
    return query


def inbox(session: Session, f: InboxFilter, zone: str, *, page_size: int = PAGE_SIZE) -> InboxPage:
    """The page of messages the filter selects, newest first, and the digest-style counts."""
    from triage.corpus.reviews import current_state, judgement_of

    base = select(Message.id).outerjoin(Result, Result.message_pk == Message.id)
    total = int(session.scalar(select(func.count()).select_from(_filtered(base, f, zone).subquery())) or 0)
    pages = max(1, -(-total // page_size))
    page = min(max(1, f.page), pages)
    ids = list(
        session.scalars(
            _filtered(base, f, zone)
            .order_by(Message.processed_at.desc(), Message.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    messages = {
        m.id: m
        for m in session.scalars(
            select(Message)
            .where(Message.id.in_(ids))
            .options(selectinload(Message.result).selectinload(Result.findings), selectinload(Message.reviews),
                     selectinload(Message.reply))
        )
    } if ids else {}
    rows = []
    for message_id in ids:
        m = messages[message_id]
        r = m.result
        corrected = None
        if m.reviews:
            state = current_state(m)
            if _differs(state, judgement_of(r)):
                corrected = state
        rows.append(
            InboxRow(
                id=m.id, mailbox=m.mailbox, subject=m.subject, sender=m.sender, received_at=m.received_at,
                processed_at=m.processed_at, status=m.status, error=m.error,
                chapter=r.chapter if r else None, confidence=r.confidence if r else None,
                verdict=r.verdict if r else None, needs_review=bool(r.needs_review) if r else False,
                reply_status=m.reply.status if m.reply else None, reviews=len(m.reviews), corrected=corrected,
            )
        )
    return InboxPage(rows=rows, total=total, counts=counts(session, f, zone), page=page, pages=pages)


def _differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    from triage.corpus.reviews import changed_fields

    return bool(changed_fields(b, a))


#: The digest's groups, in its order; every message is in exactly one.
GROUPS: tuple[str, ...] = ("non_compliant", "needs_info", "needs_review", "compliant", "not_applicable", FAILED)


def digest_group(status: str, failed: bool, has_result: bool, verdict: str | None, needs_review: bool | None) -> str:
    """The digest group of a message, as `triage.outbound.digest.collect.group_of` decides it:
    failed (no result, an error, status failed), else needs_review (a person must look, or no
    verdict yet), else its verdict."""
    if not has_result or failed or status == "failed":
        return FAILED
    if needs_review or verdict is None or verdict not in GROUPS:
        return "needs_review"
    return verdict


def counts(session: Session, f: InboxFilter, zone: str) -> dict[str, int]:
    """The digest's counts (one group per message) and the total, for the mailbox and dates of
    the filter (not its verdict, so the counts work as a menu)."""
    failed = or_(Message.error.is_not(None), Result.error.is_not(None))
    has_result = Result.id.is_not(None)
    base = select(Message.status, failed, has_result, Result.verdict, Result.needs_review, func.count(Message.id))
    base = base.outerjoin(Result, Result.message_pk == Message.id)
    query = _filtered(base, f, zone, with_verdict=False).group_by(
        Message.status, failed, has_result, Result.verdict, Result.needs_review
    )
    out: dict[str, int] = {group: 0 for group in GROUPS}
    out["total"] = 0
    for status, is_failed, result_exists, verdict, needs_review, n in session.execute(query):
        out["total"] += n
        out[digest_group(status, bool(is_failed), bool(result_exists), verdict, needs_review)] += n
    return out


def mailboxes(session: Session) -> list[str]:
    """The names of the mailboxes that have messages."""
    return list(session.scalars(select(Message.mailbox).distinct().order_by(Message.mailbox)))


def message_full(session: Session, message_id: int) -> Message | None:
    """A message with its raw bytes, result, findings, fields, reply and reviews loaded."""
    return session.scalars(
        select(Message)
        .where(Message.id == message_id)
        .options(
            selectinload(Message.result).selectinload(Result.findings),
            selectinload(Message.result).selectinload(Result.event_fields),
            selectinload(Message.reply),
            selectinload(Message.reviews),
        )
        .execution_options(populate_existing=True)
    ).first()


def review_count(session: Session) -> int:
    """How many reviews are stored."""
    return int(session.scalar(select(func.count(Review.id))) or 0)


def reply_counts(session: Session) -> dict[str, int]:
    """Replies by status."""
    return {status: int(n) for status, n in session.execute(select(Reply.status, func.count(Reply.id)).group_by(Reply.status))}
