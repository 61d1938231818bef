"""Replies to suppliers: compose (what to ask for), loop (never harmful), limits, dispatch (draft or send)."""

from triage.outbound.replies.compose import ComposedReply, compose_reply
from triage.outbound.replies.dispatch import (
    ReplyNotSendable,
    deliver_reply,
    prepare_reply,
    send_reply,
    stored_reply_message,
)
from triage.outbound.replies.loop import Refusal, why_not_reply

__all__ = [
    "ComposedReply", "Refusal", "ReplyNotSendable", "compose_reply", "deliver_reply", "prepare_reply", "send_reply",
    "stored_reply_message", "why_not_reply",
]
