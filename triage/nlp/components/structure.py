"""Document structure: sentence boundaries at line breaks, and field cues ("Plats:") as spans."""

from __future__ import annotations

import numpy
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from triage.nlp.text import find_cues, sentences

CUES_KEY = "cues"
TEXT = "triage.text"


def doc_text(doc: Doc) -> str:
    """The doc's text, built once: `Doc.text` joins every token each time it is read."""
    text = doc.user_data.get(TEXT)
    if text is None:
        text = doc.text
        doc.user_data[TEXT] = text
    return text


@Language.factory("triage_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> "LineSentencizer":
    return LineSentencizer()


class LineSentencizer:
    """Sentences end at line breaks and at a full stop before a capital (not after "kl." or "t.ex.")."""

    def __call__(self, doc: Doc) -> Doc:
        starts = {start for start, _ in sentences(doc_text(doc))}
        if not len(doc):
            return doc
        offsets = doc.to_array([IDX])
        flags = numpy.asarray([1 if i == 0 or int(offset) in starts else -1 for i, offset in enumerate(offsets)],
                              dtype="int32").reshape(-1, 1)
        doc.from_array([SENT_START], flags.astype("uint64"))
        return doc


@Language.factory("triage_cues", assigns=["doc.spans"], default_config={"spans_key": CUES_KEY})
def make_cues(nlp: Language, name: str, spans_key: str) -> "CueMatcher":
    return CueMatcher(spans_key)


class CueMatcher:
    """Field labels at the start of a line, from patterns/cues.jsonl; span label = field, id = pattern id."""

    def __init__(self, spans_key: str = CUES_KEY) -> None:
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        cues = find_cues(doc_text(doc))
        doc.user_data["triage.cues"] = cues
        for cue in cues:
            span = doc.char_span(cue.start, cue.end, label=cue.label, span_id=cue.pattern_id, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans[self.spans_key] = spans
        return doc
