"""The review UI's Send button: hand one stored reply, as the person left it, to SMTP.

`triage.web.sending.send_via_outbound` calls `send_stored_reply`; the UI owns the "once" (it
moves the reply to pending with a conditional UPDATE and commits before calling) and records
the outcome. This function only builds the threaded MIME message and sends it.
"""

from __future__ import annotations

from collections.abc import Mapping

from triage.config import Settings
from triage.db.schema import Message, Reply
from triage.outbound.replies.dispatch import ReplyNotSendable, check_sender, stored_reply_message
from triage.outbound.smtp import Transport, transport_for


def send_stored_reply(
    settings: Settings,
    message: Message,
    reply: Reply,
    *,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Send `reply` (to `message`) by SMTP now; raises SmtpError or ReplyNotSendable when it cannot."""
    if not reply.recipient:
        raise ReplyNotSendable(f"reply {reply.id} has no recipient")
    check_sender(settings, message)
    mail = stored_reply_message(settings, message, reply)
    (transport or transport_for(settings.smtp, environ=environ))(mail, [reply.recipient])
