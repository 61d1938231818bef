"""Build the mails triage sends: one MIME message, plain text (and HTML), headers that thread.

Mail-derived text reaches a header only through `one_line`, so a subject with a line break
cannot inject a header. Bodies are quoted-printable UTF-8: readable in the raw, safe through
any relay, whatever the server says about 8BITMIME.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid

#: CRLF line ends, as SMTP and IMAP APPEND want them.
POLICY = SMTP
#: C0/C1 control characters except tab and line feed: never useful in a digest or a header.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")
#: How many Message-IDs a References header keeps (the first and the latest ones, RFC 5322 3.6.4).
MAX_REFERENCES = 20


def clean_text(text: str | None) -> str:
    """Text without control characters or bidi overrides (line breaks kept)."""
    if not text:
        return ""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str | None, limit: int | None = None) -> str:
    """Mail-derived text for one line: controls removed, all white space collapsed, cut with "…"."""
    value = _SPACE.sub(" ", clean_text(text)).strip()
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def address_of(value: str | None) -> str | None:
    """The bare address in a header value ("Anna <anna@x.se>" → "anna@x.se"), lower case; None if none."""
    if not value:
        return None
    for _name, address in getaddresses([one_line(value)]):
        if address and "@" in address:
            return address.strip().lower()
    return None


def domain_of(address: str | None, default: str = "triage.invalid") -> str:
    """The domain part of an address, for our Message-IDs."""
    if address and "@" in address:
        return address.rpartition("@")[2].strip().strip(">").lower() or default
    return default


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID under our own domain."""
    return make_msgid(idstring="triage", domain=domain)


def format_address(address: str, name: str | None = None) -> str:
    """"Name <address>" with the display name encoded as needed (or just the address)."""
    if not name:
        return address
    local, _, domain = address.partition("@")
    return str(Address(display_name=one_line(name), username=local, domain=domain))


def reply_subject(subject: str | None, prefix: str) -> str:
    """"Sv: …" / "Re: …" once: a subject that already starts with a reply prefix keeps it."""
    subject = one_line(subject)
    # Reply prefixes of the clients our suppliers use; not VS:/VB:/FW:, which mean "forwarded".
    if re.match(r"^\s*(re|sv|aw|antw|odp)\s*(\[\d+\])?\s*:", subject, re.IGNORECASE):
        return subject
    return f"{prefix} {subject}".strip()


def references_for(original_message_id: str | None, original_references: Iterable[str]) -> list[str]:
    """The References of a reply: the original's References, then its Message-ID (RFC 5322 3.6.4)."""
    refs = [r for r in (_angle(x) for x in original_references) if r]
    mid = _angle(original_message_id)
    if mid:
        refs.append(mid)
    refs = list(dict.fromkeys(refs))
    if len(refs) > MAX_REFERENCES:
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1):]
    return refs


def _angle(value: str | None) -> str | None:
    value = one_line(value).strip("<>").strip() if value else ""
    if not value or " " in value:
        return None
    return f"<{value}>"


def build_message(
    *,
    subject: str,
    sender: str,
    to: Sequence[str],
    text: str,
    html: str | None = None,
    date: datetime,
    message_id: str,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """One mail: text/plain, or multipart/alternative (plain first, HTML last, as RFC 2046 orders them)."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        if value:
            message[name] = one_line(value)
    message.set_content(_crlf_safe(text), subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        message.add_alternative(_crlf_safe(html), subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def _crlf_safe(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
