"""How many replies: one per original mail, ever, and at most a few per sender per day.

`claim_reply` already makes one reply per stored message. The same mail can be stored twice,
though: sent to the function mailbox and to the head of unit's mailbox, both watched. Its
identity (`dedup_key`: the Message-ID) is the same in both, so `already_answered` looks across
mailboxes. `sender_limit` counts the replies made (pending, drafted or sent) to one address in
the last 24 hours, so a company that sends ten invitations in a morning gets three replies and a
person sees the rest; `max_replies_per_sender_per_day = 0` switches the limit off.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.db import store
from triage.db.schema import Message, Reply
from triage.outbound.replies.loop import Refusal

#: The window of the per-sender limit: a rolling day, so a burst at midnight is not counted twice.
LIMIT_WINDOW = timedelta(hours=24)
#: Replies that count: made and not held back.
COUNTED_STATUSES: tuple[str, ...] = ("pending", "drafted", "sent")


def reply_of(session: Session, message: Message) -> Reply | None:
    """The reply to this stored message, read from the database (the relationship may be stale)."""
    return session.scalars(select(Reply).where(Reply.message_pk == message.id)).first()


def already_answered(session: Session, message: Message) -> Refusal | None:
    """A reply to this mail exists: to this stored message, or to the same mail in another mailbox."""
    own = reply_of(session, message)
    if own is not None:
        return Refusal("already_replied", f"reply {own.id} to this message exists ({own.status})")
    other = session.execute(
        select(Reply.id, Message.mailbox)
        .join(Message, Message.id == Reply.message_pk)
        .where(Message.dedup_key == message.dedup_key, Message.id != message.id, Reply.status.in_(COUNTED_STATUSES))
        .limit(1)
    ).first()
    if other is not None:
        return Refusal("already_replied", f"the same mail was answered from mailbox {other.mailbox} (reply {other.id})")
    return None


def sender_limit(session: Session, recipient: str, limit: int, now: datetime) -> Refusal | None:
    """The per-sender daily limit is reached for `recipient` (limit 0: no limit)."""
    if limit <= 0:
        return None
    count = store.count_replies_to(session, recipient, now - LIMIT_WINDOW)
    if count >= limit:
        return Refusal("sender_limit", f"{count} replies to {recipient} in the last 24 hours (limit {limit})")
    return None
