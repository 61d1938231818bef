"""Every charset real mail uses decodes without crashing; guesses are recorded as defects."""

from __future__ import annotations

import pytest

from tests.support.mail import parsed
from triage.message.charset import decode_bytes, resolve
from triage.message.envelope import Address
from triage.message.parse import parse_message

#: The fixture text: windows-1252 characters (€, –, ’) that Latin-1 does not have, and åäö.
EXPECTED = ("Hej!\n\nKostnaden för kursen är 0 € – vi står för kaffe. Det är inte ’gratis lunch’ utan en "
            "enklare förtäring.\nVälkommen till Malmö!")


@pytest.mark.parametrize(
    ("name", "defect"),
    [
        ("charset_latin1_cp1252.eml", None),  # iso-8859-1 label, quoted-printable cp1252 bytes
        ("charset_cp850.eml", "unknown charset 'cp-850', decoded as windows-1252 (body)"),
        ("charset_empty.eml", "unknown charset '', decoded as utf-8 (body)"),
        ("charset_unknown_8bit.eml", "unknown charset 'unknown-8bit', decoded as windows-1252 (body)"),
        ("charset_x_user_defined.eml", "unknown charset 'x-user-defined', decoded as utf-8 (body)"),
        ("charset_utf8_mislabelled.eml", "invalid utf-8, decoded as windows-1252 (body)"),
    ],
)
def test_body_charsets(name: str, defect: str | None) -> None:
    message = parsed(name)
    assert message.new_text == EXPECTED
    assert message.sender == Address("Anna Lindqvist", "anna.lindqvist@nordpharma.se")
    assert message.language == "sv"
    assert message.attachments == ()
    if defect is None:
        assert message.defects == ()
    else:
        assert defect in message.defects


def test_latin1_subject_and_unknown_charset_subject() -> None:
    assert parsed("charset_latin1_cp1252.eml").subject == "Kurs i Malmö"
    message = parsed("charset_cp850.eml")
    assert message.subject == "Kurs i Malm”"  # cp850's ö is 0x94, which windows-1252 reads as ”
    assert "unknown charset 'cp-850', decoded as windows-1252 (header Subject)" in message.defects


def test_quoted_printable_and_base64_bodies() -> None:
    assert "hjärtsvikt" in parsed("plain_sv.eml").body_text  # utf-8 quoted-printable
    assert "förmaksflimmer" in parsed("html_only_table_list.eml").body_text  # utf-8 base64 HTML
    assert "frokostmøte" in parsed("fwd_gmail_nb.eml").body_text  # utf-8 base64 plain


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "windows-1252"), ("latin1", "windows-1252"), ("us-ascii", "windows-1252"),
        ("\"utf-8\"", "utf-8"), ("UTF8", "utf-8"), ("iso-8859-15", "iso-8859-15"), ("cp850", "cp850"),
        ("ks_c_5601-1987", "cp949"), ("cp-850", None), ("", None), ("unknown-8bit", None),
        ("x-user-defined", None), ("base64", None), ("rot13", None), ("undefined", None), (None, None),
    ],
)
def test_resolve_labels(label: str | None, codec: str | None) -> None:
    assert resolve(label) == codec


def test_decode_bytes_cases() -> None:
    assert decode_bytes("€ ’ –".encode("cp1252"), "iso-8859-1") == ("€ ’ –", [])
    # Bytes windows-1252 leaves undefined still decode (to C1 controls), never raise.
    assert decode_bytes(b"\x81\x8d\x8f\x90\x9d", "windows-1252")[0] == "\x81\x8d\x8f\x90\x9d"
    # A Latin-1 label on UTF-8 bytes is a mislabel: read as UTF-8, noted.
    assert decode_bytes("åäö".encode(), "iso-8859-1") == ("åäö", ["charset 'iso-8859-1' holds utf-8, decoded as utf-8 (text)"])
    # Mostly valid UTF-8 with one bad byte keeps the good characters.
    assert decode_bytes("åä".encode() + b"\xff", "utf-8") == ("åä\ufffd", ["invalid utf-8, bad bytes replaced (text)"])
    assert decode_bytes("\ufeffHej".encode(), None) == ("Hej", [])
    assert decode_bytes(b"ascii only", "no-such-charset") == ("ascii only", [])
    assert decode_bytes("å".encode("cp1252"), None) == ("å", ["8-bit text without a charset, decoded as windows-1252 (text)"])
    assert decode_bytes(b"\x1b$B%F%9%H\x1b(B", "iso-2022-jp")[0] == "テスト"
    assert decode_bytes(b"abc\x82", "shift_jis")[1]  # invalid bytes in a known charset: replaced, noted


@pytest.mark.parametrize("charset", ["", "cp-850", "unknown-8bit", "x-user-defined", "utf-7", "utf-16", "euc-kr",
                                     "\"", "*", "utf-8*sv", "x" * 300, "\udce5"])
def test_odd_labels_never_crash(charset: str) -> None:
    raw = (f"From: a@b.se\nSubject: Test\nContent-Type: text/plain; charset=\"{charset}\"\n\n".encode("utf-8", "surrogateescape")
           + "Välkommen till mötet. €".encode("cp1252"))
    message = parse_message(raw)
    assert isinstance(message.body_text, str) and message.body_text
