"""The seam through which the review UI's Send button sends a reply: once, by SMTP.

The UI owns the "once": it moves the reply from drafted (or failed) to pending with one
conditional UPDATE and commits before anything goes out, so a double click or a second browser
finds nothing to send. Sending itself is the outbound package's SMTP path, so a reply leaves
the same way whether the worker sends it or a person does.
"""

from __future__ import annotations

from typing import Protocol

from triage.config import Settings
from triage.db.schema import Message, Reply


class ReplySendError(RuntimeError):
    """The reply could not be handed to the SMTP server; the message says why."""


class ReplySender(Protocol):
    """Send one stored reply (its subject and text as the person left them) by SMTP."""

    def __call__(self, settings: Settings, message: Message, reply: Reply) -> None: ...


def send_via_outbound(settings: Settings, message: Message, reply: Reply) -> None:
    """Send the reply through `triage.outbound`'s SMTP path; raise ReplySendError when it fails."""
    try:
        from triage.outbound.send import send_stored_reply  # the outbound issue's SMTP path
    except ImportError as exc:  # pragma: no cover - until the outbound package lands
        raise ReplySendError(f"sending replies is not available in this installation ({exc})") from None
    if not settings.smtp.host:
        raise ReplySendError("no SMTP server is configured ([smtp] host)")
    try:
        send_stored_reply(settings, message, reply)
    except ReplySendError:
        raise
    except Exception as exc:  # noqa: BLE001 - shown to the person who pressed Send, and stored
        raise ReplySendError(f"{type(exc).__name__}: {exc}") from exc
