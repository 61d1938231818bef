"""Decide, claim, then draft or send a reply: once per original, never to the wrong mail.

Three steps, each on its own side of a commit:

1. `prepare_reply` (inside the message's transaction, no network): is a reply due (the verdict
   is `needs_info`, or `non_compliant` when `reply_to_non_compliant`; `reply_mode` is not
   `off`)? Compose it, run the never-harmful checks (`loop`), the one-per-original and the
   per-sender limits (`limits`), and claim it with `store.claim_reply` — `drafted` (draft mode:
   waiting for a person), `pending` (send mode: to be sent now) or `suppressed` (with the
   reason). A mail the decision sent to review is drafted, never sent automatically.
2. `deliver_reply` (after that transaction committed): a draft is appended to the mailbox's
   Drafts folder (for a mailbox that can hold one; else the review UI holds it); a reply to be
   sent is marked as being sent (`sent_at` set while still `pending`) and committed, then
   handed to SMTP, then marked `sent` or `failed`. A crash in between leaves it `pending` with
   `sent_at`: outcome unknown, never sent a second time by itself.
3. `send_reply` (a person: `triage replies send ID`): a drafted or failed reply is claimed with
   one conditional UPDATE and committed before it is sent, so two people cannot send it twice.

Statuses as the review UI reads them: drafted and failed can be sent by a person; pending is
being sent; sent is final; suppressed is held back for the reason stored with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import update
from sqlalchemy.orm import Session

from triage.config import ConfigError, MailboxConfig, Settings
from triage.db import store
from triage.db.schema import Message, Reply, utcnow
from triage.logs import get_logger
from triage.message.envelope import ParsedMessage
from triage.message.parse import MessageParseError, parse_message
from triage.pipeline.factory import parse_limits
from triage.outbound.imap import DRAFT_FLAGS, AppendError, append_message, can_append
from triage.outbound.mail import domain_of, new_message_id, references_for
from triage.outbound.replies.compose import (
    NO_ADDRESS_DOMAIN,
    compose_reply,
    our_address,
    internal_domains,
    own_addresses,
    reply_target,
    reply_message,
)
from triage.outbound.replies.limits import already_answered, reply_of, sender_limit
from triage.outbound.replies.loop import Refusal, why_not_reply
from triage.outbound.smtp import SmtpError, Transport, transport_for
from triage.results import TriageResult

log = get_logger(__name__)

#: `sent_by` of a reply triage sent by itself (send mode).
AUTO_SENDER = "triage"
#: Statuses a person may send; with --force also a held-back or an unfinished one.
SENDABLE: tuple[str, ...] = ("drafted", "failed")
FORCE_SENDABLE: tuple[str, ...] = ("drafted", "failed", "suppressed", "pending")

Appender = Callable[..., None]


class ReplyNotSendable(RuntimeError):
    """The reply is not in a state that may be sent (sent already, being sent, held back)."""


def wanted_verdicts(mailbox: MailboxConfig) -> frozenset[str]:
    """The verdicts that get a reply in this mailbox."""
    return frozenset({"needs_info", "non_compliant"} if mailbox.reply_to_non_compliant else {"needs_info"})


def parse_stored(settings: Settings, message: Message) -> ParsedMessage | None:
    """The stored mail parsed again (the reply needs its headers); None when it is not a mail."""
    try:
        return parse_message(message.raw, limits=parse_limits(settings))
    except MessageParseError:
        return None


def mailbox_of(settings: Settings, message: Message) -> MailboxConfig | None:
    """The configured mailbox a stored message belongs to (None: no longer configured)."""
    try:
        return settings.mailbox(message.mailbox)
    except ConfigError:
        return None


# --- 1. decide and claim ------------------------------------------------------------------------

def prepare_reply(
    session: Session,
    settings: Settings,
    mailbox: MailboxConfig,
    message: Message,
    result: TriageResult | None,
    *,
    now: datetime | None = None,
    parsed: ParsedMessage | None = None,
) -> tuple[Reply, bool] | None:
    """Claim the reply `message` is due, composed; (reply, created), or None when none is due.

    No network and no commit: runs inside the caller's transaction (the worker's, per message).
    """
    if mailbox.reply_mode == "off" or result is None or result.error:
        return None
    if result.decision.verdict not in wanted_verdicts(mailbox):
        return None
    existing = reply_of(session, message)
    if existing is not None:
        return existing, False
    parsed = parsed or parse_stored(settings, message)
    if parsed is None:
        return None
    now = now or utcnow()
    composed = compose_reply(parsed, result, settings=settings, mailbox=mailbox, received_at=message.received_at,
                             now=now)
    if composed is not None and not composed.missing and not composed.violations:
        return None  # nothing to ask for, nothing to point out
    recipient = composed.recipient if composed is not None else None

    def is_our_reply(message_id: str) -> bool:
        return store.find_reply_by_rfc_message_id(session, message_id) is not None

    refusal: Refusal | None = why_not_reply(
        parsed, recipient=recipient, own_addresses=own_addresses(settings), is_our_reply=is_our_reply
    )
    refusal = refusal or already_answered(session, message)
    if refusal is None and recipient is not None:
        refusal = sender_limit(session, recipient, settings.smtp.max_replies_per_sender_per_day, now)
    mode = mailbox.reply_mode
    if mode == "send" and (result.decision.needs_review or (composed is not None and composed.via_forward)):
        # A verdict a person must check, or an answer to the supplier of a mail a colleague
        # forwarded (someone who did not write to us), is never sent automatically.
        mode = "draft"
    status = "suppressed" if refusal is not None else ("drafted" if mode == "draft" else "pending")
    reply, created = store.claim_reply(
        session, message, mode=mode, recipient=recipient,
        subject=composed.subject if composed else None, body_text=composed.body_text if composed else None,
        language=composed.language if composed else None,
        rfc_message_id=composed.message_id if composed else None,
        in_reply_to=parsed.message_id, status=status, reason=str(refusal) if refusal else None, now=now,
    )
    if created and status == "drafted":
        reply.drafted_at = now
        session.flush()
    log.info("reply prepared", mailbox=mailbox.name, message=message.id, reply=reply.id, status=reply.status,
             mode=mode, reason=reply.reason)
    return reply, created


# --- the mail of a stored reply -----------------------------------------------------------------

def stored_reply_message(settings: Settings, message: Message, reply: Reply, *, date: datetime | None = None) -> EmailMessage:
    """The MIME message of a stored reply as it stands now (a person may have edited it)."""
    mailbox = mailbox_of(settings, message) or MailboxConfig(name=message.mailbox)
    parsed = parse_stored(settings, message)
    name = None
    references: list[str] = []
    if parsed is not None:
        address, _forwarded = reply_target(parsed, internal_domains(settings))
        if address is not None and address.email.lower() == (reply.recipient or "").lower():
            name = address.name or None
        references = references_for(parsed.message_id, parsed.references)
    elif reply.in_reply_to:
        references = [reply.in_reply_to]
    sender = our_address(settings, mailbox)
    if not reply.recipient:
        raise ReplyNotSendable(f"reply {reply.id} has no recipient")
    return reply_message(
        sender=sender, recipient=reply.recipient, recipient_name=name, subject=reply.subject or "",
        body_text=reply.body_text or "", message_id=reply.rfc_message_id or new_message_id(domain_of(sender)),
        in_reply_to=reply.in_reply_to, references=references, language=reply.language, date=date or utcnow(),
    )


def same_folder(one: str, other: str) -> bool:
    """Whether two folder names name the same folder (INBOX in any case, "/" or "." as separator)."""
    def norm(name: str) -> str:
        name = name.strip().strip("/.").replace(".", "/")
        return "INBOX" + name[5:] if name.upper().startswith("INBOX") and name[5:6] in ("", "/") else name
    return norm(one) == norm(other)


def check_sender(settings: Settings, message: Message) -> None:
    """Refuse to send from the placeholder address a mailbox without `address` gets."""
    mailbox = mailbox_of(settings, message) or MailboxConfig(name=message.mailbox)
    if our_address(settings, mailbox).endswith("@" + NO_ADDRESS_DOMAIN):
        raise ReplyNotSendable(
            f"mailbox {message.mailbox!r} has no address to send from: set `address` for the mailbox "
            "(or [smtp] sender)"
        )


# --- 2. after the commit: draft or send --------------------------------------------------------

def deliver_reply(
    session: Session,
    settings: Settings,
    reply_id: int,
    *,
    expected_message_id: str | None = None,
    transport: Transport | None = None,
    appender: Appender = append_message,
    now: datetime | None = None,
) -> str:
    """Draft or send a claimed, committed reply; commits. Returns what happened, in one word.

    drafted (appended to Drafts), kept (drafted; the mailbox holds no drafts: the review UI
    does), sent, failed, busy (someone else is on it), nothing (no such reply in that state).
    `expected_message_id` guards against acting on a different reply than the one claimed.
    """
    now = now or utcnow()
    reply = session.get(Reply, reply_id)
    if reply is None or (expected_message_id is not None and reply.rfc_message_id != expected_message_id):
        return "nothing"
    message = reply.message
    mailbox = mailbox_of(settings, message)
    if mailbox is None:
        return "nothing"
    if reply.mode == "draft" and reply.status == "drafted":
        if not can_append(mailbox):
            return "kept"
        try:
            if same_folder(mailbox.drafts_folder, mailbox.folder):
                # A draft in the folder the worker reads would come back in as a mail to judge.
                raise ReplyNotSendable(f"drafts_folder is the folder triage reads ({mailbox.folder!r}); "
                                       "set drafts_folder to another folder")
            mail = stored_reply_message(settings, message, reply, date=reply.created_at)
            appender(mailbox, mailbox.drafts_folder, mail.as_bytes(), flags=DRAFT_FLAGS)
        except (AppendError, ReplyNotSendable) as exc:
            store.mark_reply(session, reply, "drafted", error=f"not saved in {mailbox.drafts_folder}: {exc}", now=now)
            session.commit()
            log.error("reply draft not appended", mailbox=mailbox.name, reply=reply.id, error=str(exc))
            return "failed"
        log.info("reply drafted", mailbox=mailbox.name, reply=reply.id, folder=mailbox.drafts_folder)
        return "drafted"
    if reply.mode == "send" and reply.status == "pending" and reply.sent_at is None:
        taken = session.execute(
            update(Reply).where(Reply.id == reply.id, Reply.status == "pending", Reply.sent_at.is_(None))
            .values(sent_at=now).execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if taken != 1:
            return "busy"
        session.refresh(reply)
        return _send(session, settings, message, reply, sent_by=AUTO_SENDER, transport=transport)
    return "nothing"


def _send(session: Session, settings: Settings, message: Message, reply: Reply, *, sent_by: str,
          transport: Transport | None) -> str:
    """Send a reply claimed for sending (committed); record and commit the outcome."""
    try:
        check_sender(settings, message)
        mail = stored_reply_message(settings, message, reply)
        (transport or transport_for(settings.smtp))(mail, [reply.recipient or ""])
    except (SmtpError, ReplyNotSendable) as exc:
        reply.sent_at = None
        store.mark_reply(session, reply, "failed", error=str(exc))
        session.commit()
        log.error("reply not sent", mailbox=message.mailbox, reply=reply.id, error=str(exc))
        return "failed"
    store.mark_reply(session, reply, "sent", sent_by=sent_by)
    session.commit()
    log.info("reply sent", mailbox=message.mailbox, reply=reply.id, sent_by=sent_by)
    return "sent"


# --- 3. a person sends it ----------------------------------------------------------------------

def send_reply(
    session: Session,
    settings: Settings,
    reply_id: int,
    *,
    sent_by: str,
    force: bool = False,
    transport: Transport | None = None,
    now: datetime | None = None,
) -> Reply:
    """Send a stored reply for a person, once; commits. Raises ReplyNotSendable, or SmtpError when it failed.

    Drafted and failed replies may be sent; with `force` also a suppressed one (a person
    overrides the loop check or the limit) or one left pending (outcome unknown).
    """
    now = now or utcnow()
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise ReplyNotSendable(f"no reply with id {reply_id}")
    allowed = FORCE_SENDABLE if force else SENDABLE
    if reply.status not in allowed:
        hint = " (use --force to send it anyway)" if reply.status in FORCE_SENDABLE else ""
        raise ReplyNotSendable(f"reply {reply_id} is {reply.status}{hint}")
    check_sender(settings, reply.message)
    claimed = session.execute(
        update(Reply).where(Reply.id == reply.id, Reply.status == reply.status)
        .values(status="pending", error=None, sent_at=now).execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        session.refresh(reply)
        raise ReplyNotSendable(f"reply {reply_id} changed meanwhile: it is {reply.status} now")
    session.refresh(reply)
    outcome = _send(session, settings, reply.message, reply, sent_by=sent_by, transport=transport)
    if outcome == "failed":
        raise SmtpError(reply.error or "sending failed")
    return reply
