"""Where "not a mail at all" ends and "a mail with defects" begins, and the parser's limits."""

from __future__ import annotations

import pytest

from tests.support.mail import mail_bytes
from triage.classify.routing import JurisdictionRouter
from triage.message.parse import MessageParseError, ParseLimits, parse_message
from triage.pipeline.pipeline import Pipeline

HEAD = b"From: Anna <anna@x.se>\nTo: fb@region.se\nSubject: Test\nDate: Tue, 3 Mar 2026 10:00:00 +0100\nMessage-ID: <t@x>\n"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"   \r\n\r\n\t ", "empty message"),
        (b"\xef\xbb\xbf\n", "empty message"),
        (b"Hello, this is just text.\nNo headers here.\n", "not a mail: no header section"),
        (b"Note: a line that looks like a header\n\nbut no field a mail has", "not a mail: no header section"),
        (b"\x00\x01\x02\xff\xfe binary", "not a mail: no header section"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not a mail: no header section"),
    ],
)
def test_not_a_mail(raw: bytes, reason: str) -> None:
    with pytest.raises(MessageParseError, match=reason):
        parse_message(raw)


def test_the_not_a_mail_fixture() -> None:
    with pytest.raises(MessageParseError, match="no header section"):
        parse_message(mail_bytes("not_a_mail.eml"))


def test_only_bytes_are_accepted() -> None:
    with pytest.raises(MessageParseError, match="expected the raw bytes of a mail, got str"):
        parse_message("From: a@b.se\n\nText")  # type: ignore[arg-type]
    assert parse_message(bytearray(HEAD + b"\nText")).new_text == "Text"
    assert parse_message(memoryview(HEAD + b"\nText")).new_text == "Text"


def test_a_message_over_the_size_limit() -> None:
    with pytest.raises(MessageParseError, match="over the limit of 100"):
        parse_message(HEAD + b"\n" + b"x" * 200, limits=ParseLimits(max_message_bytes=100))


def test_a_bare_subject_is_a_mail_with_defects() -> None:
    message = parse_message(b"Subject: Hej\n\nText")
    assert message.subject == "Hej" and message.new_text == "Text"
    assert message.sender is None and message.date is None and message.message_id is None
    assert {"no From header", "no Date header", "no Message-ID header"} <= set(message.defects)


def test_mbox_from_line_bom_and_leading_blank_lines_are_skipped() -> None:
    raw = b"\xef\xbb\xbf\r\n\r\nFrom anna@x.se Tue Mar  3 10:00:00 2026\n" + HEAD + b"\nText"
    message = parse_message(raw)
    assert message.subject == "Test" and message.new_text == "Text"


def test_crlf_lf_and_cr_line_ends() -> None:
    for newline in (b"\r\n", b"\n", b"\r"):
        message = parse_message((HEAD + b"\nRad ett\nRad tv\xc3\xa5").replace(b"\n", newline))
        assert message.subject == "Test"
        assert message.new_text == "Rad ett\nRad två"


def test_a_header_without_a_body_separator() -> None:
    message = parse_message(HEAD + b"this line is not a header\nmore text")
    assert message.subject == "Test"
    assert "this line is not a header" in message.body_text
    assert "MIME: MissingHeaderBodySeparatorDefect" in message.defects


def test_header_section_over_the_limit_is_cut_at_a_whole_field() -> None:
    raw = HEAD + b"".join(b"X-Filler-%d: %s\n" % (n, b"y" * 60) for n in range(200)) + b"\nBody text"
    message = parse_message(raw, limits=ParseLimits(max_header_bytes=1000))
    assert message.subject == "Test"
    assert message.new_text == "Body text"
    assert "header section over 1000 bytes, truncated" in message.defects
    assert len(message.headers) < 20
    assert all(value.endswith("y" * 60) for name, value in message.headers if name.startswith("X-Filler"))


def _nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\n\nDeepest text\n"
    for level in range(depth):
        boundary = b"b%d" % level
        body = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\n\n--" + boundary + b"\n" + body
                + b"\n--" + boundary + b"--\n")
    return HEAD + b"MIME-Version: 1.0\n" + body


def test_deeper_than_max_depth_stops_the_walk() -> None:
    shallow = parse_message(_nested(3), limits=ParseLimits(max_depth=5))
    assert shallow.new_text == "Deepest text" and shallow.defects == ()
    deep = parse_message(_nested(8), limits=ParseLimits(max_depth=5))
    assert deep.new_text == ""
    assert "MIME nesting deeper than the limit of 5 levels (max_depth); deeper parts skipped" in deep.defects


def test_nesting_too_deep_for_the_stdlib_parser_keeps_the_headers() -> None:
    message = parse_message(_nested(3000))
    assert message.subject == "Test"
    assert message.body_text == ""
    assert any("nested too deeply" in defect or "deeper than" in defect for defect in message.defects)


def test_more_parts_than_max_parts() -> None:
    parts = b"".join(b"--B\nContent-Type: text/plain\nContent-Disposition: attachment; filename=f%d.txt\n\nfil %d\n" % (n, n)
                     for n in range(50))
    raw = (HEAD + b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
           b"--B\nContent-Type: text/plain\n\nKropp\n" + parts + b"--B--\n")
    message = parse_message(raw, limits=ParseLimits(max_parts=10))
    assert message.new_text == "Kropp"
    assert len(message.attachments) == 8  # the container, the body and eight files make ten parts
    assert "more than 10 MIME parts; the rest skipped" in message.defects


def test_body_over_the_limit_is_cut() -> None:
    raw = HEAD + b"\n" + b"Rad med text.\n" * 1000
    message = parse_message(raw, limits=ParseLimits(max_body_chars=1000))
    assert len(message.body_text) <= 1000
    assert "body over 1000 characters, cut" in message.defects


def test_broken_mime_structures_are_mails_with_defects() -> None:
    no_boundary = HEAD + b"Content-Type: multipart/mixed\n\nJust text where parts should be."
    assert "Just text where parts should be." in parse_message(no_boundary).body_text
    unclosed = HEAD + b"Content-Type: multipart/mixed; boundary=Q\n\n--Q\nContent-Type: text/plain\n\nHej\n"
    assert parse_message(unclosed).new_text == "Hej"
    wrong_boundary = HEAD + b"Content-Type: multipart/mixed; boundary=Q\n\n--Z\n\nHej\n--Z--\n"
    assert isinstance(parse_message(wrong_boundary).body_text, str)
    bad_base64 = HEAD + b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nSGVqIQ=!!*"
    assert parse_message(bad_base64).new_text.startswith("Hej!")
    unknown_cte = HEAD + b"Content-Transfer-Encoding: x-unknown\n\nHej"
    assert parse_message(unknown_cte).new_text == "Hej"


def test_an_attached_message_that_is_not_a_mail() -> None:
    raw = (HEAD + b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nKropp\n"
           b"--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=gammal.eml\n\n"
           b"just some text\n--B--\n")
    message = parse_message(raw)
    assert [a.filename for a in message.attachments] == ["gammal.eml"]
    assert message.forwarded == ()
    assert "attached message 'gammal.eml' has no header section" in message.defects


def test_the_pipeline_turns_a_parse_error_into_the_results_error() -> None:
    pipeline = Pipeline(router=JurisdictionRouter())
    bad = pipeline.judge(b"not a mail", file="bad.eml")
    assert bad.error is not None and bad.error.startswith("parse: not a mail")
    good = pipeline.judge(mail_bytes("plain_nb.eml"), file="plain_nb.eml")
    assert good.error is None
    assert good.language == "nb"
    assert good.sender == "Kari Nordmann <kari.nordmann@nordmed.no>"
