"""Split a body into the sender's new text, the quoted reply, the signature and inline forwards.

The order matters and is decided here once: whichever comes first in the body, an unmarked
quote (an attribution line with no "> " under it, so everything below is the old mail) or a
forward header block, owns the rest of the body. A forward inside an old quoted mail is part of
the quote; a reply inside a forwarded original is part of that original.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.message import forwards, markers, quotes
from triage.message.text import clean_text


@dataclass(frozen=True)
class BodySplit:
    """The parts of one body, each cleaned; `forwards` are outer to inner."""

    new_text: str
    quoted_text: str
    signature: str
    forwards: tuple[forwards.InlineForward, ...]
    #: The sender's part as written: new text, quotes and signature (for an attached original).
    own_text: str


def split_body(text: str, subject: str) -> BodySplit:
    """Split `text` (already cleaned) for a mail whose subject is `subject`."""
    lines = text.split("\n")
    open_quote = quotes.first_open_attribution(lines)
    boundary = forwards.first_boundary(lines)
    if open_quote is not None and (boundary is None or open_quote < boundary):
        top, inline, tail = "\n".join(lines[:open_quote]), [], "\n".join(lines[open_quote:])
    else:
        split = forwards.split_inline(text, reply=markers.subject_action(subject) == "reply")
        top, inline, tail = split.top, split.forwards, split.quoted
    new, quoted = quotes.split_quotes(top)
    new, signature = quotes.split_signature(new)
    quoted = "\n\n".join(part for part in (quoted, tail) if part.strip())
    return BodySplit(
        new_text=clean_text(new),
        quoted_text=clean_text(quoted),
        signature=clean_text(signature),
        forwards=tuple(forwards.InlineForward(fields=f.fields, text=clean_text(f.text)) for f in inline),
        own_text=clean_text("\n".join(part for part in (top, tail) if part)),
    )
