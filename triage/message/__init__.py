"""The message envelope: raw RFC 5322 bytes in, an immutable ParsedMessage out."""

from triage.message.envelope import (
    Address,
    Attachment,
    CalendarEvent,
    ForwardedMessage,
    ParsedMessage,
    Section,
)

__all__ = ["Address", "Attachment", "CalendarEvent", "ForwardedMessage", "ParsedMessage", "Section"]
