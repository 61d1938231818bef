"""Plain-text clean-up shared by bodies and attachments: line ends, flowed text, invisible characters."""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[\u00a0\u2007\u202f\u3000]")
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize_newlines(text: str) -> str:
    """Every line break as a single "\\n"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_text(text: str) -> str:
    """Text ready for reading and matching: one kind of line break and space, no control
    characters or invisible marks, no trailing spaces, at most one blank line in a row."""
    text = normalize_newlines(text)
    if not text.isascii():
        text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join the soft line breaks of RFC 3676 format=flowed text (Apple Mail, Thunderbird).

    A line ending in a space continues on the next line of the same quote depth; the
    signature separator "-- " never flows. Space-stuffing is undone.
    """
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for line in normalize_newlines(text).split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        prefix = ">" * depth + (" " if depth else "")
        if current is not None and depth == current_depth:
            current += content
        else:
            if current is not None:
                out.append(current)
            current, current_depth = prefix + content, depth
        if content.endswith(" ") and content != "-- ":
            if delsp:
                current = current[:-1]
            continue
        out.append(current)
        current, current_depth = None, -1
    if current is not None:
        out.append(current)
    return "\n".join(out)


def cap(text: str, limit: int) -> tuple[str, bool]:
    """The text cut to at most `limit` characters (at a line break when one is near)."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind("\n", max(0, limit - 2000), limit)
    return text[: cut if cut > 0 else limit], True


def letters(text: str) -> int:
    """How many letters the text has (digits, punctuation and spaces do not count)."""
    return len(_NOT_LETTERS.sub("", text))
