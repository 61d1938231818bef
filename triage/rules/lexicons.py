"""Word lists and patterns the checks use, kept in files (`triage/rules/lexicons/*.toml`) with ids.

A lexicon file has a `description` and tables of named groups; each group maps a pattern id to a
regular expression (case-insensitive). A check refers to a group as "lexicon:group", e.g.
"travel:trip", and a match carries its pattern id, so the provenance of a hit can be shown.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
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
    """One file of pattern groups."""

    name: str
    description: str
    groups: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]

    def patterns(self, group: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The (id, compiled pattern) pairs of a group."""
        try:
            return self.groups[group]
        except KeyError:
            raise RulebookError(f"lexicon {self.name!r} has no group {group!r}") from None


class Lexicons:
    """All lexicon files, by name; look-ups by "lexicon:group"."""

    def __init__(self, lexicons: dict[str, Lexicon]) -> None:
        self.lexicons = lexicons

    def __contains__(self, ref: str) -> bool:
        name, _, group = ref.partition(":")
        return name in self.lexicons and group in self.lexicons[name].groups

    def patterns(self, ref: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The (id, compiled pattern) pairs of a group."""
        name, _, group = ref.partition(":")
        if name not in self.lexicons:
            raise RulebookError(f"unknown lexicon {name!r} (in {ref!r})")
        return self.lexicons[name].patterns(group)

    def finditer(self, ref: str, text: str) -> Iterator[PatternMatch]:
        """Every match of every pattern of the group, in pattern order."""
        name, _, group = ref.partition(":")
        for pattern_id, pattern in self.patterns(ref):
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    yield PatternMatch(name, group, pattern_id, m.start(), m.end(), m.group(0))

    def search(self, ref: str, text: str) -> PatternMatch | None:
        """The earliest match of the group in the text, or None."""
        best: PatternMatch | None = None
        for match in self.finditer(ref, text):
            if best is None or match.start < best.start:
                best = match
        return best

    def any(self, ref: str, text: str) -> bool:
        """Whether any pattern of the group matches the text."""
        return any(pattern.search(text) for _, pattern in self.patterns(ref))


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
    return Lexicon(path.stem, str(description), groups)


def load_lexicons(directory: Path = LEXICON_DIR) -> Lexicons:
    """Every *.toml lexicon of a folder."""
    return Lexicons({path.stem: load_lexicon(path) for path in sorted(directory.glob("*.toml"))})
