"""Immutable types for a parsed mail: what every later stage reads and nothing may change.

A ParsedMessage is built once by `triage.message.parse.parse_message`. Later stages never look
at MIME again: they read `sections`, the readable texts of the mail (the new text of the body,
each forwarded original, each attachment), each with a name so evidence can say where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """One mailbox: display name (decoded) and the address in lower case."""

    name: str
    email: str

    def __str__(self) -> str:
        # Outlook forward blocks often show only a display name: then the name alone, not "Name <>".
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.email or self.name

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass(frozen=True)
class CalendarEvent:
    """The first VEVENT of an iCalendar attachment."""

    summary: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None
    organizer: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file attached to the mail, with the text later stages may cite.

    `kind` is one of pdf, docx, ics, text, html, message, tnef, other. `text` is the extracted
    readable text ("" when nothing could be read); `error` says why extraction failed, if it did.
    """

    filename: str
    content_type: str
    size: int
    kind: str
    text: str = ""
    error: str | None = None
    calendar: CalendarEvent | None = None


@dataclass(frozen=True)
class ForwardedMessage:
    """An original message recovered from a forward (inline header block or message/rfc822)."""

    sender: Address | None
    subject: str | None
    date: datetime | None
    date_raw: str | None
    to: tuple[Address, ...]
    text: str
    how: str  # "inline" (a header block in the text) or "rfc822" (an attached message)


@dataclass(frozen=True)
class Section:
    """One readable text of a mail: where it came from, and the text itself.

    `source` is subject, body, forwarded, attachment or signature; `name` is the attachment's file name or
    "forwarded[0]" style index, None for the subject and body.
    """

    source: str
    name: str | None
    text: str

    @property
    def label(self) -> str:
        return self.source if self.name is None else f"{self.source}:{self.name}"


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the judging stages need from one mail, decoded and immutable."""

    raw_sha256: str
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    date_raw: str | None
    auto_submitted: str | None
    precedence: str | None
    list_id: str | None
    return_path: str | None
    #: Every header as decoded (name, value) pairs, in order, for rules that need another one.
    headers: tuple[tuple[str, str], ...]
    #: The whole best text body (HTML turned into text when there is no plain part).
    body_text: str
    #: The part of the body the sender wrote now: above quotes, forwards and the signature.
    new_text: str
    quoted_text: str
    signature: str
    html: str | None
    forwarded: tuple[ForwardedMessage, ...]
    attachments: tuple[Attachment, ...]
    language: str | None
    #: Things the parser noticed and worked around (unknown charset, truncated part…).
    defects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def original_sender(self) -> Address | None:
        """The sender of the innermost forwarded original, else the sender of the mail."""
        for fwd in reversed(self.forwarded):
            if fwd.sender is not None:
                return fwd.sender
        return self.sender

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), decoded, or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def sections(self) -> tuple[Section, ...]:
        """The readable texts, in reading order, that extraction and rules may cite."""
        parts: list[Section] = [Section("subject", None, self.subject), Section("body", None, self.new_text)]
        for index, fwd in enumerate(self.forwarded):
            parts.append(Section("forwarded", f"forwarded[{index}]", fwd.text))
        for attachment in self.attachments:
            if attachment.text:
                parts.append(Section("attachment", attachment.filename, attachment.text))
        if self.signature:
            parts.append(Section("signature", None, self.signature))
        return tuple(parts)

    @property
    def document_text(self) -> str:
        """All sections joined by blank lines: the text the classifier reads and labels quote."""
        return "\n\n".join(section.text for section in self.sections if section.text)
