"""The words of the digest and the replies: every key in every language, dates without locales."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from triage.outbound import texts
from triage.outbound.mail import one_line, reply_subject
from triage.outbound.templating import wrap


def test_every_text_exists_in_every_language() -> None:
    assert texts.missing_text_keys_complete() == []


@pytest.mark.parametrize("lang,expected", [
    ("sv", "tis 3 mars 2026"), ("nb", "tir. 3. mars 2026"), ("en", "Tue 3 March 2026"),
])
def test_dates(lang: str, expected: str) -> None:
    assert texts.format_date(date(2026, 3, 3), lang) == expected


def test_spans() -> None:
    start, end = datetime(2026, 3, 3, 12, 0), datetime(2026, 3, 3, 13, 30)
    assert texts.format_span(start, end, "sv") == "tis 3 mars 2026 12.00–13.30"
    assert texts.format_span(start, end, "en") == "Tue 3 March 2026 12:00–13:30"
    assert texts.format_span(datetime(2026, 3, 3), None, "sv") == "tis 3 mars 2026"
    assert texts.format_span(start, datetime(2026, 3, 4, 9), "nb") == "tir. 3. mars 2026 12.00 – ons. 4. mars 2026 09.00"
    assert texts.format_span(None, None, "sv") is None


@pytest.mark.parametrize("value,expected", [
    ("sv", "sv"), ("sv-SE", "sv"), ("no", "nb"), ("nn", "nb"), ("nb_NO", "nb"), ("en", "en"), ("de", "sv"), (None, "sv"),
])
def test_language(value, expected) -> None:
    assert texts.language(value) == expected


def test_one_line_removes_controls_and_bidi() -> None:
    assert one_line("a\r\nb\tc\u202e\x00d") == "a b cd"
    assert one_line("x" * 10, 5) == "xxxx…"


@pytest.mark.parametrize("subject,expected", [
    ("Inbjudan", "Sv: Inbjudan"), ("SV: Inbjudan", "SV: Inbjudan"), ("Re: x", "Re: x"), ("AW: x", "AW: x"),
    ("Sv:x", "Sv:x"), ("Svar om x", "Sv: Svar om x"), ("", "Sv:"), ("VS: x", "Sv: VS: x"), ("FW: x", "Sv: FW: x"),
])
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject, "Sv:") == expected


def test_wrap_hanging_indent() -> None:
    assert wrap("a " * 10, width=8, indent="  ", first="- ") == "- a a a\n  a a a\n  a a a\n  a"
