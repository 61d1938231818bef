"""Forwarded originals written into a body: find each header block and recover what it says.

A body like

    Hej, se nedan. /Karin

    -----Ursprungligt meddelande-----
    Från: Anna Svensson <anna@pharma.se>
    Skickat: den 3 mars 2026 10:00
    Till: Funktionsbrevlåda <fb@region.se>
    Ämne: Inbjudan till lunchföreläsning

    Välkommen till …

splits into the forwarder's part ("Hej, se nedan. /Karin") and one InlineForward per header block,
outer to inner. Outlook writes the same block above a quoted reply; when the mail's subject says
it is a reply ("SV:", "RE:", "AW:"), the first such block starts the quoted text instead.
Patterns live in markers.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.message import markers

#: How far below a From line the other labels of a header block may be.
_BLOCK_SPAN = 10


@dataclass(frozen=True)
class _Boundary:
    start: int  # first line that belongs to the forward (separator or From line)
    header_start: int  # where the header block is looked for
    definite: bool  # a forward separator, never a reply


@dataclass
class InlineForward:
    """One forwarded original as its header block wrote it; values are raw text."""

    fields: dict[str, str] = field(default_factory=dict)
    text: str = ""


@dataclass
class InlineSplit:
    """The forwarder's part, the forwarded originals, and a reply block that is quoted text."""

    top: str
    forwards: list[InlineForward]
    quoted: str = ""


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _header_block_follows(lines: list[str], start: int) -> bool:
    """True when line `start` is a From line followed closely by at least two other fields."""
    found = markers.header_line(lines[start])
    if found is None or found[0] != "from":
        return False
    kinds: set[str] = set()
    blanks = 0
    for line in lines[start + 1: start + 1 + _BLOCK_SPAN]:
        if not line.strip():
            blanks += 1
            if blanks > 1:
                break
            continue
        blanks = 0
        found = markers.header_line(line)
        if found is not None:
            kinds.add(found[0])
    return len(kinds & {"date", "to", "subject", "cc"}) >= 2


def _find_boundary(lines: list[str], start: int) -> _Boundary | None:
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip() or _is_quoted(line) or len(line) > markers.MAX_HEADER_LINE:
            continue
        if len(line) > markers.MAX_MARKER_LINE:
            if _header_block_follows(lines, index):
                return _Boundary(index, index, definite=False)
            continue
        if markers.FORWARD_LINE.match(line):
            return _Boundary(index, index + 1, definite=True)
        if markers.ORIGINAL_MESSAGE_LINE.match(line):
            return _Boundary(index, index + 1, definite=False)
        if markers.RULE_LINE.match(line):
            following = _skip_blank(lines, index + 1, limit=3)
            if following < len(lines) and _header_block_follows(lines, following):
                return _Boundary(index, following, definite=False)
            continue
        if _header_block_follows(lines, index):
            return _Boundary(index, index, definite=False)
    return None


def _skip_blank(lines: list[str], index: int, *, limit: int) -> int:
    skipped = 0
    while index < len(lines) and not lines[index].strip() and skipped < limit:
        index += 1
        skipped += 1
    return index


def _read_header_block(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """The fields of the header block at `start` (blank lines before it skipped) and where its body starts."""
    index = _skip_blank(lines, start, limit=3)
    if index >= len(lines) or markers.header_line(lines[index]) is None:
        return {}, start
    fields: dict[str, str] = {}
    last_kind: str | None = None
    while index < len(lines):
        line = lines[index]
        found = markers.header_line(line)
        if found is not None:
            kind, value = found
            if kind in fields and kind != "other":
                break  # a second From/Subject: a new block or the body
            fields[kind] = value
            last_kind = kind
            index += 1
            continue
        if not line.strip():
            after = _skip_blank(lines, index, limit=1)
            if after < len(lines) and markers.header_line(lines[after]) is not None and after != index:
                index = after
                continue
            break
        # A wrapped To/Cc/From value continues until the next label line, if one comes soon.
        upcoming = next((i for i in range(index + 1, min(index + 4, len(lines)))
                         if markers.header_line(lines[i]) is not None), None)
        if last_kind in ("to", "cc", "from") and upcoming is not None:
            fields[last_kind] = f"{fields[last_kind]} {line.strip()}".strip()
            index += 1
            continue
        break
    return fields, _skip_blank(lines, index, limit=len(lines))


def _unquote_if_all_quoted(lines: list[str]) -> list[str]:
    """Strip one level of "> " when the forwarded original was quoted as a whole."""
    content = [line for line in lines if line.strip()]
    if not content or sum(_is_quoted(line) for line in content) < 0.6 * len(content):
        return lines
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(">"):
            stripped = stripped[1:]
            line = stripped[1:] if stripped.startswith(" ") else stripped
        out.append(line)
    return out


def first_boundary(lines: list[str]) -> int | None:
    """The line where the first forward or Outlook header block starts, or None."""
    boundary = _find_boundary(lines, 0)
    return boundary.start if boundary is not None else None


def split_inline(text: str, *, reply: bool) -> InlineSplit:
    """Split a body at its forward header blocks; `reply` says the mail's subject names a reply."""
    lines = text.split("\n")
    boundary = _find_boundary(lines, 0)
    if boundary is None:
        return InlineSplit(top=text, forwards=[])
    top = "\n".join(lines[: boundary.start])
    if reply and not boundary.definite:
        return InlineSplit(top=top, forwards=[], quoted="\n".join(lines[boundary.start:]))
    forwards: list[InlineForward] = []
    while boundary is not None:
        fields, body_start = _read_header_block(lines, boundary.header_start)
        following = _find_boundary(lines, max(body_start, boundary.start + 1))
        end = following.start if following is not None else len(lines)
        body = _unquote_if_all_quoted(lines[body_start:end])
        forwards.append(InlineForward(fields=fields, text="\n".join(body).strip("\n")))
        boundary = following
    return InlineSplit(top=top, forwards=forwards)
