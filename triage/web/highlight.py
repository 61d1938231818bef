"""Place evidence in the text of a mail: which characters of which section each finding or
event field was read from, cut into segments a template can render with <mark>.

Nothing here makes HTML: segments are plain text that the template escapes. Evidence carries
(source, part, start, end) offsets into a `Section` of the re-parsed message; when the offsets
do not fit (the parser changed since, or the evidence has none) the quoted text is searched for
instead, ignoring case and differences in white space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from triage.message.envelope import Section
from triage.results import Evidence

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Mark:
    """One piece of evidence to highlight: its anchor id, what it is evidence of, and where."""

    anchor: str
    kind: str  # "violation", "missing" or "field"
    label: str
    evidence: Evidence


@dataclass(frozen=True)
class Segment:
    """A run of text covered by the same marks; `anchors` are the marks that start here."""

    text: str
    marks: tuple[Mark, ...] = ()
    anchors: tuple[str, ...] = ()

    @property
    def kinds(self) -> str:
        """The CSS classes of the marks covering this run ("violation field", say)."""
        return " ".join(sorted({mark.kind for mark in self.marks}))

    @property
    def title(self) -> str:
        return "; ".join(dict.fromkeys(mark.label for mark in self.marks))


@dataclass
class SectionView:
    """A section of the mail with its text cut into segments."""

    section: Section
    segments: list[Segment] = field(default_factory=list)
    marks: int = 0


def _same_text(found: str, quoted: str) -> bool:
    return _SPACE.sub(" ", found).strip().casefold() == _SPACE.sub(" ", quoted).strip().casefold()


def _search(text: str, quoted: str) -> tuple[int, int] | None:
    words = quoted.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words), re.IGNORECASE)
    match = pattern.search(text)
    return (match.start(), match.end()) if match else None


def _candidates(evidence: Evidence, sections: Sequence[Section]) -> list[int]:
    same_source = [i for i, s in enumerate(sections) if s.source == evidence.source]
    exact = [i for i in same_source if s_name(sections[i]) == (evidence.part or None)]
    return exact or same_source


def s_name(section: Section) -> str | None:
    return section.name or None


def locate(evidence: Evidence, sections: Sequence[Section]) -> tuple[int, int, int] | None:
    """(section index, start, end) of the evidence in the sections, or None when it is not there."""
    preferred = _candidates(evidence, sections)
    for index in preferred:
        text = sections[index].text
        start, end = evidence.start, evidence.end
        if start is not None and end is not None and 0 <= start < end <= len(text):
            if _same_text(text[start:end], evidence.text):
                return index, start, end
    for index in preferred + [i for i in range(len(sections)) if i not in preferred]:
        span = _search(sections[index].text, evidence.text)
        if span is not None:
            return index, span[0], span[1]
    return None


def segments(text: str, spans: Iterable[tuple[int, int, Mark]]) -> list[Segment]:
    """Cut `text` at every start and end of the spans; each piece lists the marks covering it."""
    spans = [(start, end, mark) for start, end, mark in spans if 0 <= start < end <= len(text)]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[Segment] = []
    for left, right in zip(cuts, cuts[1:]):
        covering = tuple(mark for start, end, mark in spans if start <= left and right <= end)
        anchors = tuple(mark.anchor for start, _, mark in spans if start == left)
        out.append(Segment(text[left:right], covering, anchors))
    return out or [Segment(text)]


def highlight(sections: Sequence[Section], marks: Sequence[Mark]) -> tuple[list[SectionView], dict[str, bool]]:
    """The sections cut into segments, and for each mark's anchor whether it was found in the text."""
    placed: dict[int, list[tuple[int, int, Mark]]] = {}
    found: dict[str, bool] = {}
    for mark in marks:
        where = locate(mark.evidence, sections) if mark.evidence.text.strip() else None
        found[mark.anchor] = where is not None
        if where is not None:
            index, start, end = where
            placed.setdefault(index, []).append((start, end, mark))
    views = []
    for index, section in enumerate(sections):
        spans = placed.get(index, [])
        views.append(SectionView(section, segments(section.text, spans), len(spans)))
    return views, found
