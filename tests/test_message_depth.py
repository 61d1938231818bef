"""The MIME depth limit: a mail nested deeper than `max_depth` is cut before the stdlib parser runs.

The cut (triage/message/depth.py) must agree with the stdlib parser about the structure: the
parts within the limit are exactly those the parser finds in the uncut mail, and nothing below
the limit is parsed at all.
"""

from __future__ import annotations

import os
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.message.depth import cut_deep_parts
from triage.message.parse import ParseLimits, parse_message

HEAD = b"From: Anna <anna@pharma.example>\nTo: fb@region.se\nSubject: Djup\nMessage-ID: <d@x>\nMIME-Version: 1.0\n"


def nested_with_files(levels: int) -> bytes:
    """`levels` multiparts one inside the other; level n holds the attachment level-n.txt."""
    body = b"Content-Type: text/plain\n\nDeepest text\n"
    for level in range(levels, 0, -1):
        boundary = b"b%d" % level
        body = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\n\n--" + boundary + b"\n"
                b"Content-Type: text/plain\nContent-Disposition: attachment; filename=level-%d.txt\n\nfil %d\n"
                % (level, level)
                + b"--" + boundary + b"\n" + body + b"\n--" + boundary + b"--\n")
    return HEAD + body


def test_a_thousand_levels_are_cut_at_the_limit_with_a_defect_naming_it() -> None:
    message = parse_message(HEAD.replace(b"Djup", b"Tusen") + nested_with_files(1000)[len(HEAD):],
                            limits=ParseLimits(max_depth=10))
    assert message.subject == "Tusen"
    assert "MIME nesting deeper than the limit of 10 levels (max_depth); deeper parts skipped" in message.defects
    # The files of the levels within the limit are read; nothing below it was parsed.
    assert [a.filename for a in message.attachments] == [f"level-{n}.txt" for n in range(1, 11)]
    assert "Deepest text" not in message.body_text
    assert not any("nested too deeply" in defect for defect in message.defects)


def test_a_mail_within_the_limit_is_not_touched() -> None:
    raw = nested_with_files(6)
    assert cut_deep_parts(raw, 6) == (raw, False)
    message = parse_message(raw, limits=ParseLimits(max_depth=7))
    assert message.new_text == "Deepest text"
    assert len(message.attachments) == 6
    assert not any("deeper than" in defect for defect in message.defects)


def test_attached_mails_count_as_levels() -> None:
    inner = b"Content-Type: text/plain\n\nInnerst\n"
    for level in range(30):
        inner = (b"Content-Type: message/rfc822\n\nFrom: x%d@pharma.example\nSubject: Lager %d\n" % (level, level)
                 + inner)
    message = parse_message(HEAD + inner, limits=ParseLimits(max_depth=4))
    assert [f.subject for f in message.forwarded] == ["Lager 29", "Lager 28", "Lager 27", "Lager 26"]
    assert "MIME nesting deeper than the limit of 4 levels (max_depth); deeper parts skipped" in message.defects


def test_an_attached_eml_file_counts_from_its_own_level() -> None:
    eml = HEAD.replace(b"Djup", b"Bifogad") + nested_with_files(20)[len(HEAD):]
    import base64
    raw = (HEAD + b"Content-Type: multipart/mixed; boundary=T\n\n--T\nContent-Type: text/plain\n\nSe bilaga\n"
           b"--T\nContent-Type: application/octet-stream; name=a.eml\nContent-Disposition: attachment; filename=a.eml\n"
           b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(eml) + b"--T--\n")
    message = parse_message(raw, limits=ParseLimits(max_depth=5))
    # top (0) > a.eml part (1) > the attached mail (2) > its levels 1..3 (3..5)
    assert [a.filename for a in message.attachments] == ["a.eml", "level-1.txt", "level-2.txt", "level-3.txt"]
    assert "MIME nesting deeper than the limit of 5 levels (max_depth); deeper parts skipped" in message.defects


# --- the cut agrees with the stdlib parser ---------------------------------------------------

def outline(message: Message, limit: int, depth: int = 0) -> list[tuple[int, str, str]]:
    """(depth, content type, leaf payload) of every entity at most `limit` levels down, in order."""
    ctype = message.get_content_type()
    payload = message.get_payload()
    if isinstance(payload, list):
        found = [(depth, ctype, "")]
        if depth < limit:
            for child in payload:
                found.extend(outline(child, limit, depth + 1))
        return found
    return [(depth, ctype, payload.strip() if isinstance(payload, str) else "")]


BOUNDARIES = st.sampled_from(["a", "b", "same", "x--", '"q t"'])


@st.composite
def entity(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["text", "text", "multipart", "message", "digest"]) if depth < 12 else st.just("text"))
    if kind == "text":
        lines = draw(st.lists(st.sampled_from(["text", "--a", "--same--", "--b  ", "-- x", "Content-Type: message/rfc822",
                                               ""]), max_size=3))
        separator = draw(st.sampled_from(["\n", "\n", "X-Odd: 1\n\n", ""]))  # "" -> no blank line: a defect
        return f"Content-Type: text/plain\n{separator}line {draw(st.integers(0, 99))}\n" + "".join(f"{x}\n" for x in lines)
    if kind == "message":
        return f"Content-Type: message/rfc822\n\nSubject: m{depth}\n{draw(entity(depth + 1))}"
    boundary = draw(BOUNDARIES)
    bare = boundary.strip('"')
    folded = draw(st.booleans())
    subtype = "digest" if kind == "digest" else draw(st.sampled_from(["mixed", "alternative", "related"]))
    head = f"Content-Type:{chr(10) + ' ' if folded else ' '}multipart/{subtype}; boundary={boundary}\n\n"
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if kind == "digest" and draw(st.booleans()):
            part = f"\nSubject: d{depth}\n{draw(entity(depth + 2))}"  # a header-less message/rfc822
        else:
            part = draw(entity(depth + 1))
        parts.append(f"--{bare}\n{part}")
    closing = f"--{bare}--\n" if draw(st.booleans()) else ""
    return head + "preamble\n" + "\n".join(parts) + "\n" + closing


@settings(max_examples=int(os.environ.get("DEPTH_EXAMPLES", 300)), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=entity(), limit=st.integers(0, 8), crlf=st.booleans())
def test_the_cut_keeps_every_part_within_the_limit_as_the_stdlib_parser_reads_it(body: str, limit: int,
                                                                                 crlf: bool) -> None:
    raw = "From: a@pharma.example\nSubject: p\n" + body
    data = raw.encode().replace(b"\n", b"\r\n") if crlf else raw.encode()
    cut, _ = cut_deep_parts(data, limit)
    parse = BytesParser(policy=compat32).parsebytes
    original, after = outline(parse(data), limit), outline(parse(cut), limit + 1)
    # Within the limit the structure and the leaves are the parser's own; one level below, only
    # empty parts are left, and nothing deeper.
    assert [entry for entry in after if entry[0] <= limit] == original
    assert all(payload == "" for depth, _, payload in after if depth > limit)
    assert all(depth <= limit + 1 for depth, _, _ in after)
