"""Reply drafting as a worker after-store hook: claim in the message's transaction, act after commit.

The worker calls each registered hook as `hook(session, message, result)` inside the message's
transaction (`triage.worker.hooks`). `ReplyHook` claims the reply there (`prepare_reply`: no
network), and registers a one-shot `after_commit` listener on that session: once the message
and its reply are committed, the draft is appended to Drafts or the reply is sent
(`deliver_reply`, in a session of its own). If the transaction rolls back, the listener never
fires and the claim is gone with it, so the message is judged again and answered once.

Wire it where the worker starts (the CLI), before the runners are made:

    register_hook(reply_hook(settings))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from triage.config import MailboxConfig, Settings
from triage.db.schema import Message, Reply
from triage.logs import get_logger
from triage.outbound.imap import append_message
from triage.outbound.replies.dispatch import deliver_reply, mailbox_of, prepare_reply
from triage.outbound.smtp import Transport
from triage.results import TriageResult

log = get_logger(__name__)


def after_commit(session: Session, action: Callable[[Any], None]) -> None:
    """Run `action(bind)` once, after the outermost transaction of `session` commits.

    Savepoint releases fire `after_commit` too; they are skipped. The action gets the session's
    bind (engine) to open a session of its own; its errors are logged, never raised into the
    committing caller.
    """
    state = {"done": False}

    def on_commit(committed: Session) -> None:
        if state["done"] or committed.in_nested_transaction():
            return
        state["done"] = True
        try:
            action(committed.get_bind())
        except Exception:  # noqa: BLE001 - the message is committed; a failed draft must not undo the poll
            log.exception("after-commit reply delivery failed")

    def on_rollback(rolled: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:
            state["done"] = True  # the claim is gone with the transaction

    event.listen(session, "after_commit", on_commit)
    event.listen(session, "after_soft_rollback", on_rollback)


def draft_reply_for(
    session: Session,
    settings: Settings,
    mailbox: MailboxConfig,
    message_row: Message,
    result: TriageResult,
    *,
    transport: Transport | None = None,
    appender: Callable[..., None] = append_message,
) -> Reply | None:
    """Claim the reply this message is due (if any) and draft or send it once the caller commits."""
    prepared = prepare_reply(session, settings, mailbox, message_row, result)
    if prepared is None:
        return None
    reply, created = prepared
    if not created or reply.status not in ("drafted", "pending"):
        return reply
    reply_id, rfc_message_id = reply.id, reply.rfc_message_id

    def deliver(bind: Any) -> None:
        with Session(bind=bind, expire_on_commit=False) as own:
            deliver_reply(own, settings, reply_id, expected_message_id=rfc_message_id, transport=transport,
                          appender=appender)

    after_commit(session, deliver)
    return reply


@dataclass
class ReplyHook:
    """The after-store hook that drafts (or sends) replies; one per Settings."""

    settings: Settings
    transport: Transport | None = field(default=None, compare=False)
    appender: Callable[..., None] = field(default=append_message, compare=False)

    def __call__(self, session: Session, message: Message, result: TriageResult) -> None:
        mailbox = mailbox_of(self.settings, message)
        if mailbox is None:
            return
        draft_reply_for(session, self.settings, mailbox, message, result, transport=self.transport,
                        appender=self.appender)


def reply_hook(settings: Settings, *, transport: Transport | None = None,
               appender: Callable[..., None] = append_message) -> ReplyHook:
    """The hook to register with the worker: `register_hook(reply_hook(settings))`."""
    return ReplyHook(settings, transport=transport, appender=appender)
