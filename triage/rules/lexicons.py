"""Word lists and patterns the checks use, kept in files (`triage/rules/lexicons/*.toml`) with ids.

A lexicon file has a `description` and tables of named groups; each group maps a pattern id to a
regular expression (case-insensitive). A check refers to a group as "lexicon:group", e.g.
"travel:trip", and a match carries its pattern id, so the provenance of a hit can be shown.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from triage.rules.model import RulebookError
from triage.rules.text import compile_pattern

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"


@dataclass(frozen=True)
class PatternMatch:
    """One lexicon pattern that matched: which one, and where."""

    lexicon: str
    group: str
    pattern_id: str
    start: int
    end: int
    text: str

    @property
    def ref(self) -> str:
        """The "lexicon:group.pattern" name of the pattern that matched."""
        return f"{self.lexicon}:{self.group}.{self.pattern_id}"


@dataclass(frozen=True)
class Lexicon:
    """One file of pattern groups; each group is also compiled once into one alternation."""

    name: str
    description: str
    groups: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]
    combined: dict[str, re.Pattern[str]] = field(default_factory=dict)
    #: Per group: its alternation and its patterns compiled without IGNORECASE, to be run on the
    #: lowercased text (about twice as fast); None for a group with an upper-case letter or a
    #: case-sensitive part `(?-i:…)`, which is always run as written.
    folded: dict[str, tuple[re.Pattern[str], tuple[re.Pattern[str], ...]] | None] = field(default_factory=dict)

    def patterns(self, group: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The (id, compiled pattern) pairs of a group."""
        try:
            return self.groups[group]
        except KeyError:
            raise RulebookError(f"lexicon {self.name!r} has no group {group!r}") from None

    def alternation(self, group: str) -> re.Pattern[str]:
        """The group's patterns as one regular expression `(?P<p0>…)|(?P<p1>…)`, compiled once."""
        self.patterns(group)  # a clear error for an unknown group
        return self.combined[group]


def _alternation(patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> re.Pattern[str]:
    """One compiled alternation of a group; group `p<i>` is the i-th pattern (its id by position)."""
    return re.compile("|".join(f"(?P<p{i}>{pattern.pattern})" for i, (_, pattern) in enumerate(patterns)),
                      re.IGNORECASE)


_ESCAPE = re.compile(r"\\.", re.DOTALL)


def _foldable(pattern: str) -> bool:
    """Whether a case-insensitive pattern means the same, case-sensitively, on lowercased text:
    no upper-case letter outside escapes (`\\S`, `\\B`…) and no case-sensitive part."""
    if "(?-i" in pattern or "\\N" in pattern or "\\x" in pattern or "\\u" in pattern or "\\U" in pattern:
        return False
    return not any(char.isupper() for char in _ESCAPE.sub("", pattern))


def _folded(patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]] | None:
    """The group's alternation and patterns without IGNORECASE, when every pattern can be folded."""
    if not all(_foldable(pattern.pattern) for _, pattern in patterns):
        return None
    alternation = re.compile("|".join(f"(?P<p{i}>{pattern.pattern})" for i, (_, pattern) in enumerate(patterns)))
    return alternation, tuple(re.compile(pattern.pattern) for _, pattern in patterns)


#: How many (group, text) results each Lexicons keeps: one mail's units across all its rules.
CACHE_SIZE = 8192


class Lexicons:
    """All lexicon files, by name; look-ups by "lexicon:group".

    The hot path of the checks: a group is scanned with its one compiled alternation, and what a
    (group, text) pair matched is remembered, since many rules read the same units with the same
    groups ("common:pay", "hospitality:meal" …).
    """

    def __init__(self, lexicons: dict[str, Lexicon], *, fold: bool = True) -> None:
        self.lexicons = lexicons
        #: Whether foldable groups run case-sensitively on the lowercased text (False: as written).
        self.fold = fold
        self._matches = lru_cache(maxsize=CACHE_SIZE)(self._scan)
        self._any = lru_cache(maxsize=CACHE_SIZE)(self._search)
        self._ids = lru_cache(maxsize=CACHE_SIZE)(self._matched_ids)
        self._lowered = lru_cache(maxsize=CACHE_SIZE)(_lowered)

    def _runnable(self, lexicon: Lexicon, group: str, text: str) -> tuple[str, re.Pattern[str], tuple[re.Pattern[str], ...]]:
        """The text to scan and the group's alternation and patterns to scan it with: the folded
        ones on the lowercased text (lowercased once per text) when they exist, else as written."""
        pairs = lexicon.patterns(group)
        folded = lexicon.folded.get(group) if self.fold else None
        if folded is not None:
            lowered = self._lowered(text)
            if lowered is not None:
                return lowered, folded[0], folded[1]
        return text, lexicon.combined[group], tuple(pattern for _, pattern in pairs)

    def __contains__(self, ref: str) -> bool:
        name, _, group = ref.partition(":")
        return name in self.lexicons and group in self.lexicons[name].groups

    def _lexicon(self, ref: str) -> tuple[Lexicon, str, str]:
        name, _, group = ref.partition(":")
        if name not in self.lexicons:
            raise RulebookError(f"unknown lexicon {name!r} (in {ref!r})")
        return self.lexicons[name], name, group

    def patterns(self, ref: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The (id, compiled pattern) pairs of a group."""
        lexicon, _, group = self._lexicon(ref)
        return lexicon.patterns(group)

    def _scan(self, ref: str, text: str, wanted: frozenset[str] | None, overlapping: bool) -> tuple[PatternMatch, ...]:
        lexicon, name, group = self._lexicon(ref)
        pairs = lexicon.patterns(group)
        scanned, alternation, patterns = self._runnable(lexicon, group, text)
        out: list[PatternMatch] = []
        if wanted is not None or overlapping:
            # a subset of the patterns, or every start position: pattern by pattern
            for (pattern_id, _), pattern in zip(pairs, patterns):
                if wanted is not None and pattern_id not in wanted:
                    continue
                pos = 0
                while pos <= len(scanned):
                    m = pattern.search(scanned, pos)
                    if m is None:
                        break
                    start, end = m.span()
                    if end > start:
                        out.append(PatternMatch(name, group, pattern_id, start, end, text[start:end]))
                    pos = (start + 1) if overlapping else max(end, start + 1)
            out.sort(key=lambda match: match.start)
            return tuple(out)
        for m in alternation.finditer(scanned):
            start, end = m.span()
            if end > start:
                index = int(m.lastgroup[1:]) if m.lastgroup else next(
                    i for i in range(len(pairs)) if m.group(f"p{i}") is not None)
                out.append(PatternMatch(name, group, pairs[index][0], start, end, text[start:end]))
        return tuple(out)

    def finditer(self, ref: str, text: str, *, patterns: Iterable[str] | None = None,
                 overlapping: bool = False) -> Iterator[PatternMatch]:
        """The matches of the group in reading order (leftmost, not overlapping, from one alternation).

        `patterns` keeps only those pattern ids; `overlapping` also reports a match that starts inside
        an earlier one (each pattern tried from every start position)."""
        wanted = frozenset(patterns) if patterns is not None else None
        return iter(self._matches(ref, text, wanted, overlapping))

    def search(self, ref: str, text: str) -> PatternMatch | None:
        """The earliest match of the group in the text, or None."""
        return next(self.finditer(ref, text), None)

    def _search(self, ref: str, text: str) -> bool:
        lexicon, _, group = self._lexicon(ref)
        scanned, alternation, _ = self._runnable(lexicon, group, text)
        return alternation.search(scanned) is not None

    def any(self, ref: str, text: str) -> bool:
        """Whether any pattern of the group matches the text."""
        return self._any(ref, text)

    def _matched_ids(self, ref: str, text: str) -> frozenset[str]:
        lexicon, _, group = self._lexicon(ref)
        scanned, _, patterns = self._runnable(lexicon, group, text)
        return frozenset(pid for (pid, _), pattern in zip(lexicon.patterns(group), patterns) if pattern.search(scanned))

    def matched_ids(self, ref: str, text: str) -> frozenset[str]:
        """The ids of every pattern of the group that matches somewhere in the text."""
        return self._ids(ref, text)


def _lowered(text: str) -> str | None:
    """The text lowercased, or None when lowercasing would move offsets (e.g. "İ" becomes two characters)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


def load_lexicon(path: Path) -> Lexicon:
    """Read one lexicon file; a pattern that does not compile is a clear error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulebookError(f"lexicon {path.name}: not valid TOML: {exc}") from None
    description = data.pop("description", "")
    groups: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {}
    for group, table in data.items():
        if not isinstance(table, dict):
            raise RulebookError(f"lexicon {path.name}: {group!r} must be a table of id = pattern")
        compiled = []
        for pattern_id, pattern in table.items():
            if not isinstance(pattern, str) or not pattern:
                raise RulebookError(f"lexicon {path.name}: {group}.{pattern_id} must be a non-empty pattern")
            try:
                compiled.append((pattern_id, compile_pattern(pattern)))
            except re.error as exc:
                raise RulebookError(f"lexicon {path.name}: {group}.{pattern_id} does not compile: {exc}") from None
        groups[group] = tuple(compiled)
    combined = {group: _alternation(pairs) for group, pairs in groups.items()}
    folded = {group: _folded(pairs) for group, pairs in groups.items()}
    return Lexicon(path.stem, str(description), groups, combined, folded)


def load_lexicons(directory: Path = LEXICON_DIR) -> Lexicons:
    """Every *.toml lexicon of a folder."""
    return Lexicons({path.stem: load_lexicon(path) for path in sorted(directory.glob("*.toml"))})
