"""Header fields: the header section's bounds, RFC 2047 words, addresses, message ids and dates.

Everything here is tolerant: a broken encoded word stays as written, an unknown charset falls
back (see charset.py), an unreadable date is None. Problems come back as defect strings.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable
from email.utils import getaddresses

from triage.message.charset import decode_bytes, fix_surrogates
from triage.message.envelope import Address

#: Fields of which at least one must be present for bytes to count as a mail (see parse.py).
MAIL_FIELDS = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "subject", "date", "message-id", "reply-to", "in-reply-to",
        "references", "mime-version", "content-type", "received", "return-path", "delivered-to",
    }
)

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"\r?\n(?=[^ \t\r\n])")


def limit_header_section(data: bytes, max_bytes: int) -> tuple[bytes, str | None]:
    """Cut a header section longer than `max_bytes` at the last whole field; keep the body.

    Returns the (possibly shortened) bytes and a defect when something was cut.
    """
    end = _HEADER_END.search(data, 0, max_bytes + 4)
    if end is not None or len(data) <= max_bytes:
        return data, None
    head = data[:max_bytes]
    starts = [match.start() for match in _FIELD_START.finditer(head)]
    kept = head[: starts[-1]] if starts else b""
    rest = _HEADER_END.search(data, max_bytes)
    body = data[rest.end():] if rest is not None else b""
    return kept + b"\r\n\r\n" + body, f"header section over {max_bytes} bytes, truncated"


_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SPACES = re.compile(r"[ \t\r\n]+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([QqBb])\?([^?]*?)\?=")
_BETWEEN_WORDS = re.compile(r"^[ \t\r\n]*$")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _decode_q(text: str) -> bytes:
    data = text.replace("_", " ").encode("latin-1", errors="replace")
    return _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _decode_b(text: str) -> bytes | None:
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if not cleaned and text:
        return None
    cleaned += "=" * (-len(cleaned) % 4)
    if len(cleaned) % 4 == 1:  # one stray character cannot be decoded: drop it
        cleaned = cleaned[:-1]
    try:
        return binascii.a2b_base64(cleaned)
    except (binascii.Error, ValueError):
        return None


def decode_encoded_words(value: str, *, what: str = "header") -> tuple[str, list[str]]:
    """Decode RFC 2047 encoded words anywhere in `value`; adjacent words join without spaces.

    Adjacent words in the same charset are decoded together, so a UTF-8 character split
    across two words (as some mailers do) comes out whole.
    """
    if "=?" not in value:
        return value, []
    defects: list[str] = []
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            text, found = decode_bytes(b"".join(pending), pending_charset or "", what=what)
            out.append(text)
            defects.extend(found)
        pending, pending_charset = [], None

    for match in _ENCODED_WORD.finditer(value):
        between = value[position:match.start()]
        if not (pending and _BETWEEN_WORDS.match(between)):
            flush()
            out.append(between)
        charset, encoding, payload = match.group(1), match.group(2).lower(), match.group(3)
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*sv
        data = _decode_q(payload) if encoding == "q" else _decode_b(payload)
        if data is None:
            flush()
            out.append(match.group(0))
            defects.append(f"undecodable encoded word ({what})")
        else:
            if pending and charset.lower() != (pending_charset or "").lower():
                flush()
            pending.append(data)
            pending_charset = charset
        position = match.end()
    flush()
    out.append(value[position:])
    return "".join(out), defects


def unfold(value: str) -> str:
    """One line: folding removed, runs of white space made single spaces, ends trimmed."""
    return _SPACES.sub(" ", _FOLD.sub("", value)).strip()


def decode_value(raw: str, *, name: str = "header") -> tuple[str, list[str]]:
    """A header value as a person reads it: raw 8-bit fixed, unfolded, RFC 2047 decoded."""
    text, defects = fix_surrogates(str(raw), what=f"header {name}")
    text, found = decode_encoded_words(unfold(text), what=f"header {name}")
    cleaned = "".join(ch for ch in text if ch >= " " or ch == "\t").strip()
    return cleaned, defects + found


_LOCAL_PART = re.compile(r"[\w.+'-]{1,64}$")
_DOMAIN_PART = re.compile(r"[\w-]+(?:\.[\w-]+)+")


def _emails_in(text: str) -> list[str]:
    """Addresses written loosely in text, found around each "@" (linear on any input)."""
    found = []
    for at in re.finditer("@", text[:100_000]):
        local = _LOCAL_PART.search(text, max(0, at.start() - 64), at.start())
        domain = _DOMAIN_PART.match(text, at.end(), at.end() + 255)
        if local and domain:
            found.append(f"{local.group(0)}@{domain.group(0)}")
    return found
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)


def _clean_email(value: str) -> str:
    email = _MAILTO.sub("", value.strip().strip("<>[]()\"' ")).strip()
    return email.lower()


def parse_addresses(raw: str | None, *, name: str = "address") -> tuple[tuple[Address, ...], list[str]]:
    """Addresses of a header value (or of an Outlook "Från:" line) with decoded display names.

    Outlook's "Name [mailto:x@y]" and "Name <mailto:x@y>" forms are read too. An entry with a
    display name and no address is kept with an empty email (Outlook often shows only the name).
    """
    if raw is None:
        return (), []
    text, defects = fix_surrogates(str(raw), what=f"header {name}")
    text = unfold(text)
    text = re.sub(r"(?<=[\w.])<mailto:[^<>]*>", "", text, flags=re.IGNORECASE)  # Outlook: a@b<mailto:a@b>
    text = re.sub(r"\[mailto:([^\]]*)\]", r"<\1>", text, flags=re.IGNORECASE)
    text = re.sub(r"<mailto:", "<", text, flags=re.IGNORECASE)
    if not text:
        return (), defects
    if re.fullmatch(r"[^<>@\"]*:\s*;?\s*", text):  # an empty group: "undisclosed-recipients:;"
        return (), defects
    if "@" not in text and "<" not in text:  # a display name alone, as Outlook shows internal senders
        display_text, found = decode_encoded_words(text, what=f"header {name}")
        display_text = unfold(display_text).strip("\"' ,;:")
        return ((Address(name=display_text, email=""),) if display_text else ()), defects + found
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - a broken address list must not stop the message
        pairs = []
    addresses: list[Address] = []
    for display, email in pairs:
        display_text, found = decode_encoded_words(display, what=f"header {name}")
        defects.extend(found)
        display_text = unfold(display_text).strip("\"' *")  # "*Anna*": bold in a plain-text forward
        email = _clean_email(email)
        if "=?" in email:  # an encoded word where the address should be: a broken header
            email = ""
        if not email and not display_text:
            continue
        if not email and "@" in display_text:
            email, display_text = _clean_email(display_text), ""
        addresses.append(Address(name=display_text, email=email))
    if not any(a.email for a in addresses):
        found_emails = _emails_in(text)
        if len(found_emails) == 1:
            rest, _ = decode_encoded_words(text.replace(found_emails[0], " "))
            display_text = unfold(rest).strip("<>[]()\"' ,;:")
            addresses = [Address(name=display_text, email=_clean_email(found_emails[0]))]
        elif found_emails:
            addresses = [Address(name="", email=_clean_email(e)) for e in found_emails]
    return tuple(addresses), defects


_MSGID = re.compile(r"<([^<>\s]+)>")


def parse_message_id(raw: str | None) -> str | None:
    """The first message id of a header value, in angle brackets, or None."""
    if raw is None:
        return None
    match = _MSGID.search(raw)
    if match:
        return f"<{match.group(1)}>"
    token = raw.strip().split()
    if not token:
        return None
    bare = token[0].strip("<>")
    return f"<{bare}>" if bare else None


def parse_message_ids(raw: str | None) -> tuple[str, ...]:
    """All message ids of a References-style header value, in order, without repeats."""
    if not raw:
        return ()
    found = [f"<{m}>" for m in _MSGID.findall(raw)]
    if not found:
        found = [f"<{token.strip('<>,')}>" for token in raw.split() if token.strip("<>,")]
    return tuple(dict.fromkeys(found))


def parse_return_path(raw: str | None) -> str | None:
    """The Return-Path address in lower case; "" for the null sender <> of bounces."""
    if raw is None:
        return None
    match = re.search(r"<([^<>]*)>", raw)
    value = match.group(1) if match else raw
    return _clean_email(value)


def looks_like_mail(names: Iterable[str]) -> bool:
    """True when at least one header field is one a mail has (see MAIL_FIELDS)."""
    return any(name.lower() in MAIL_FIELDS for name in names)
