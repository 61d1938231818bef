"""Header fields: RFC 2047, addresses, message ids, dates and the other headers rules read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.support.mail import mail_bytes, parsed
from triage.message.dates import MAILBOX_TZ, parse_loose_date, parse_rfc5322_date
from triage.message.envelope import Address
from triage.message.headers import (
    decode_encoded_words,
    decode_value,
    parse_addresses,
    parse_message_id,
    parse_message_ids,
    parse_return_path,
)


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("subject_utf8_q.eml", "Inbjudan till föreläsning – hjärtsvikt"),
        ("subject_utf8_b.eml", "Inbjudan till föreläsning – hjärtsvikt"),
        ("subject_latin1_q.eml", "Inbjudan till föreläsning om hjärtsvikt"),
        ("subject_latin1_b.eml", "Inbjudan till föreläsning"),
    ],
)
def test_rfc2047_subjects(name: str, subject: str) -> None:
    message = parsed(name)
    assert message.subject == subject
    assert message.header("subject") == subject
    assert message.sender == Address("Anna Lindqvist", "anna.lindqvist@nordpharma.se")
    assert message.new_text == "Se ämnesraden."
    assert message.language == "sv"  # the body is too short: the subject decides
    assert message.defects == ()


def test_identity_headers_of_a_reply() -> None:
    message = parsed("reply_quoted_sv.eml")
    assert message.message_id == "<reply.sv.1@region-syd.se>"
    assert message.in_reply_to == "<20260303091240.4711@mail.nordpharma.se>"
    assert message.references == ("<20260301000000.1@mail.nordpharma.se>", "<20260303091240.4711@mail.nordpharma.se>")
    assert message.to == (Address("Anna Lindqvist", "anna.lindqvist@nordpharma.se"),)
    assert message.cc == (Address("Funktionsbrevlåda Kardiologi", "fb-kardiologi@region-syd.se"),)
    assert message.recipients == message.to + message.cc


def test_addresses_dates_and_all_headers_of_a_plain_mail() -> None:
    message = parsed("plain_sv.eml")
    assert message.raw_sha256 == hashlib.sha256(mail_bytes("plain_sv.eml")).hexdigest()
    assert message.sender == Address("Anna Lindqvist", "anna.lindqvist@nordpharma.se")  # lower-cased
    assert message.to == (Address("Funktionsbrevlåda Kardiologi", "fb-kardiologi@region-syd.se"),)
    assert message.date == datetime(2026, 3, 3, 9, 12, 40, tzinfo=timezone(timedelta(hours=1)))
    assert message.date_raw == "Tue, 3 Mar 2026 09:12:40 +0100"
    assert message.return_path == "anna.lindqvist@nordpharma.se"
    names = [name for name, _ in message.headers]
    assert names[:3] == ["Received", "Return-Path", "From"]
    received = message.header("received")
    assert received is not None and "\n" not in received and received.startswith("from mail.nordpharma.se")
    assert message.header("To") == "Funktionsbrevlåda Kardiologi <fb-kardiologi@region-syd.se>"
    assert message.header("X-Not-There") is None
    assert message.auto_submitted is None and message.precedence is None and message.list_id is None


def test_auto_reply_headers() -> None:
    message = parsed("auto_reply.eml")
    assert message.auto_submitted == "auto-replied"
    assert message.precedence == "bulk"
    assert message.return_path == ""  # the null sender <>
    assert message.subject == "Automatiskt svar: Fråga om inbjudan"
    assert message.language == "sv"


def test_invalid_date_is_none_with_a_defect() -> None:
    message = parsed("invalid_date.eml")
    assert message.date is None
    assert message.date_raw == "tisdag den 32:a mars, 25:61"
    assert "invalid Date header 'tisdag den 32:a mars, 25:61'" in message.defects
    assert message.sender == Address("Kardiomed AB", "info@kardiomed.se")
    assert message.new_text.startswith("Hej! Välkommen till vårt webbinarium om hypertoni")
    assert message.language == "sv"


def test_message_without_message_id() -> None:
    message = parsed("no_message_id.eml")
    assert message.message_id is None
    assert "no Message-ID header" in message.defects
    assert message.sender == Address("", "info@kardiomed.se")
    assert message.raw_sha256 == hashlib.sha256(mail_bytes("no_message_id.eml")).hexdigest()


def test_raw_8bit_headers_are_decoded() -> None:
    message = parsed("charset_raw_8bit_headers.eml")
    assert message.sender == Address("Åsa Öberg", "anna.lindqvist@nordpharma.se")  # raw UTF-8
    assert message.subject == "Föreläsning om hjärtsvikt"  # raw windows-1252
    assert "raw 8-bit bytes, decoded as windows-1252 (header Subject)" in message.defects
    assert message.new_text == "Välkommen till föreläsningen."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?Q?Anna_S=C3=B6derstr=C3=B6m?=", "Anna Söderström"),
        ("=?UTF-8?B?w6U=?= =?UTF-8?B?w6Q=?=", "åä"),  # adjacent words join without the space
        ("=?utf-8?Q?=C3?= =?utf-8?Q?=A5?=", "å"),  # a character split across two words
        ("Re: =?iso-8859-1?Q?M=F6te?= idag", "Re: Möte idag"),
        ("=?utf-8*sv?Q?Hej?=", "Hej"),  # RFC 2231 language suffix
        ("plain text", "plain text"),
    ],
)
def test_decode_encoded_words(raw: str, expected: str) -> None:
    assert decode_encoded_words(raw) == (expected, [])


def test_broken_encoded_words_never_raise() -> None:
    text, _ = decode_encoded_words("=?utf-8?B?!!!?= =?utf-8?Q?=ZZ?= =?x?Q?a?=")
    assert isinstance(text, str)
    text, defects = decode_encoded_words("=?utf-8?B?***?=")
    assert text == "=?utf-8?B?***?=" and defects == ["undecodable encoded word (header)"]


def test_unknown_charset_in_an_encoded_word_is_recorded() -> None:
    text, defects = decode_value("Kurs i =?cp-850?Q?Malm=F6?=", name="Subject")
    assert text == "Kurs i Malmö"
    assert defects == ["unknown charset 'cp-850', decoded as windows-1252 (header Subject)"]


def test_folded_header_is_unfolded() -> None:
    assert decode_value("Inbjudan till\r\n\tlunchföreläsning")[0] == "Inbjudan till lunchföreläsning"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna Svensson <Anna@Pharma.SE>", (Address("Anna Svensson", "anna@pharma.se"),)),
        ("\"Berg, Karin\" <karin@x.se>, per@y.no", (Address("Berg, Karin", "karin@x.se"), Address("", "per@y.no"))),
        ("Anna Svensson [mailto:anna@x.se]", (Address("Anna Svensson", "anna@x.se"),)),
        ("Anna Svensson <anna@x.se<mailto:anna@x.se>>", (Address("Anna Svensson", "anna@x.se"),)),
        ("Svensson Anna", (Address("Svensson Anna", ""),)),
        ("undisclosed-recipients:;", ()),
        ("", ()),
    ],
)
def test_parse_addresses(raw: str, expected: tuple[Address, ...]) -> None:
    assert parse_addresses(raw)[0] == expected


def test_message_id_helpers() -> None:
    assert parse_message_id(" <abc@x.se> (comment)") == "<abc@x.se>"
    assert parse_message_id("abc@x.se") == "<abc@x.se>"
    assert parse_message_id("   ") is None
    assert parse_message_ids("<a@b> <c@d>\r\n <a@b>") == ("<a@b>", "<c@d>")
    assert parse_return_path("<>") == ""
    assert parse_return_path("<Bounce@Mail.X.se>") == "bounce@mail.x.se"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tue, 3 Mar 2026 10:00:00 +0100", datetime(2026, 3, 3, 10, tzinfo=timezone(timedelta(hours=1)))),
        ("Tue, 3 Mar 2026 10:00:00 CET", datetime(2026, 3, 3, 10, tzinfo=timezone(timedelta(hours=1)))),
        ("Tue, 3 Mar 2026 10:00:00 -0000", datetime(2026, 3, 3, 10, tzinfo=UTC)),
        ("3 Mar 2026 10:00 GMT", datetime(2026, 3, 3, 10, tzinfo=UTC)),
        ("den 32 mars", None),
        ("", None),
    ],
)
def test_rfc5322_dates_are_aware(raw: str, expected: datetime | None) -> None:
    value = parse_rfc5322_date(raw)
    assert value == expected
    assert value is None or value.tzinfo is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("den 3 mars 2026 10:00", (2026, 3, 3, 10, 0)),
        ("tisdag den 3 mars 2026 10:00", (2026, 3, 3, 10, 0)),
        ("tirsdag 3. mars 2026 10:12", (2026, 3, 3, 10, 12)),
        ("Tuesday, March 3, 2026 10:00 PM", (2026, 3, 3, 22, 0)),
        ("tis 3 mars 2026 kl 10:00", (2026, 3, 3, 10, 0)),
        ("tir. 3. mar. 2026 kl. 10:00", (2026, 3, 3, 10, 0)),
        ("Tue, 3 Mar 2026 at 10:00", (2026, 3, 3, 10, 0)),
        ("Dienstag, 3. März 2026 10:00", (2026, 3, 3, 10, 0)),
        ("2026-03-03 10:00", (2026, 3, 3, 10, 0)),
        ("03.03.2026 10:00", (2026, 3, 3, 10, 0)),
    ],
)
def test_forward_header_dates_in_every_language(raw: str, expected: tuple[int, ...]) -> None:
    value = parse_loose_date(raw)
    assert value is not None
    assert (value.year, value.month, value.day, value.hour, value.minute) == expected
    assert value.tzinfo is MAILBOX_TZ  # no zone written: the mailbox's zone


def test_forward_header_date_with_a_zone() -> None:
    value = parse_loose_date("3 mars 2026 10:00:00 CEST")
    assert value is not None and value.utcoffset() == timedelta(hours=2)
    assert parse_loose_date("i morgon") is None
