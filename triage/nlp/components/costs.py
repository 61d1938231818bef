"""The costs component: cost items with who pays them (patterns/costs.jsonl), and stated amounts."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from triage.nlp.costs import find_costs
from triage.nlp.components.structure import doc_text

COSTS_KEY = "costs"
JURISDICTION = "triage.jurisdiction"
COSTS = "triage.costs"


@Language.factory("triage_costs", assigns=["doc.spans"], default_config={"spans_key": COSTS_KEY})
def make_costs(nlp: Language, name: str, spans_key: str) -> "CostTagger":
    return CostTagger(spans_key)


class CostTagger:
    """Span label = cost label (meal, travel, …), id = the item pattern; who pays is in user_data.

    doc.user_data["triage.costs"] holds (items, amounts) from costs.find_costs; a "kr" amount is
    read as SEK or NOK by doc.user_data["triage.jurisdiction"].
    """

    def __init__(self, spans_key: str = COSTS_KEY) -> None:
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        items, amounts = find_costs(doc_text(doc), doc.user_data.get(JURISDICTION))
        spans = []
        for item in items:
            span = doc.char_span(item.start, item.end, label=item.label, span_id=item.pattern_id, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans[self.spans_key] = spans
        doc.user_data[COSTS] = (items, amounts)
        return doc
