"""Faster case-insensitive alternations: a lookahead on the characters a match can start with.

Python's `re` tries every branch of `(?:syftet|målet|the aim|…)` at every position of a text; it
skips ahead only for a literal prefix, which an IGNORECASE alternation never has. A leading
`(?=[smt…])`, computed from the parsed pattern, rejects most positions with one class test, and
since it only states what the pattern's first character must be anyway, it matches exactly what
the pattern matched (tests/test_nlp_fastre.py). Patterns whose first character cannot be bounded
(a leading `\\s`, `.`, an optional first item with nothing after it) are compiled unchanged.
"""

from __future__ import annotations

import re

try:  # Python ≥ 3.11
    from re import _constants as _c, _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
#: A marker in a first-character set: some branch is case-insensitive, so the class must be too.
_ANY_CASE = "<icase>"
#: Character classes kept as escapes in the guard (so "\\d" stays every Unicode digit, as in the pattern).
_CATEGORIES = {_c.CATEGORY_DIGIT: "\\d", _c.CATEGORY_SPACE: "\\s", _c.CATEGORY_WORD: "\\w"}


def _first_of_sequence(items) -> tuple[set[str] | None, bool]:  # noqa: ANN001 - sre's parsed form
    chars: set[str] = set()
    for op, av in items:
        first, nullable = _first_of_item(op, av)
        if first is None:
            return None, False
        chars |= first
        if not nullable:
            return chars, False
    return chars, True


def _first_of_item(op, av) -> tuple[set[str] | None, bool]:  # noqa: ANN001
    if op == _c.LITERAL:
        return {chr(av)}, False
    if op in _ZERO_WIDTH:
        return set(), True
    if op == _c.SUBPATTERN:
        first, nullable = _first_of_sequence(av[-1])
        if first is not None and av[1] & _c.SRE_FLAG_IGNORECASE:  # "(?i:sykehuset|…)": both cases
            first = {c for ch in first for c in (ch, ch.lower(), ch.upper(), ch.casefold()) if len(c) == 1}
            first.add(_ANY_CASE)
        return first, nullable
    if op == _c.BRANCH:
        chars: set[str] = set()
        nullable = False
        for branch in av[1]:
            first, empty = _first_of_sequence(branch)
            if first is None:
                return None, False
            chars |= first
            nullable = nullable or empty
        return chars, nullable
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, _high, sub = av
        first, empty = _first_of_sequence(sub)
        return first, (empty or low == 0) if first is not None else False
    if op == _c.IN:
        chars = set()
        for kind, value in av:
            if kind == _c.LITERAL:
                chars.add(chr(value))
            elif kind == _c.RANGE and value[1] - value[0] < 64:
                chars.update(chr(code) for code in range(value[0], value[1] + 1))
            elif kind == _c.CATEGORY and value in _CATEGORIES:
                chars.add(_CATEGORIES[value])  # "\\d" goes into the guard's class as it is
            else:
                return None, False
        return chars, False
    return None, False


def first_chars(pattern: str, flags: int = 0) -> set[str] | None:
    """The characters a match of `pattern` can start with, or None when they cannot be bounded."""
    parsed = _p.parse(pattern, flags)
    chars, nullable = _first_of_sequence(parsed)
    if chars is None or nullable or not chars - {_ANY_CASE}:
        return None
    if parsed.state.flags & re.IGNORECASE:  # an inline "(?i)" for the whole pattern
        chars.add(_ANY_CASE)
    return chars


def compile_guarded(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)` with a leading lookahead on its possible first characters."""
    chars = first_chars(pattern, flags)
    if chars is None:
        return re.compile(pattern, flags)
    icase = bool(flags & re.IGNORECASE) or _ANY_CASE in chars
    chars.discard(_ANY_CASE)
    klass = "".join(sorted(ch if len(ch) == 2 else "\\" + ch if ch in "-]^\\[" else ch for ch in chars))
    guard = f"(?i:[{klass}])" if icase and not flags & re.IGNORECASE else f"[{klass}]"
    try:
        return re.compile(f"(?={guard})(?:{pattern})", flags)
    except re.error:  # a global inline flag ("(?i)…") must stay first: keep the pattern as it is
        return re.compile(pattern, flags)
