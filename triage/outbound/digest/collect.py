"""Gather what a digest reports: the period, and each message with the facts a manager acts on.

A digest covers everything of one mailbox processed since the previous digest, up to its
`period_end` (`store.create_digest` claims those messages, so a day whose job did not run is
caught up by the next one, and nothing is reported twice). Here each claimed message becomes a
`DigestItem`, placed in one group:

- **failed**: the message could not be judged (it has an error, or no result); its error shows;
- **needs_review**: the decision asked for a person, or there is no verdict yet (results made
  before extraction and classification existed have none); the provisional verdict still shows;
- else its verdict: **non_compliant**, **needs_info**, **compliant**, **not_applicable**.

Nothing here formats: `render` turns a `DigestView` into words in the mailbox's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.config import MailboxConfig, Settings
from triage.db import store
from triage.db.schema import Digest, Message, Reply, Result
from triage.outbound.mail import address_of, one_line
from triage.outbound.texts import GROUPS
from triage.results import TriageResult

#: A registration deadline this many days ahead (or fewer) is highlighted.
DEADLINE_SOON_DAYS = 7


class DigestPeriodError(ValueError):
    """The digest asked for cannot be made (a date in the future, a day already reported)."""


@dataclass(frozen=True)
class Period:
    """A digest's label ("2026-03-03", the day in the digest's time zone) and where it ends."""

    label: str
    end: datetime


@dataclass(frozen=True)
class FindingView:
    """One finding as the digest shows it."""

    kind: str
    rule: str
    code: str
    severity: str
    message: str
    evidence: str | None
    citation: str | None


@dataclass(frozen=True)
class ReplyView:
    """Where the reply to a message stands."""

    id: int
    status: str
    mode: str
    created_at: datetime | None
    drafted_at: datetime | None
    sent_at: datetime | None
    reason: str | None
    error: str | None


@dataclass
class DigestItem:
    """One message of the digest with the facts a manager acts on; None/empty when not known."""

    message_pk: int
    group: str
    verdict: str | None
    needs_review: bool
    subject: str
    sender: str | None
    company: str | None
    received_at: datetime | None
    chapter: str | None = None
    no_section: str | None = None
    title: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration_minutes: int | None = None
    location: str | None = None
    online: bool | None = None
    target_group: str | None = None
    costs_covered: tuple[str, ...] = ()
    registration_deadline: date | None = None
    findings: tuple[FindingView, ...] = ()
    error: str | None = None
    reply: ReplyView | None = None

    def deadline_in_days(self, today: date) -> int | None:
        """Days from `today` to the registration deadline (negative: passed); None without one."""
        if self.registration_deadline is None:
            return None
        return (self.registration_deadline - today).days

    def deadline_soon(self, today: date) -> bool:
        """The deadline is today or within DEADLINE_SOON_DAYS days."""
        days = self.deadline_in_days(today)
        return days is not None and 0 <= days <= DEADLINE_SOON_DAYS


@dataclass
class DigestView:
    """Everything one digest says, before it is put into words."""

    mailbox: str
    address: str | None
    period: str
    period_start: datetime | None
    period_end: datetime
    items: list[DigestItem] = field(default_factory=list)

    def group(self, name: str) -> list[DigestItem]:
        """The items of one group, in the order they were processed."""
        return [item for item in self.items if item.group == name]

    def counts(self) -> dict[str, int]:
        """Messages per group, every group present, in digest order."""
        return {name: sum(1 for item in self.items if item.group == name) for name in GROUPS}

    def to_act_on(self) -> int:
        """Messages that need a person: everything except compliant and not-invitations."""
        counts = self.counts()
        return counts["non_compliant"] + counts["needs_info"] + counts["needs_review"] + counts["failed"]


# --- the period ------------------------------------------------------------------------------------

def _digest_time(settings: Settings) -> time:
    try:
        hour, minute = (int(part) for part in settings.digest.time.split(":"))
        return time(hour, minute)
    except ValueError:
        return time(7, 0)


def digest_period(settings: Settings, now: datetime, on: date | None = None) -> Period:
    """The period of the digest made `now` (label: today, end: now), or of the day `on`.

    For a past day the period ends at that day's digest time (digest.time in digest.timezone),
    which is when the scheduled job would have made it.
    """
    zone = ZoneInfo(settings.digest.timezone)
    today = now.astimezone(zone).date()
    if on is None or on == today:
        return Period(today.isoformat(), now)
    if on > today:
        raise DigestPeriodError(f"{on.isoformat()} is in the future (today is {today.isoformat()} in {zone.key})")
    end = datetime.combine(on, _digest_time(settings), zone)
    return Period(on.isoformat(), min(end, now))


# --- the items -------------------------------------------------------------------------------------

def group_of(message: Message, result: TriageResult | None) -> str:
    """The digest group of a message (see the module docstring)."""
    if result is None or result.error or message.status == "failed" or message.error:
        return "failed"
    verdict = result.decision.verdict
    if result.decision.needs_review or verdict is None or verdict not in GROUPS:
        return "needs_review"
    return verdict


def _company(result: TriageResult | None, sender: str | None) -> str | None:
    if result is not None:
        event = result.event
        if event.organizer:
            return one_line(event.organizer, 120)
        if event.sponsors:
            return one_line(", ".join(event.sponsors), 120)
    address = address_of(sender)
    return address.rpartition("@")[2] if address else None


def _reply_view(reply: Reply | None) -> ReplyView | None:
    if reply is None:
        return None
    return ReplyView(
        id=reply.id, status=reply.status, mode=reply.mode, created_at=reply.created_at, drafted_at=reply.drafted_at,
        sent_at=reply.sent_at, reason=reply.reason, error=reply.error,
    )


def item_for(session: Session, message: Message, result_row: Result | None) -> DigestItem:
    """The digest's view of one stored message and its result (any mix of null fields)."""
    result = store.load_result(session, message) if result_row is not None else None
    group = group_of(message, result)
    sender = message.sender
    error = message.error or (result.error if result is not None else None)
    if group == "failed" and not error:
        error = "not judged: no result was stored"
    item = DigestItem(
        message_pk=message.id,
        group=group,
        verdict=result.decision.verdict if result is not None else None,
        needs_review=bool(result.decision.needs_review) if result is not None else False,
        subject=message.subject or (result.subject if result is not None else None) or "",
        sender=sender,
        company=_company(result, sender),
        received_at=message.received_at or message.stored_at,
        error=error,
        reply=_reply_view(session.scalars(select(Reply).where(Reply.message_pk == message.id)).first()),
    )
    if result is None:
        return item
    event = result.event
    item.chapter = result.classification.chapter
    item.no_section = result.routing.no_section
    item.title = event.title
    item.start, item.end = event.start, event.end
    item.duration_minutes = event.duration_minutes
    item.location = event.location
    item.online = event.online
    item.target_group = event.target_group
    item.costs_covered = tuple(event.costs_covered)
    item.registration_deadline = event.registration_deadline
    item.findings = tuple(
        FindingView(
            kind=f.kind, rule=f.rule, code=f.code, severity=f.severity, message=f.message,
            evidence=f.evidence.text if f.evidence is not None else None, citation=f.citation,
        )
        for f in result.check.findings
    )
    return item


def view_for(
    session: Session,
    mailbox: MailboxConfig,
    rows: Iterable[tuple[Message, Result | None]],
    *,
    period: str,
    period_start: datetime | None,
    period_end: datetime,
) -> DigestView:
    """The digest view of these messages."""
    items = [item_for(session, message, result) for message, result in rows]
    return DigestView(
        mailbox=mailbox.name, address=mailbox.address, period=period, period_start=period_start,
        period_end=period_end, items=items,
    )


def digest_view(session: Session, mailbox: MailboxConfig, digest: Digest) -> DigestView:
    """The view of a made digest: the messages it claimed, in the order they were processed."""
    return view_for(
        session, mailbox, store.digest_messages(session, digest),
        period=digest.period, period_start=digest.period_start, period_end=digest.period_end,
    )


def unreported(session: Session, mailbox: str, until: datetime) -> list[tuple[Message, Result | None]]:
    """What the next digest of `mailbox` would claim now (for --dry-run): nothing is written."""
    query = (
        select(Message, Result)
        .outerjoin(Result, Result.message_pk == Message.id)
        .where(
            Message.mailbox == mailbox, Message.digest_pk.is_(None), Message.processed_at.is_not(None),
            Message.processed_at < until,
        )
        .order_by(Message.processed_at, Message.id)
    )
    return [(m, r) for m, r in session.execute(query)]


def preview_view(session: Session, mailbox: MailboxConfig, period: Period) -> DigestView:
    """The view the digest for `period` would have if it were made now, without making it."""
    previous = store.last_digest(session, mailbox.name)
    return view_for(
        session, mailbox, unreported(session, mailbox.name, period.end), period=period.label,
        period_start=previous.period_end if previous is not None else None, period_end=period.end,
    )


def today_in(settings: Settings, now: datetime) -> date:
    """The calendar day of `now` in the digest's time zone (for "deadline within 7 days")."""
    return now.astimezone(ZoneInfo(settings.digest.timezone)).date()


__all__ = [
    "DEADLINE_SOON_DAYS", "DigestItem", "DigestPeriodError", "DigestView", "FindingView", "Period", "ReplyView",
    "digest_period", "digest_view", "group_of", "item_for", "preview_view", "today_in", "unreported", "view_for",
]
