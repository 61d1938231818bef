"""Property tests: no input makes the parser raise anything but MessageParseError, and what it
returns is always well formed (str fields that encode as UTF-8, aware dates, known kinds).

Inputs are random bytes, random header-and-body mails, and mutations of every fixture:
truncation, byte flips, inserted junk, duplicated headers, removed boundaries, odd charset and
transfer-encoding labels, huge headers and deep nesting. The whole module runs in well under a
minute (max_examples is set per test; deadline=None because PDF and HTML parsing vary in time).
"""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.mail import fixture_names, mail_bytes
from triage.message.envelope import Address, ParsedMessage
from triage.message.parse import MessageParseError, ParseLimits, parse_message

FIXTURES = [name for name in fixture_names() if name != "not_a_mail.eml"]
KINDS = {"pdf", "docx", "ics", "text", "html", "message", "tnef", "other"}
#: Small limits, so that huge-header and deep-nesting mutations hit them quickly.
LIMITS = ParseLimits(max_header_bytes=8192, max_parts=40, max_depth=6, max_body_chars=50_000,
                     max_attachment_text_chars=20_000)
COMMON = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _text(value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    assert isinstance(value, str), f"{value!r} is not a str"
    value.encode("utf-8")  # no lone surrogates: every string can be stored and printed


def _address(address: object) -> None:
    assert isinstance(address, Address)
    _text(address.name)
    _text(address.email)
    assert address.email == address.email.lower()


def _date(value: object) -> None:
    assert value is None or (isinstance(value, datetime) and value.tzinfo is not None)


def assert_well_formed(message: ParsedMessage) -> None:
    """Every field of a ParsedMessage has the type the envelope promises."""
    assert isinstance(message, ParsedMessage)
    assert re.fullmatch(r"[0-9a-f]{64}", message.raw_sha256)
    for value in (message.subject, message.body_text, message.new_text, message.quoted_text, message.signature):
        _text(value)
    for value in (message.message_id, message.in_reply_to, message.date_raw, message.auto_submitted,
                  message.precedence, message.list_id, message.return_path, message.html):
        _text(value, optional=True)
    for value in message.references:
        _text(value)
    if message.sender is not None:
        _address(message.sender)
    for address in message.to + message.cc + message.reply_to:
        _address(address)
    _date(message.date)
    for name, value in message.headers:
        _text(name)
        _text(value)
    for forwarded in message.forwarded:
        assert forwarded.how in ("inline", "rfc822")
        if forwarded.sender is not None:
            _address(forwarded.sender)
        for address in forwarded.to:
            _address(address)
        _text(forwarded.subject, optional=True)
        _text(forwarded.date_raw, optional=True)
        _text(forwarded.text)
        _date(forwarded.date)
    for attachment in message.attachments:
        _text(attachment.filename)
        _text(attachment.content_type)
        _text(attachment.text)
        _text(attachment.error, optional=True)
        assert attachment.kind in KINDS
        assert isinstance(attachment.size, int) and attachment.size >= 0
        assert len(attachment.text) <= LIMITS.max_attachment_text_chars or attachment.kind == "tnef"
        if attachment.calendar is not None:
            _date(attachment.calendar.start)
            _date(attachment.calendar.end)
    assert message.language in (None, "sv", "nb", "en")
    for defect in message.defects:
        _text(defect)
    for section in message.sections:
        _text(section.text)
    _text(message.document_text)


def parse_or_reject(raw: bytes, limits: ParseLimits = LIMITS) -> None:
    """Parse; MessageParseError is an allowed answer, any other exception fails the test."""
    try:
        message = parse_message(raw, limits=limits)
    except MessageParseError as error:
        assert str(error)
        return
    assert_well_formed(message)


@settings(COMMON, max_examples=300)
@given(st.binary(max_size=3000))
def test_random_bytes(raw: bytes) -> None:
    parse_or_reject(raw)


HEADER_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Reply-To",
                "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version", "Return-Path",
                "Auto-Submitted", "Precedence", "List-Id", "X-Anything"]
ODD_VALUES = [
    "=?utf-8?B?w6XDpMO2?=", "=?iso-8859-1?Q?=E5=E4=F6?=", "=?cp-850?Q?=86?=", "=?x?B?###?=", "<>", "<<a@b>",
    "multipart/mixed; boundary=", "multipart/alternative; boundary=\"X\"", "text/plain; charset=\"\"",
    "text/html; charset=unknown-8bit", "message/rfc822", "application/ms-tnef", "base64", "quoted-printable",
    "attachment; filename*=utf-8''%E5%E4.pdf", "Tue, 31 Feb 2026 25:00:00 +9999", "undisclosed-recipients:;",
    "\"Berg, Karin\" <karin@x.se>, per@y.no", "text/calendar; method=REQUEST",
]
header_values = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=80), st.binary(max_size=60).map(
    lambda b: b.decode("latin-1")))


@st.composite
def mailish(draw: st.DrawFn) -> bytes:
    """A header section of known fields with odd values, then a random or MIME-looking body."""
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), min_size=1, max_size=12))
    lines = []
    for name, value in headers:
        value = value.replace("\r", " ").replace("\n", "\n ")
        lines.append(f"{name}: {value}".encode("utf-8", errors="surrogateescape"))
    body = draw(st.one_of(
        st.binary(max_size=1500),
        st.text(max_size=1500).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        st.sampled_from([
            b"--X\nContent-Type: text/plain\n\nHej\n--X\nContent-Type: text/html\n\n<p>Hej</p>\n--X--\n",
            b"--X\nContent-Type: message/rfc822\n\nFrom: a@b\nSubject: inner\n\nInner text\n--X--\n",
            b"--X\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcOkw7w=\n--X--\n",
            b"Fr\xe5n: Anna <a@b.se>\nSkickat: den 3 mars 2026 10:00\nTill: x\n\xc4mne: y\n\nText\n",
        ]),
    ))
    return b"\n".join(lines) + b"\n\n" + body


@settings(COMMON, max_examples=300)
@given(mailish())
def test_random_mails(raw: bytes) -> None:
    parse_or_reject(raw)


def _truncate(raw: bytes, data: st.DataObject) -> bytes:
    return raw[: data.draw(st.integers(0, len(raw)), label="cut")]


def _flip(raw: bytes, data: st.DataObject) -> bytes:
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 20), label="flips")):
        if not out:
            break
        position = data.draw(st.integers(0, len(out) - 1), label="position")
        out[position] = data.draw(st.integers(0, 255), label="byte")
    return bytes(out)


def _insert(raw: bytes, data: st.DataObject) -> bytes:
    position = data.draw(st.integers(0, len(raw)), label="at")
    junk = data.draw(st.binary(min_size=1, max_size=200), label="junk")
    return raw[:position] + junk + raw[position:]


def _duplicate_headers(raw: bytes, data: st.DataObject) -> bytes:
    head, _, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    lines = head.splitlines(keepends=True)
    if not lines:
        return raw
    line = lines[data.draw(st.integers(0, len(lines) - 1), label="header")]
    copies = data.draw(st.integers(1, 50), label="copies")
    return line * copies + raw


def _remove_boundaries(raw: bytes, data: st.DataObject) -> bytes:
    if data.draw(st.booleans(), label="parameter or lines"):
        return re.sub(rb"boundary=(\"[^\"]*\"|[^;\s]+)", b"", raw, flags=re.IGNORECASE)
    return re.sub(rb"^--\S+\s*$", b"", raw, flags=re.MULTILINE)


def _odd_labels(raw: bytes, data: st.DataObject) -> bytes:
    charset = data.draw(st.sampled_from([b"", b"cp-850", b"unknown-8bit", b"x-user-defined", b"utf-16", b"rot13",
                                         b"\xff\xfe", b"utf-8*sv", b"base64"]), label="charset")
    encoding = data.draw(st.sampled_from([b"base64", b"quoted-printable", b"x-uuencode", b"8bit", b"bogus"]),
                         label="cte")
    raw = re.sub(rb"charset=(\"[^\"]*\"|[^;\s]+)", b"charset=\"" + charset + b"\"", raw, flags=re.IGNORECASE)
    return re.sub(rb"Content-Transfer-Encoding: \S+", b"Content-Transfer-Encoding: " + encoding, raw,
                  flags=re.IGNORECASE)


def _huge_header(raw: bytes, data: st.DataObject) -> bytes:
    size = data.draw(st.integers(LIMITS.max_header_bytes // 2, LIMITS.max_header_bytes * 3), label="size")
    folded = data.draw(st.booleans(), label="folded")
    value = (b"x" * 70 + b"\n ") * (size // 72) if folded else b"x" * size
    return b"X-Huge: " + value + b"\n" + raw


def _deep_nesting(raw: bytes, data: st.DataObject) -> bytes:
    depth = data.draw(st.integers(1, 60), label="depth")
    head, separator, body = raw.partition(b"\n\n")
    wrapped = body
    for level in range(depth):
        boundary = b"deep%d" % level
        wrapped = (b"--" + boundary + b"\nContent-Type: multipart/mixed; boundary=" + b"deep%d" % (level + 1)
                   + b"\n\n" + wrapped + b"\n--" + boundary + b"--\n")
    return re.sub(rb"(?im)^content-type:.*$", b"Content-Type: multipart/mixed; boundary=deep0", head,
                  count=1) + separator + wrapped


MUTATIONS = {
    "truncate": _truncate, "flip": _flip, "insert": _insert, "duplicate_headers": _duplicate_headers,
    "remove_boundaries": _remove_boundaries, "odd_labels": _odd_labels, "huge_header": _huge_header,
    "deep_nesting": _deep_nesting,
}


@settings(COMMON, max_examples=600)
@given(st.sampled_from(FIXTURES), st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3), st.data())
def test_mutated_fixtures(name: str, mutations: list[str], data: st.DataObject) -> None:
    raw = mail_bytes(name)
    for mutation in mutations:
        raw = MUTATIONS[mutation](raw, data)
    parse_or_reject(raw)


def test_every_fixture_is_well_formed() -> None:
    for name in FIXTURES:
        assert_well_formed(parse_message(mail_bytes(name), limits=LIMITS))
