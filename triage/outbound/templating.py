"""The Jinja2 environments of the outgoing mail: HTML with autoescape on, plain text with wrapping.

HTML templates (`*.html.j2`) always autoescape: every value that came from a mail (subject,
sender, evidence, error text) is escaped, and no template may mark such a value `|safe`.
Text templates (`*.txt.j2`) get the `wrap` filter for paragraphs and hanging indents. Both
use StrictUndefined, so a misspelt variable fails the tests instead of printing nothing.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from triage.outbound.mail import clean_text

TEXT_WIDTH = 76


def wrap(text: str | None, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap each paragraph of `text` to `width`; `first` prefixes line one, `indent` the others."""
    text = clean_text(text)
    first = indent if first is None else first
    out: list[str] = []
    paragraphs = text.split("\n") if text else [""]
    for index, paragraph in enumerate(paragraphs):
        lead = first if index == 0 else indent
        if not paragraph.strip():
            out.append(lead.rstrip())
            continue
        out.extend(
            textwrap.wrap(
                paragraph.strip(), width=width, initial_indent=lead, subsequent_indent=indent,
                break_long_words=False, break_on_hyphens=False,
            )
            or [lead.rstrip()]
        )
    return "\n".join(out)


@lru_cache(maxsize=1)
def html_environment() -> Environment:
    """Templates for HTML mail: autoescape on for everything."""
    return Environment(
        loader=PackageLoader("triage.outbound", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def text_environment() -> Environment:
    """Templates for plain-text mail (no escaping: nothing interprets the text)."""
    env = Environment(
        loader=PackageLoader("triage.outbound", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env
