"""Placing evidence in a mail's sections, and cleaning a mail's HTML before it is shown."""

from __future__ import annotations

import pytest

from triage.message.envelope import Section
from triage.results import Evidence
from triage.web.highlight import Mark, highlight, locate, segments
from triage.web.sanitize import clean_html

SECTIONS = (
    Section("subject", None, "Inbjudan till kvällsmöte"),
    Section("body", None, "Vi bjuder på trerättersmiddag\nmed vinprovning på Hotell Svea."),
    Section("attachment", "program.pdf", "Program: 17.00 föreläsning, 19.00 trerättersmiddag."),
)


def test_offsets_that_fit_are_used() -> None:
    body = SECTIONS[1].text
    start = body.index("Hotell Svea")
    assert locate(Evidence("Hotell Svea", "body", None, start, start + 11), SECTIONS) == (1, start, start + 11)


def test_the_section_named_by_the_evidence_wins_over_an_earlier_match() -> None:
    # "trerättersmiddag" is in the body and in the attachment; the evidence says the attachment
    text = SECTIONS[2].text
    where = locate(Evidence("trerättersmiddag", "attachment", "program.pdf", None, None), SECTIONS)
    assert where == (2, text.index("trerättersmiddag"), text.index("trerättersmiddag") + len("trerättersmiddag"))


def test_stale_offsets_fall_back_to_the_text_across_line_breaks_and_case() -> None:
    where = locate(Evidence("Trerättersmiddag med vinprovning", "body", None, 0, 4), SECTIONS)
    assert where is not None
    index, start, end = where
    assert SECTIONS[index].text[start:end] == "trerättersmiddag\nmed vinprovning"


def test_evidence_that_is_not_in_the_mail_is_not_placed() -> None:
    assert locate(Evidence("golfrunda", "body", None, None, None), SECTIONS) is None


def test_overlapping_marks_are_cut_into_segments_that_name_every_mark() -> None:
    a = Mark("a", "violation", "meal", Evidence("x", "body"))
    b = Mark("b", "field", "location", Evidence("y", "body"))
    parts = segments("0123456789", [(2, 6, a), (4, 8, b)])
    assert [(p.text, tuple(m.anchor for m in p.marks), p.anchors) for p in parts] == [
        ("01", (), ()),
        ("23", ("a",), ("a",)),
        ("45", ("a", "b"), ("b",)),
        ("67", ("b",), ()),
        ("89", (), ()),
    ]
    assert "".join(p.text for p in parts) == "0123456789"


def test_highlight_reports_which_marks_were_found() -> None:
    marks = [
        Mark("found", "violation", "meal", Evidence("Hotell Svea", "body")),
        Mark("lost", "violation", "golf", Evidence("golfrunda", "body")),
    ]
    views, found = highlight(SECTIONS, marks)
    assert found == {"found": True, "lost": False}
    assert [v.marks for v in views] == [0, 1, 0]
    assert "".join(s.text for s in views[1].segments) == SECTIONS[1].text


@pytest.mark.parametrize(
    ("html", "absent"),
    [
        ("<p>a<script>alert(1)</script>b</p>", ["script", "alert"]),
        ("<img src='https://tracker.example/p.gif' alt='x'>", ["tracker.example"]),
        ("<meta http-equiv='refresh' content='0;url=https://evil.example'>", ["refresh", "evil.example"]),
        ("<base href='https://evil.example/'><p>x</p>", ["<base", "evil.example"]),
        ("<p onmouseover='alert(1)'>x</p>", ["onmouseover", "alert"]),
        ("<a href='javascript:alert(1)'>x</a>", ["href"]),
        ("<iframe src='https://evil.example'></iframe><object data='x.swf'></object>", ["iframe", "object", "evil"]),
        ("<link rel=stylesheet href='https://evil.example/s.css'>", ["<link", "evil"]),
        ("<div style=\"background:url('https://evil.example/b.png')\">x</div>", ["evil", "url("]),
        ("<style>@import url(https://evil.example/a.css); p{color:red}</style>", ["evil", "@import"]),
        ("<svg><script>alert(1)</script></svg>", ["svg", "alert"]),
        ("<form action='https://evil.example'><input name=q></form>", ["<form", "<input", "evil"]),
    ],
)
def test_clean_html_removes_what_runs_or_loads(html: str, absent: list[str]) -> None:
    cleaned = clean_html(html)
    for word in absent:
        assert word not in cleaned


def test_clean_html_keeps_text_layout_inline_styles_and_data_images() -> None:
    source = ('<table><tr><td style="color:#333">Tid: 12.00 &amp; 13.00</td></tr></table>'
              '<img src="data:image/png;base64,iVBORw0KGgo=" alt="logo"><a href="https://ok.example/x">länk</a>'
              "<style>td > b { color: red }</style>")
    cleaned = clean_html(source)
    assert '<td style="color:#333">Tid: 12.00 &amp; 13.00</td>' in cleaned
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in cleaned
    assert '<a title="https://ok.example/x">länk</a>' in cleaned
    assert "td > b { color: red }" in cleaned


def test_clean_html_escapes_text_and_attribute_values() -> None:
    cleaned = clean_html('<p title="&quot;><script>x</script>">1 &lt; 2 &lt;script&gt;</p>')
    assert "<script>" not in cleaned
    assert "1 &lt; 2 &lt;script&gt;" in cleaned
    assert 'title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in cleaned
