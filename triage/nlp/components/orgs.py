"""Organisation names (companies, healthcare units, societies) as labelled spans, from patterns/orgs.jsonl.

Each pattern is a regular expression over the section's text with an `id` and a label
(`company`, `healthcare`, `third_party`); `{CAP}` stands for a capitalised word's first letter and
`{SP}` for the spaces between words on one line. A plain regex pass over the text costs a fraction of
spaCy's token Matcher with per-token REGEX predicates (which dominated this component's time), and
the spans are the same shapes. Overlaps are resolved like `spacy.first_longest_spans_filter.v1`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from triage.nlp.components.structure import doc_text
from triage.nlp.fastre import compile_guarded
from triage.nlp.patterns import load_patterns

ORGS_KEY = "orgs"
_MACROS = {"{CAP}": "[A-ZÅÄÖÆØÜ0-9]", "{SP}": "[ \\t\\u00a0]+"}
#: Capitalised words that begin a line or sentence but never a name: "Hilsen Reumafarm AS" is
#: "Reumafarm AS", "Skulle Somnera Medical ha…" is "Somnera Medical".
_NOT_A_NAME = frozenset(
    "hilsen hälsningar halsningar mvh vh med vänlig vennlig best kind regards hej hei hi dear kära kjære tack takk thanks "
    "skulle kunne kunde ville vill vil kan ska skal har is are will would could should we vi jag jeg i our vår våre vårt "
    "och og and från fra from för for till til to på at in om about via hos by the en ett et den det de "
    "fredag torsdag onsdag tisdag måndag mandag tirsdag monday tuesday wednesday thursday friday "
    "ps obs nb ny nytt nyhet new".split()
)


@lru_cache(maxsize=1)
def org_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(id, label, compiled regex) of every line of patterns/orgs.jsonl."""
    compiled = []
    for item in load_patterns("orgs"):
        source = item["regex"]
        for macro, value in _MACROS.items():
            source = source.replace(macro, value)
        compiled.append((item["id"], item["label"], compile_guarded(rf"(?<![\w&/-]){source}")))
    return tuple(compiled)


def find_orgs(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, label, pattern id) of organisation names, longest first on overlaps, in text order."""
    found: list[tuple[int, int, str, str]] = []
    for pattern_id, label, regex in org_patterns():
        for match in regex.finditer(text):
            start, end = match.start(), match.end()
            while True:  # drop leading words that are no part of a name, then match again from there
                first = re.match(r"[\w'-]+", text[start:end])
                if first is None or first.group(0).lower() not in _NOT_A_NAME:
                    break
                rest = re.match(r"[\w'-]+[ \t\u00a0]+", text[start:end])
                again = regex.match(text, start + rest.end()) if rest else None
                if again is None or again.end() > end:
                    start = -1
                    break
                start, end = again.start(), again.end()
            if start >= 0:
                found.append((start, end, label, pattern_id))
    found.sort(key=lambda f: (f[0] - f[1], f[0]))
    kept: list[tuple[int, int, str, str]] = []
    for item in found:
        if all(item[1] <= k[0] or k[1] <= item[0] for k in kept):
            kept.append(item)
    return sorted(kept)


@Language.factory("triage_orgs", assigns=["doc.spans"], default_config={"spans_key": ORGS_KEY})
def make_orgs(nlp: Language, name: str, spans_key: str) -> "OrgMatcher":
    return OrgMatcher(spans_key)


class OrgMatcher:
    """Organisation names from patterns/orgs.jsonl; span label = kind, span id = pattern id."""

    def __init__(self, spans_key: str = ORGS_KEY) -> None:
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for start, end, label, pattern_id in find_orgs(doc_text(doc)):
            span = doc.char_span(start, end, label=label, span_id=pattern_id, alignment_mode="contract")
            if span is not None and len(span):
                spans.append(span)
        doc.spans[self.spans_key] = spans
        return doc
