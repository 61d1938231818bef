"""The date/time component: every date, time, week, relative day and duration as a span with its value."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from triage.nlp.dates import Mention, find_mentions
from triage.nlp.components.structure import doc_text

DATES_KEY = "dates"
ANCHOR = "triage.anchor"
MENTIONS = "triage.dates"

if not Span.has_extension("when"):
    Span.set_extension("when", default=None)


@Language.factory("triage_dates", assigns=["doc.spans"], default_config={"spans_key": DATES_KEY})
def make_dates(nlp: Language, name: str, spans_key: str) -> "DateTagger":
    return DateTagger(nlp.lang, spans_key)


class DateTagger:
    """Reads dates against the mail's Date (doc.user_data["triage.anchor"]); span label = kind.

    The parsed values stay in doc.user_data["triage.dates"] (a list of dates.Mention, in text order)
    and on each span as `span._.when`.
    """

    def __init__(self, lang: str, spans_key: str = DATES_KEY) -> None:
        self.lang = lang
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        mentions: list[Mention] = find_mentions(doc_text(doc), doc.user_data.get(ANCHOR), self.lang)
        spans = []
        for mention in mentions:
            span = doc.char_span(mention.start, mention.end, label=mention.kind, span_id=f"date/{mention.kind}",
                                 alignment_mode="expand")
            if span is not None:
                span._.when = mention
                spans.append(span)
        doc.spans[self.spans_key] = spans
        doc.user_data[MENTIONS] = mentions
        return doc
