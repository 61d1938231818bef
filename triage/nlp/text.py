"""Plain-text structure the components share: lines, sentences and field cues ("Plats:").

Everything here works on character offsets into one section's text, so that whatever a
component finds can become a spaCy span and, in the end, evidence with offsets.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from triage.nlp.patterns import load_patterns


@dataclass(frozen=True)
class Cue:
    """A field label at the start of a line ("Plats:", "Målgruppe\\t", "Agenda" alone on its line).

    `value_start`/`value_end` bound the text after it on the same line (empty when the label
    stands alone and its value follows on the next lines).
    """

    start: int
    end: int
    label: str
    pattern_id: str
    value_start: int
    value_end: int

    @property
    def has_inline_value(self) -> bool:
        return self.value_end > self.value_start


@lru_cache(maxsize=1)
def _cue_table() -> tuple[re.Pattern[str], dict[str, list[tuple[str, str]]]]:
    by_phrase: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in load_patterns("cues"):
        phrase = item["phrase"].lower()
        if (item["label"], item["id"]) not in by_phrase[phrase]:
            by_phrase[phrase].append((item["label"], item["id"]))
    alternation = "|".join(re.escape(p) for p in sorted(by_phrase, key=len, reverse=True))
    regex = re.compile(
        rf"^(?P<lead>[ \t>*•·▪◦‣\-–]*)(?P<cue>{alternation})(?P<sep>[ \t]*:[ \t]*|[ \t]*\t[ \t]*|[ \t]{{2,}}|[ \t]*(?=\n|$))",
        re.IGNORECASE | re.MULTILINE,
    )
    return regex, dict(by_phrase)


def find_cues(text: str) -> list[Cue]:
    """Every field cue at the start of a line, one per label the phrase stands for."""
    regex, by_phrase = _cue_table()
    cues: list[Cue] = []
    for match in regex.finditer(text):
        phrase = match.group("cue").lower()
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end < 0 else line_end
        value_start, value_end = match.end(), line_end
        while value_end > value_start and text[value_end - 1] in " \t\r":
            value_end -= 1
        sep = match.group("sep")
        if ":" not in sep and "\t" not in sep and value_end > value_start and "  " not in sep:
            continue  # "Program för dagen…": a word at a line start, not a label
        labels_seen: set[str] = set()
        for label, pattern_id in by_phrase.get(phrase, ()):
            if label in labels_seen:
                continue  # "Tid" is a date cue in Swedish and Norwegian alike: one cue per label
            labels_seen.add(label)
            cues.append(Cue(match.start("cue"), match.end("cue"), label, pattern_id, value_start, value_end))
    return cues


def line_bounds(text: str, position: int) -> tuple[int, int]:
    """Start and end offsets of the line holding `position`."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return start, len(text) if end < 0 else end


def lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line, trimmed of surrounding whitespace."""
    out: list[tuple[int, int]] = []
    for match in re.finditer(r"[^\n]+", text):
        start, end = match.start(), match.end()
        while start < end and text[start] in " \t\r\u00a0":
            start += 1
        while end > start and text[end - 1] in " \t\r\u00a0":
            end -= 1
        if end > start:
            out.append((start, end))
    return out


#: Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = {
    "kl", "ca", "t.ex", "bl.a", "s.k", "d.v.s", "dvs", "inkl", "exkl", "resp", "nr", "tel", "avd", "ev",
    "etc", "e.g", "i.e", "dr", "prof", "mr", "mrs", "ms", "vs", "st", "jfr", "osv", "mm", "m.m", "f.d",
    "p.g.a", "pga", "mht", "m.fl", "o.s.v", "evt", "bl", "f.eks", "pkt", "kap", "no", "approx", "incl",
    "min", "max", "tlf", "mob", "ang", "ref", "rev", "ver", "vol", "fig", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "okt", "oct", "nov", "dec", "des", "ltd", "inc", "co",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”)]*[ \t]+(?=[\"“(]?[A-ZÅÄÖÆØÜ0-9•\-–])")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence: lines split further at sentence-final punctuation."""
    out: list[tuple[int, int]] = []
    for line_start, line_end in lines(text):
        cursor = line_start
        segment = text[line_start:line_end]
        for match in _SENTENCE_END.finditer(segment):
            cut = line_start + match.start()
            word = re.search(r"([\w.]+)[.!?]$", text[cursor:cut])
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            if word and len(word.group(1)) == 1 and word.group(1).isupper():
                continue  # an initial: "Anna K. Berg"
            if cut > cursor:
                out.append((cursor, cut))
            cursor = line_start + match.end()
        if line_end > cursor:
            out.append((cursor, line_end))
    return out


def trim(text: str, start: int, end: int, *, strip_final_stop: bool = True) -> tuple[int, int]:
    """Shrink (start, end) past surrounding spaces, bullets and quotes, and a final full stop."""
    while start < end and (text[start].isspace() or text[start] in "•·▪◦‣*-–>\"“'"):
        if text[start] in "-–" and start + 1 < end and not text[start + 1].isspace():
            break
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:\"”'" or (strip_final_stop and text[end - 1] in ".!")):
        if text[end - 1] == "." and end - 2 >= start and re.match(r"\w", text[end - 2]) and _ends_with_abbreviation(text[start:end]):
            break
        end -= 1
    return start, end


def _ends_with_abbreviation(segment: str) -> bool:
    word = re.search(r"([\w.]+)\.$", segment)
    return bool(word and word.group(1).lower() in _ABBREVIATIONS and word.group(1).lower() not in ("nov", "dec", "mar"))
