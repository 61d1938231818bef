"""Walk a mail's MIME tree within the limits: which parts are the body, which are attachments.

Body parts are inline text/plain and text/html parts without a file name. In
multipart/alternative the plain part wins unless it is empty or a stub of the HTML one; a
text/calendar alternative (Outlook meeting requests) is kept as an .ics attachment. In
multipart/related the first part is the body and inline images are layout, not attachments.
Signature parts of multipart/signed are skipped. Attached mails are handed to the `nested`
callback (parse.py), which parses them with the same code.

The walk stops at `max_parts` parts and does not go below `max_depth` levels; both are recorded
as defects. Every part's text is decoded by charset.py and never raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import TYPE_CHECKING

from triage.message import attachments as readers
from triage.message.charset import decode_bytes, fix_surrogates
from triage.message.depth import cut_deep_parts, depth_defect
from triage.message.envelope import Attachment, ForwardedMessage
from triage.message.headers import decode_encoded_words
from triage.message.html_text import html_to_text, meta_charset
from triage.message.text import letters, unflow

if TYPE_CHECKING:
    from triage.message.parse import ParseLimits

_SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
#: A plain alternative with fewer letters than this share of the HTML one is a stub ("view in browser",
#: "Se HTML."); a plain part made from the HTML keeps nearly all of its words, and the HTML text is
#: never poorer than the plain one, so erring towards the HTML loses nothing.
_STUB_SHARE = 0.5
_STUB_MIN_HTML_LETTERS = 200
#: Only plain parts shorter than this are checked for being a stub (the check converts the HTML).
_STUB_CHECK_BELOW = 1000


@dataclass
class WalkState:
    """Shared by the whole walk of one mail, attached mails included."""

    limits: ParseLimits
    defects: list[str] = field(default_factory=list)
    parts: int = 0

    def defect(self, text: str) -> None:
        """Record a defect once."""
        if text not in self.defects:
            self.defects.append(text)


@dataclass
class Nested:
    """What an attached mail contributes: its forwarded originals and its attachments."""

    forwarded: list[ForwardedMessage]
    attachments: list[Attachment]


#: Parses an attached mail (a Message, or raw bytes of an .eml file) one level deeper.
NestedReader = Callable[[Message | bytes, int, str], Nested | None]


@dataclass
class Collected:
    """Body pieces in reading order, raw HTML seen, attachments and attached originals."""

    pieces: list[tuple[str, str]] = field(default_factory=list)  # ("plain" | "html", text)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[ForwardedMessage] = field(default_factory=list)
    #: (index in attachments, body text) of each winmail.dat, for a mail with no other body.
    tnef_bodies: list[tuple[int, str]] = field(default_factory=list)

    def merge(self, other: Collected, *, body: bool = True) -> None:
        """Add what `other` collected; without `body`, only its raw HTML, attachments and originals."""
        offset = len(self.attachments)
        if body:
            self.pieces.extend(other.pieces)
        self.html.extend(other.html)
        self.attachments.extend(other.attachments)
        self.forwarded.extend(other.forwarded)
        self.tnef_bodies.extend((index + offset, text) for index, text in other.tnef_bodies)

    def plain_letters(self) -> int:
        """How many letters the plain-text pieces hold."""
        return sum(letters(text) for kind, text in self.pieces if kind == "plain")


def read_mime(data: bytes, state: WalkState, depth: int = 0) -> tuple[Message, bool]:
    """Parse bytes (a mail `depth` levels below the top one) with the stdlib parser (compat32: it
    never raises on access); returns the message and whether its body could be read.

    Entities deeper than `max_depth` are emptied first (depth.py), so the parser's cost stays
    linear however deep a hostile mail nests; a structure that still runs the parser out of stack
    (a site's very high max_depth) keeps its headers and loses its body, with a defect."""
    limit = state.limits.max_depth
    data, cut = cut_deep_parts(data, limit - depth)
    if cut:
        state.defect(depth_defect(limit))
    parser = BytesParser(policy=compat32)
    try:
        return parser.parsebytes(data), True
    except RecursionError:
        state.defect("MIME structure nested too deeply to parse; body skipped")
    except Exception as exc:  # noqa: BLE001 - the stdlib parser is meant never to raise; be sure
        state.defect(f"MIME structure unreadable ({type(exc).__name__}); body skipped")
    return parser.parsebytes(data, headersonly=True), False


def content_type(part: Message) -> str:
    """The part's content type in lower case ("text/plain" when it is missing or broken)."""
    try:
        value = part.get_content_type()
    except Exception:  # noqa: BLE001
        return "text/plain"
    value, _ = fix_surrogates(value)
    return value.lower()


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    text, _ = fix_surrogates(str(value))
    return text.strip()


def filename_of(part: Message) -> str:
    """The part's file name: RFC 2231 and RFC 2047 decoded, without directories; "" if none."""
    try:
        raw = part.get_filename()
    except Exception:  # noqa: BLE001 - a broken parameter list: no name
        raw = None
    if not raw:
        return ""
    text, _ = fix_surrogates(str(raw))
    text, _ = decode_encoded_words(text, what="filename")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in text if ch >= " ").strip().strip('"')


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None


def payload_bytes(part: Message, state: WalkState) -> bytes:
    """The part's content with its transfer encoding undone (lenient base64 and QP)."""
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001 - fall back to the raw payload
        state.defect(f"transfer encoding unreadable ({type(exc).__name__}); raw content used")
        raw = _raw_payload(part)
        data = raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else b""
    if isinstance(data, bytes):
        return data
    return b""


def raw_header(part: Message, name: str) -> str | None:
    """The first header `name` (lower case) as stored, without the stdlib's conversions."""
    for key, value in part.raw_items():
        if str(key).lower() == name:
            return str(value)
    return None


def _raw_payload(part: Message) -> list[Message] | str:
    """The parsed sub-parts, or the payload text as parsed; never decoded by a charset.

    Message.get_payload() without decode=True decodes 8-bit text with the part's charset
    parameter and raises on some (a NUL in the label, an RFC 2231 tuple); the walk only needs
    the structure, so it reads what the parser stored.
    """
    payload = getattr(part, "_payload", None)
    if isinstance(payload, list | str):
        return payload
    return ""


def _record_defects(part: Message, state: WalkState) -> None:
    for defect in getattr(part, "defects", ()) or ():
        state.defect(f"MIME: {type(defect).__name__}")


class Walker:
    """One walk over one (possibly attached) mail."""

    def __init__(self, state: WalkState, nested: NestedReader) -> None:
        self.state = state
        self.nested = nested

    # -- structure ----------------------------------------------------------------------------

    def walk(self, part: Message, depth: int) -> Collected:
        """Everything readable in `part` and below it, `depth` levels down from the top mail."""
        out = Collected()
        self._part(part, depth, out)
        return out

    def _admit(self, depth: int) -> bool:
        limits = self.state.limits
        if depth > limits.max_depth:
            self.state.defect(depth_defect(limits.max_depth))
            return False
        self.state.parts += 1
        if self.state.parts > limits.max_parts:
            self.state.defect(f"more than {limits.max_parts} MIME parts; the rest skipped")
            return False
        return True

    def _part(self, part: Message, depth: int, out: Collected) -> None:
        if not self._admit(depth):
            return
        _record_defects(part, self.state)
        ctype = content_type(part)
        payload = _raw_payload(part)
        if ctype in ("message/rfc822", "message/global"):
            self._attached_mail(part, depth, out)
            return
        if isinstance(payload, list) and not ctype.startswith("multipart/"):
            self._status_report(part, ctype, payload, out)
            return
        if ctype.startswith("multipart/"):
            if not isinstance(payload, list):
                # No boundary or none found: the content is all we have; read it as text.
                self._body_piece(part, "text/plain", out)
                return
            children = [child for child in payload if isinstance(child, Message)]
            if ctype == "multipart/alternative":
                self._alternative(children, depth, out)
            elif ctype == "multipart/related":
                self._related(children, depth, out)
            else:
                for child in children:
                    if content_type(child) in _SIGNATURE_TYPES:
                        continue
                    self._part(child, depth + 1, out)
            return
        self._leaf(part, ctype, depth, out)

    def _alternative(self, children: list[Message], depth: int, out: Collected) -> None:
        walked = [(content_type(child), self.walk(child, depth + 1)) for child in children]
        plain = next((c for t, c in walked if any(k == "plain" and s.strip() for k, s in c.pieces)), None)
        html = next((c for t, c in walked if any(k == "html" for k, _ in c.pieces)), None)
        chosen = plain or html or (walked[0][1] if walked else None)
        if plain is not None and html is not None and plain.plain_letters() < _STUB_CHECK_BELOW:
            html_letters = sum(letters(html_to_text(text)[0]) for kind, text in html.pieces if kind == "html")
            if html_letters >= _STUB_MIN_HTML_LETTERS and plain.plain_letters() < _STUB_SHARE * html_letters:
                self.state.defect("text/plain alternative is a stub of the HTML one; HTML used")
                chosen = html
        for ctype, collected in walked:
            if collected is chosen:
                out.merge(collected)
            elif ctype in ("text/calendar", "application/ics") or collected is html:
                out.merge(collected, body=False)  # the HTML is kept raw; calendars are attachments

    def _related(self, children: list[Message], depth: int, out: Collected) -> None:
        for position, child in enumerate(children):
            ctype = content_type(child)
            inline_image = position > 0 and ctype.startswith("image/") and (
                raw_header(child, "content-id") is not None or _disposition(child) != "attachment"
            )
            if inline_image:
                self.state.parts += 1
                continue
            self._part(child, depth + 1, out)

    # -- leaves -------------------------------------------------------------------------------

    def _leaf(self, part: Message, ctype: str, depth: int, out: Collected) -> None:
        filename = filename_of(part)
        if ctype in ("text/plain", "text/html") and _disposition(part) != "attachment" and not filename:
            self._body_piece(part, ctype, out)
            return
        data = payload_bytes(part, self.state)
        name = filename or readers.default_filename(ctype, self.state.parts)
        self._attachment(name, ctype, data, _param(part, "charset"), depth, out)

    def _body_piece(self, part: Message, ctype: str, out: Collected) -> None:
        data = payload_bytes(part, self.state)
        charset = _param(part, "charset")
        if ctype == "text/html" and charset is None:
            charset = meta_charset(data)
        text, defects = decode_bytes(data, charset, what="body")
        for defect in defects:
            self.state.defect(defect)
        if ctype == "text/html":
            limit = self.state.limits.max_body_chars * 4
            if len(text) > limit:
                self.state.defect(f"HTML body over {limit} characters, cut")
                text = text[:limit]
            out.pieces.append(("html", text))
            out.html.append(text)
            return
        if (_param(part, "format") or "").lower() == "flowed":
            text = unflow(text, delsp=(_param(part, "delsp") or "").lower() == "yes")
        out.pieces.append(("plain", text))

    def _attachment(self, name: str, ctype: str, data: bytes, charset: str | None, depth: int, out: Collected) -> None:
        kind = readers.kind_of(ctype, name, data)
        limit = self.state.limits.max_attachment_text_chars
        what = f"attachment {name!r}"
        text, error, calendar = "", None, None
        unpacking = {"max_unpacked_bytes": self.state.limits.max_unpacked_bytes,
                     "max_ratio": self.state.limits.max_compression_ratio}
        if kind == "pdf":
            text, error = readers.read_pdf(data, limit, **unpacking)
        elif kind == "docx":
            text, error = readers.read_docx(data, limit, **unpacking)
        elif kind == "ics":
            text, calendar, error = readers.read_ics(data, limit)
        elif kind in ("text", "html"):
            reader = readers.read_text if kind == "text" else readers.read_html
            text, defects = reader(data, charset, limit, what=what)
            for defect in defects:
                self.state.defect(defect)
        elif kind == "tnef":
            self._tnef(name, ctype, data, depth, out)
            return
        elif kind == "message":
            out.attachments.append(Attachment(filename=name, content_type=ctype, size=len(data), kind="message"))
            found = self.nested(data, depth + 1, name)
            if found is not None:
                out.forwarded.extend(found.forwarded)
                out.attachments.extend(found.attachments)
            return
        if len(text) >= limit:
            self.state.defect(f"text of {what} cut at {limit} characters")
        out.attachments.append(Attachment(
            filename=name, content_type=ctype, size=len(data), kind=kind, text=text, error=error, calendar=calendar,
        ))

    def _attached_mail(self, part: Message, depth: int, out: Collected) -> None:
        payload = _raw_payload(part)
        inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
        name = filename_of(part)
        size = 0
        source: Message | bytes
        if inner is None:
            source = payload_bytes(part, self.state)
            size = len(source)
        else:
            source = inner
            try:
                size = len(inner.as_bytes(policy=compat32))
            except Exception:  # noqa: BLE001 - size is a nicety; a broken part has none
                size = 0
        if not name:
            subject = raw_header(inner, "subject") if inner is not None else None
            subject_text, _ = decode_encoded_words(fix_surrogates(subject)[0]) if subject else ("", [])
            name = f"{(subject_text or 'message').strip()[:80]}.eml"
        out.attachments.append(Attachment(filename=name, content_type=content_type(part), size=size, kind="message"))
        found = self.nested(source, depth + 1, name)
        if found is not None:
            out.forwarded.extend(found.forwarded)
            out.attachments.extend(found.attachments)

    def _status_report(self, part: Message, ctype: str, payload: list, out: Collected) -> None:
        """message/delivery-status and the like: header blocks, kept as a text attachment."""
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append("\n".join(f"{k}: {fix_surrogates(str(v))[0]}" for k, v in block.raw_items()))
        text = "\n\n".join(blocks)[: self.state.limits.max_attachment_text_chars]
        name = filename_of(part) or readers.default_filename(ctype, self.state.parts)
        out.attachments.append(Attachment(filename=name, content_type=ctype, size=len(text), kind="text", text=text))

    def _tnef(self, name: str, ctype: str, data: bytes, depth: int, out: Collected) -> None:
        content = readers.read_tnef(data)
        for defect in content.defects:
            self.state.defect(defect)
        index = len(out.attachments)
        out.attachments.append(Attachment(filename=name, content_type=ctype, size=len(data), kind="tnef",
                                          error=content.error))
        if content.body:
            out.tnef_bodies.append((index, content.body))
        for inner_name, inner_data in content.files:
            if not self._admit(depth + 1):
                break
            guessed = readers.guess_type(inner_name)
            self._attachment(inner_name, guessed, inner_data, None, depth + 1, out)


def with_text(attachment: Attachment, text: str) -> Attachment:
    """The same attachment carrying `text` (a winmail.dat whose body was not needed as the body)."""
    return dataclasses.replace(attachment, text=text)
