"""HTML bodies and attachments as readable text, with inscriptis.

inscriptis lays HTML out the way a browser would show it as text: paragraphs stay paragraphs,
list items become "* item" lines and each table row becomes one line, which is what the event
extractor needs ("Tid  12:00", "Plats  Aula"). Links are left out of the text (tracking URLs
would drown the words); the raw HTML stays on the ParsedMessage for anything that needs them.
"""

from __future__ import annotations

import html as html_lib
import re
import textwrap
from functools import lru_cache

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

from triage.message.text import clean_text

#: "relaxed" puts a space around inline blocks, so words in adjacent <span>/<div> never glue.
_CONFIG = ParserConfig(css=CSS_PROFILES["relaxed"])

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_DROP_BLOCKS = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/table)\b[^>]*>", re.IGNORECASE)


def meta_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a <meta> tag in its first 2 KB, if any."""
    match = _META_CHARSET.search(data[:2048])
    return match.group(1).decode("ascii", errors="ignore") if match else None


def _fallback(markup: str) -> str:
    text = _DROP_BLOCKS.sub(" ", markup[:200_000])  # bounded: the lazy pattern is quadratic on junk
    text = _BREAKS.sub("\n", text)
    return html_lib.unescape(_TAG.sub(" ", text))


def html_to_text(markup: str) -> tuple[str, list[str]]:
    """Readable text of an HTML document, and defects; never raises.

    Broken HTML is what lxml is good at; if it still fails, tags are stripped by hand and the
    defect says so.
    """
    text, defects = _converted(markup)
    return text, list(defects)


@lru_cache(maxsize=2)  # the alternative's stub check and the body read the same HTML, one after the other
def _converted(markup: str) -> tuple[str, tuple[str, ...]]:
    if not markup or not markup.strip():
        return "", ()
    safe = _UNSAFE.sub("", markup)
    try:
        text = get_text(safe, _CONFIG)
    except Exception as exc:  # noqa: BLE001 - any failure of the HTML stack falls back
        return clean_text(_fallback(safe)), (f"HTML not readable by inscriptis ({type(exc).__name__}), tags stripped",)
    # Nested blocks indent every line alike (Outlook's WordSection div): keep only relative indents.
    return clean_text(textwrap.dedent(text)), ()
