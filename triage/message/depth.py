"""Cut a mail's MIME structure at `max_depth` levels before the stdlib parser ever sees it.

Why: the stdlib feed parser checks every line against the boundary of every open multipart and
recurses once per level, so a mail nested a thousand levels deep costs time quadratic in its depth
(about a second per mail at 1000 levels, twenty under tracemalloc) and then overflows the stack.
The walk (mime.py) skips parts below `max_depth` anyway, so nothing is lost by not parsing them.

`cut_deep_parts` follows the structure in one linear pass over the lines, with the feed parser's
own rules (header lines, the first Content-Type, boundaries recognised at every open level with
the innermost first and a preamble's own boundary last, message/* bodies being mails one level down, multipart/digest children
being message/rfc822), and empties every entity deeper than the limit. The delimiter line before
an emptied entity stays (with one line end after it), so the parser still sees an empty part
there and the walk reports the skip. A mail that cannot be that deep (few enough multipart/message types) is returned untouched
without the scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

#: A Content-Type header opening a container (multipart/* or message/*); each adds at most two
#: levels (a multipart/digest's children are message/rfc822 without a header of their own).
_CONTAINER = re.compile(rb"(?im)^content-type:[ \t\r\n]*(?:multipart|message)/")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|[\r\n])|[^\r\n]+\Z")
#: email.feedparser.headerRE, for bytes: a header field, a continuation line or an mbox "From ".
_HEADER = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:|[\t ]")


def depth_defect(limit: int) -> str:
    """The defect every depth cut records: it names the limit and says what happened."""
    return f"MIME nesting deeper than the limit of {limit} levels (max_depth); deeper parts skipped"


@dataclass
class _Open:
    """A multipart whose parts are being read."""

    separator: bytes  # b"--" + boundary
    child_depth: int
    digest: bool
    started: bool = False  # its first delimiter seen (the preamble is over)


def _could_be_deeper(data: bytes, budget: int) -> bool:
    containers = 0
    for _ in _CONTAINER.finditer(data):
        containers += 1
        if 2 * containers > budget:
            return True
    return False


def _boundary(line: bytes, stack: list[_Open]) -> tuple[int, bool] | None:
    """(index in `stack`, closing) when `line` is a delimiter of an open multipart: the innermost
    first, except that a multipart still in its preamble yields to every outer one (the feed
    parser only stacks a boundary once its first delimiter has been seen)."""
    text = line.rstrip(b"\r\n").rstrip(b" \t")
    closing = text[:-2] if text.endswith(b"--") else None
    order = list(range(len(stack) - 1, -1, -1))
    if not stack[-1].started:
        order.append(order.pop(0))
    for index in order:
        separator = stack[index].separator
        if text == separator:
            return index, False
        if closing == separator:
            return index, True
    return None


def _content_type(value: bytes | None, digest_child: bool) -> tuple[str, bytes | None]:
    """The content type and boundary the stdlib parser will read from this Content-Type value."""
    message = Message()
    if digest_child:
        message.set_default_type("message/rfc822")
    if value is not None:
        message["Content-Type"] = value.decode("ascii", "surrogateescape")
    ctype = message.get_content_type()
    boundary = message.get_boundary() if ctype.startswith("multipart/") else None
    return ctype, (boundary.encode("ascii", "surrogateescape") if boundary is not None else None)


def cut_deep_parts(data: bytes, budget: int) -> tuple[bytes, bool]:
    """`data` with every MIME entity more than `budget` levels below the top emptied; and
    whether anything was cut. The top entity is level 0, as in the walk."""
    if budget < 0 or not _could_be_deeper(data, budget):
        return data, False
    stack: list[_Open] = []
    dropped: list[tuple[int, int, bytes]] = []  # byte ranges removed, and what replaces each
    drop_from: int | None = None  # start of the entity being emptied
    newline = b"\n"  # an emptied entity keeps one line end: the stdlib parser wants a part before a close
    depth = 0
    in_headers = True
    digest_child = False
    ctype_value: bytes | None = None
    in_ctype = False
    for match in _LINE.finditer(data):
        line = match.group()
        if stack and line[:2] == b"--":
            hit = _boundary(line, stack)
            if hit is not None:
                index, closing = hit
                if drop_from is not None:
                    dropped.append((drop_from, match.start(), newline))
                    drop_from = None
                opened = stack[index]
                del stack[index if closing else index + 1:]
                in_headers = not closing
                if not closing:
                    opened.started = True
                    depth, digest_child = opened.child_depth, opened.digest
                    ctype_value, in_ctype = None, False
                    if depth > budget:
                        drop_from = match.end()
                        newline = line[len(line.rstrip(b"\r\n")):] or b"\n"
                continue
        if drop_from is not None or not in_headers:
            continue
        # In a header section. A line that is not a header ends it (a blank line is the separator;
        # any other line already belongs to the body, as in the feed parser).
        while True:
            if _HEADER.match(line):
                if line[:1] in b" \t":
                    if in_ctype:
                        ctype_value = (ctype_value or b"") + line
                else:
                    name = line.split(b":", 1)[0]
                    in_ctype = ctype_value is None and name.lower() == b"content-type"
                    if in_ctype:
                        ctype_value = line.split(b":", 1)[1].lstrip(b" \t")
                    else:
                        in_ctype = False
                break
            blank = line[:1] in (b"\r", b"\n")
            ctype, boundary = _content_type(ctype_value, digest_child)
            ctype_value, in_ctype, digest_child = None, False, False
            in_headers = False
            if ctype.startswith("multipart/") and boundary is not None:
                stack.append(_Open(b"--" + boundary, depth + 1, ctype == "multipart/digest"))
            elif ctype.startswith("message/") and ctype != "message/delivery-status":
                depth += 1  # the body is a mail one level down: its headers start now
                in_headers = True
                if depth > budget:
                    # the blank line stays; else one line end stands in for the emptied mail
                    drop_from = match.end() if blank else match.start()
                    newline = b"" if blank else (line[len(line.rstrip(b"\r\n")):] or b"\n")
                    break
                if not blank:
                    continue  # this line is the inner mail's first header line
            break
    if drop_from is not None:
        dropped.append((drop_from, len(data), b""))
    if not dropped:
        return data, False
    kept: list[bytes] = []
    at = 0
    for start, end, replacement in dropped:
        kept.append(data[at:start])
        kept.append(replacement)
        at = end
    kept.append(data[at:])
    return b"".join(kept), True
