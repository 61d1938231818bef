"""Parse raw RFC 5322 bytes into a ParsedMessage: the one door every mail comes in by.

What is "not a mail at all" (MessageParseError, which the pipeline turns into the result's
`error`) and what is a mail with defects (parsed; `defects` says what was worked around) is
decided here, and only here:

MessageParseError when
  * the input is not bytes (bytes, bytearray and memoryview are accepted);
  * it is larger than `limits.max_message_bytes`;
  * it is empty, or only white space, once a UTF-8 byte-order mark and leading blank lines are
    skipped;
  * it has no header section: the input must open (after an optional mbox "From " line) with
    header fields, and at least one of them must be a field every mail has one of — From,
    Sender, To, Cc, Bcc, Subject, Date, Message-ID, Reply-To, In-Reply-To, References,
    MIME-Version, Content-Type, Received, Return-Path or Delivered-To.

Everything else is a mail, however broken: a missing From, Date or Message-ID, an unreadable
date, unknown charsets, broken base64, missing or wrong MIME boundaries, a header section over
`max_header_bytes` (cut at the last whole field), more than `max_parts` parts or more than
`max_depth` levels (the walk stops there; deeper entities are emptied before the stdlib parser
runs, see depth.py), a structure too deep for the stdlib parser (headers kept, body skipped), a body over `max_body_chars` (cut), attachments that cannot be read
(the Attachment carries `error`). Each such case adds a line to `defects`.

Any other exception out of parse_message is a bug.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from triage.message import headers as hdr
from triage.message.body import BodySplit, split_body
from triage.message.charset import fix_surrogates
from triage.message.dates import parse_loose_date, parse_rfc5322_date
from triage.message.depth import depth_defect
from triage.message.envelope import Address, Attachment, ForwardedMessage, ParsedMessage
from triage.message.html_text import html_to_text
from triage.message.language import language_of_parts
from triage.message.mime import (
    Collected,
    Nested,
    Walker,
    WalkState,
    read_mime,
    with_text,
)
from triage.message.text import cap, clean_text


class MessageParseError(ValueError):
    """The bytes cannot be read as a mail at all; the message is kept with this error."""


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep one hostile mail from eating the worker's memory or time."""

    max_message_bytes: int = 30 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_header_bytes: int = 256 * 1024
    max_attachment_text_chars: int = 200_000
    max_body_chars: int = 500_000
    #: Bytes one compressed attachment (a DOCX zip, a PDF stream) may unpack to.
    max_unpacked_bytes: int = 32 * 1024 * 1024
    #: Unpacked to packed size above which a member or stream is taken for a bomb.
    max_compression_ratio: int = 100


@dataclass
class _Content:
    """One mail's readable content, before it becomes a ParsedMessage (or a ForwardedMessage)."""

    headers: tuple[tuple[str, str], ...]
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    date: datetime | None
    date_raw: str | None
    body_text: str
    html: str | None
    split: BodySplit
    forwarded: list[ForwardedMessage]
    attachments: list[Attachment]


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    raise MessageParseError(f"expected the raw bytes of a mail, got {type(raw).__name__}")


def _strip_leading(data: bytes) -> bytes:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.lstrip(b"\r\n")


def _first_line(data: bytes) -> str:
    line = data.split(b"\n", 1)[0][:60]
    return line.decode("utf-8", errors="replace").strip()


class _Parser:
    """One call of parse_message: the limits, the defects and the walk state it shares."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.state = WalkState(limits=limits)
        self.walker = Walker(self.state, self._nested)

    def defect(self, text: str) -> None:
        """Record a defect once."""
        self.state.defect(text)

    # -- headers --------------------------------------------------------------------------------

    def _decoded_headers(self, message: Message) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        for name, value in message.raw_items():
            name_text, _ = fix_surrogates(str(name))
            value_text, defects = hdr.decode_value(str(value), name=name_text)
            for defect in defects:
                self.defect(defect)
            pairs.append((name_text.strip(), value_text))
        return tuple(pairs)

    def _addresses(self, message: Message, name: str) -> tuple[Address, ...]:
        found: list[Address] = []
        for key, value in message.raw_items():
            if key.lower() == name:
                addresses, defects = hdr.parse_addresses(str(value), name=key)
                found.extend(addresses)
                for defect in defects:
                    self.defect(defect)
        return tuple(found)

    # -- content --------------------------------------------------------------------------------

    def content(self, message: Message, depth: int, body_readable: bool, *, top: bool) -> _Content:
        """Headers, body, split, originals and attachments of one mail (`top` for the mail itself)."""
        pairs = self._decoded_headers(message)
        first = {}
        for name, value in pairs:
            first.setdefault(name.lower(), value)
        subject = first.get("subject", "")
        senders = self._addresses(message, "from") or self._addresses(message, "sender")
        sender = senders[0] if senders else None
        date_raw = first.get("date")
        date = parse_rfc5322_date(date_raw) if date_raw else None
        if top:
            if sender is None:
                self.defect("no From header" if "from" not in first else "no readable From address")
            if date_raw is None:
                self.defect("no Date header")
            elif date is None:
                self.defect(f"invalid Date header {date_raw[:80]!r}")
            if "message-id" not in first:
                self.defect("no Message-ID header")
        elif date is None and date_raw:
            date = parse_loose_date(date_raw)

        collected = self.walker.walk(message, depth) if body_readable else Collected()
        body_text, html = self._body(collected)
        attachments = list(collected.attachments)
        if not body_text.strip() and collected.tnef_bodies:
            body_text = collected.tnef_bodies[0][1]
            self.defect("body taken from winmail.dat")
        else:
            for index, text in collected.tnef_bodies:
                attachments[index] = with_text(attachments[index], text[: self.limits.max_attachment_text_chars])
        body_text, was_cut = cap(body_text, self.limits.max_body_chars)
        if was_cut:
            self.defect(f"body over {self.limits.max_body_chars} characters, cut")

        split = split_body(body_text, subject)
        forwarded = [self._inline_forward(fields=f.fields, text=f.text) for f in split.forwards]
        forwarded.extend(collected.forwarded)
        return _Content(
            headers=pairs, subject=subject, sender=sender, to=self._addresses(message, "to"), date=date,
            date_raw=date_raw, body_text=body_text, html=html, split=split, forwarded=forwarded,
            attachments=attachments,
        )

    def _body(self, collected: Collected) -> tuple[str, str | None]:
        """Plain pieces when there are any, else the HTML pieces as text; and the first raw HTML."""
        html = collected.html[0] if collected.html else None
        plain = [text for kind, text in collected.pieces if kind == "plain" and text.strip()]
        if plain:
            return clean_text("\n\n".join(plain)), html
        texts = []
        for kind, text in collected.pieces:
            if kind == "html":
                readable, defects = html_to_text(text)
                for defect in defects:
                    self.defect(defect)
                texts.append(readable)
        return clean_text("\n\n".join(t for t in texts if t)), html

    def _inline_forward(self, *, fields: dict[str, str], text: str) -> ForwardedMessage:
        senders, _ = hdr.parse_addresses(fields.get("from"), name="forwarded From")
        to, _ = hdr.parse_addresses(fields.get("to"), name="forwarded To")
        date_raw = fields.get("date") or None
        return ForwardedMessage(
            sender=senders[0] if senders else None,
            subject=fields.get("subject") or None,
            date=parse_loose_date(date_raw),
            date_raw=date_raw,
            to=to,
            text=text,
            how="inline",
        )

    def _nested(self, source: Message | bytes, depth: int, name: str) -> Nested | None:
        """An attached mail, parsed with the same code one level deeper."""
        if depth > self.limits.max_depth:
            self.defect(depth_defect(self.limits.max_depth))
            return None
        readable = True
        if isinstance(source, bytes):
            data = _strip_leading(source)
            if not data.strip():
                return None
            source, readable = read_mime(data, self.state, depth)
            if not hdr.looks_like_mail(source.keys()):
                self.defect(f"attached message {name!r} has no header section")
                return None
        content = self.content(source, depth, readable, top=False)
        original = ForwardedMessage(
            sender=content.sender, subject=content.subject or None, date=content.date,
            date_raw=content.date_raw, to=content.to, text=content.split.own_text, how="rfc822",
        )
        return Nested(forwarded=[original, *content.forwarded], attachments=content.attachments)


def parse_message(raw: bytes, *, limits: ParseLimits | None = None) -> ParsedMessage:
    """Parse one mail; raises MessageParseError only when the bytes are not a mail at all."""
    limits = limits or ParseLimits()
    data = _as_bytes(raw)
    if len(data) > limits.max_message_bytes:
        raise MessageParseError(f"message is {len(data)} bytes, over the limit of {limits.max_message_bytes}")
    raw_sha256 = hashlib.sha256(data).hexdigest()
    data = _strip_leading(data)
    if not data.strip():
        raise MessageParseError("empty message")
    parser = _Parser(limits)
    data, cut = hdr.limit_header_section(data, limits.max_header_bytes)
    if cut:
        parser.defect(cut)
    message, readable = read_mime(data, parser.state)
    if not hdr.looks_like_mail(message.keys()):
        raise MessageParseError(f"not a mail: no header section (input starts {_first_line(data)!r})")
    content = parser.content(message, 0, readable, top=True)
    split = content.split

    reply_to = parser._addresses(message, "reply-to")
    first = {}
    for name, value in content.headers:
        first.setdefault(name.lower(), value)
    return ParsedMessage(
        raw_sha256=raw_sha256,
        message_id=hdr.parse_message_id(first.get("message-id")),
        in_reply_to=hdr.parse_message_id(first.get("in-reply-to")),
        references=hdr.parse_message_ids(first.get("references")),
        subject=content.subject,
        sender=content.sender,
        reply_to=reply_to,
        to=content.to,
        cc=parser._addresses(message, "cc"),
        date=content.date,
        date_raw=content.date_raw,
        auto_submitted=_token(first.get("auto-submitted")),
        precedence=_token(first.get("precedence")),
        list_id=first.get("list-id") or None,
        return_path=hdr.parse_return_path(first.get("return-path")),
        headers=content.headers,
        body_text=content.body_text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        html=content.html,
        forwarded=tuple(content.forwarded),
        attachments=tuple(content.attachments),
        language=language_of_parts([split.new_text, *(fwd.text for fwd in content.forwarded)],
                                   fallback=content.subject),
        defects=tuple(parser.state.defects),
    )


def _token(value: str | None) -> str | None:
    """A token-valued header (Auto-Submitted, Precedence) in lower case, or None."""
    if value is None:
        return None
    return value.strip().lower() or None
