"""Contacts (e-mail addresses and phone numbers) and online/on-site words, each as labelled spans."""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from triage.nlp.patterns import load_patterns
from triage.nlp.components.structure import doc_text
from triage.nlp.fastre import compile_guarded

CONTACTS_KEY = "contacts"
ONLINE_KEY = "online"

EMAIL = compile_guarded(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w-])", re.IGNORECASE)
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{2}[\s-]?(?:\(0\)\s?)?\d{1,4}(?:[\s-]?\d{2,4}){2,4}|0\d{1,3}[\s-]\d{2,3}(?:[\s-]?\d{2,3}){1,3}|0\d{2,3}-\d{5,8})(?![\w])"
)


@Language.factory("triage_contacts", assigns=["doc.spans"], default_config={"spans_key": CONTACTS_KEY})
def make_contacts(nlp: Language, name: str, spans_key: str) -> "ContactTagger":
    return ContactTagger(spans_key)


class ContactTagger:
    """E-mail addresses (label "email") and phone numbers (label "phone")."""

    def __init__(self, spans_key: str = CONTACTS_KEY) -> None:
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        taken: list[tuple[int, int]] = []
        for label, regex in (("email", EMAIL), ("phone", PHONE)):
            for match in regex.finditer(doc_text(doc)):
                if any(s < match.end() and match.start() < e for s, e in taken):
                    continue
                if label == "phone" and len(re.sub(r"\D", "", match.group(0))) < 7:
                    continue
                span = doc.char_span(match.start(), match.end(), label=label, span_id=f"contact/{label}",
                                     alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                    taken.append((match.start(), match.end()))
        doc.spans[self.spans_key] = sorted(spans, key=lambda s: s.start)
        return doc


@lru_cache(maxsize=1)
def _online_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    return tuple(
        (item["id"], item["label"], compile_guarded(rf"(?<![\w]){item['regex']}(?![\w])", re.IGNORECASE))
        for item in load_patterns("online")
    )


@Language.factory("triage_online", assigns=["doc.spans"], default_config={"spans_key": ONLINE_KEY})
def make_online(nlp: Language, name: str, spans_key: str) -> "OnlineTagger":
    return OnlineTagger(spans_key)


class OnlineTagger:
    """Words that say an event is online, hybrid, on site, or not online (patterns/online.jsonl)."""

    def __init__(self, spans_key: str = ONLINE_KEY) -> None:
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        taken: list[tuple[int, int]] = []
        # Longer, more specific patterns (hybrid, negated) first, so "på plats eller via Teams" is hybrid.
        for pattern_id, label, regex in sorted(_online_patterns(), key=lambda p: p[1] in ("online", "onsite")):
            for match in regex.finditer(doc_text(doc)):
                if any(s < match.end() and match.start() < e for s, e in taken):
                    continue
                if pattern_id == "online/platform" and match.group(0).lower() == "teams" and not re.search(
                        r"(?i)(?:via|på|in|on|i|over|through|microsoft|ms|link|länk|lenke|möte|møte|meeting)\s*$",
                        doc_text(doc)[max(0, match.start() - 12):match.start()]) and not re.match(
                        r"(?i)\s*(?:-?möte|-?møte|meeting|link|länk|lenke)", doc_text(doc)[match.end():match.end() + 8]):
                    continue  # "teams" is also a plain word ("diabetesteams")
                span = doc.char_span(match.start(), match.end(), label=label, span_id=pattern_id, alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                    taken.append((match.start(), match.end()))
        doc.spans[self.spans_key] = sorted(spans, key=lambda s: s.start)
        return doc
