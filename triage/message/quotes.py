"""Separate what the sender wrote now from the quoted reply below it and the signature under it.

Quoted text is every "> " line, and everything from an attribution line ("Den 3 mars 2026 kl. 10:00
skrev Anna <a@b.se>:", "On Tue, 3 Mar 2026 at 10:00, X wrote:") to the end when the quote under
it is not marked with ">" (Outlook, HTML mail). Interleaved answers between "> " blocks stay new text.

The signature is cut conservatively, because an invitation's own text must never disappear
into it: only a "-- " delimiter, a device footer ("Skickat från min iPhone"), a "/Anna" sign-off,
or a closing ("Med vänlig hälsning", "Vennlig hilsen", "Best regards"…) followed by a short block of
short lines (name, title, phone, address) at the very end counts. A long block after "Hälsningar" is
text, not a signature. Patterns live in markers.py.
"""

from __future__ import annotations

import re

from triage.message import markers

#: A signature block after a closing: at most this many non-empty lines…
MAX_SIGNATURE_LINES = 10
#: …each at most this long (legal footers excepted, see markers.DISCLAIMER_WORDS)…
MAX_SIGNATURE_LINE = 100
#: …and after the "-- " delimiter, which is an explicit promise, a little more.
MAX_DELIMITED_LINES = 25
_SENTENCE = re.compile(r"[.!?]\s*$")


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_start(lines: list[str], index: int) -> int | None:
    """The first line of an attribution ending at `index`, joining a line Gmail wrapped."""
    line = lines[index]
    if len(line) > markers.MAX_MARKER_LINE or _is_quoted(line) or not markers.ATTRIBUTION_END.search(line.strip()):
        return None
    previous = lines[index - 1] if index > 0 else ""
    if (previous.strip() and not _is_quoted(previous) and markers.ATTRIBUTION_OPENER.match(previous)
            and not markers.ATTRIBUTION_OPENER.match(line)
            and markers.is_attribution(f"{previous.strip()} {line.strip()}")):
        return index - 1
    if markers.is_attribution(line):
        return index
    return None


def first_open_attribution(lines: list[str]) -> int | None:
    """The first line of an attribution whose quote is not marked with ">" (all below is old)."""
    for index in range(len(lines)):
        start = _attribution_start(lines, index)
        if start is None:
            continue
        following = index + 1
        while following < len(lines) and not lines[following].strip():
            following += 1
        if following >= len(lines) or not _is_quoted(lines[following]):
            return start
    return None


def split_quotes(text: str) -> tuple[str, str]:
    """(new text, quoted text) of a body part."""
    lines = text.split("\n")
    quoted = [False] * len(lines)
    index = 0
    while index < len(lines):
        if _is_quoted(lines[index]):
            quoted[index] = True
            index += 1
            continue
        start = _attribution_start(lines, index)
        if start is None:
            index += 1
            continue
        following = index + 1
        while following < len(lines) and not lines[following].strip():
            following += 1
        if following < len(lines) and _is_quoted(lines[following]):
            for position in range(start, following):
                quoted[position] = True
            index = following
            continue
        for position in range(start, len(lines)):
            quoted[position] = True
        break
    new = "\n".join(line for line, is_quote in zip(lines, quoted) if not is_quote)
    old = "\n".join(line for line, is_quote in zip(lines, quoted) if is_quote)
    return new.strip("\n"), old.strip("\n")


def _short_block(lines: list[str], limit: int) -> bool:
    """True when the lines look like a signature: few, short, not prose."""
    content = [line.strip() for line in lines if line.strip()]
    if len(content) > limit:
        return False
    for line in content:
        if markers.DISCLAIMER_WORDS.search(line):
            continue
        if len(line) > MAX_SIGNATURE_LINE:
            return False
        if len(line.split()) >= 10 and _SENTENCE.search(line):
            return False  # a sentence of prose: this is still the message
    return True


def split_signature(text: str) -> tuple[str, str]:
    """(text without signature, signature); the signature is "" unless one is certain."""
    lines = text.split("\n")
    # A signature ends the text and has at most MAX_DELIMITED_LINES lines: look only there.
    start, content = len(lines), 0
    while start > 0 and content <= MAX_DELIMITED_LINES:
        start -= 1
        content += bool(lines[start].strip())
    candidates: list[int] = []
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if len(line) > markers.MAX_MARKER_LINE:
            continue
        rest = lines[index + 1:]
        if markers.SIGNATURE_DELIMITER.match(line):
            if _short_block(rest, MAX_DELIMITED_LINES) and any(r.strip() for r in rest):
                candidates.append(index)
        elif markers.CLOSING_LINE.match(line) or markers.SLASH_SIGNOFF.match(line):
            if _short_block(rest, MAX_SIGNATURE_LINES):
                candidates.append(index)
        elif markers.DEVICE_FOOTER_LINE.match(line) and _short_block(rest, 3):
            candidates.append(index)
    if not candidates:
        return text, ""
    cut = candidates[0]
    body = "\n".join(lines[:cut]).strip("\n")
    signature = "\n".join(lines[cut:]).strip("\n")
    if markers.SIGNATURE_DELIMITER.match(signature.split("\n", 1)[0].strip()):
        signature = signature.split("\n", 1)[1].strip("\n") if "\n" in signature else ""
    return body, signature
