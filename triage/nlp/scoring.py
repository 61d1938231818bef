"""Per-field precision, recall and F1 of extracted events against the corpus labels.

For each mail and field: both filled and matching → true positive; both filled but different →
a false positive and a false negative; only the prediction → false positive; only the gold →
false negative. Text fields are scored three ways: `exact` (equal after case and whitespace
folding and trailing punctuation), `overlap` (at least half of the shorter value's words shared)
and `detected` (the field is filled at all). List fields (costs_covered, sponsors, products)
are scored item by item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

TEXT_FIELDS = ("title", "organizer", "location", "target_group", "purpose", "content", "contact")
VALUE_FIELDS = ("arranger", "start", "end", "duration_minutes", "online", "registration_deadline")
LIST_FIELDS = ("costs_covered", "sponsors", "products")


def normalise(value: Any) -> str:
    """Case-folded text with whitespace collapsed and surrounding punctuation dropped."""
    text = re.sub(r"\s+", " ", str(value)).strip().casefold()
    return text.strip(" .,:;!?\"'“”()")


def _words(value: str) -> set[str]:
    return set(re.findall(r"\w+", normalise(value)))


def overlaps(predicted: str, gold: str) -> bool:
    """At least half of the shorter value's words are in the other."""
    a, b = _words(predicted), _words(gold)
    if not a or not b:
        return normalise(predicted) == normalise(gold)
    return len(a & b) / min(len(a), len(b)) >= 0.5


class _Counts:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, predicted: bool, gold: bool, match: bool) -> None:
        if predicted and gold:
            if match:
                self.tp += 1
            else:
                self.fp += 1
                self.fn += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1

    def as_dict(self) -> dict[str, float | int]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _filled(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def score_events(pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, dict[str, dict[str, float | int]]]:
    """Scores per field from (predicted event JSON, gold event) pairs.

    Returns {field: {"exact": {...}, "overlap": {...}, "detected": {...}}} for text fields,
    {field: {"exact": {...}}} for the other fields, plus "start_date" (the day of `start` only).
    """
    counts: dict[str, dict[str, _Counts]] = {}

    def counter(name: str, how: str) -> _Counts:
        return counts.setdefault(name, {}).setdefault(how, _Counts())

    for predicted, gold in pairs:
        for name in TEXT_FIELDS:
            p, g = predicted.get(name), gold.get(name)
            counter(name, "exact").add(_filled(p), _filled(g), _filled(p) and _filled(g) and normalise(p) == normalise(g))
            counter(name, "overlap").add(_filled(p), _filled(g), _filled(p) and _filled(g) and overlaps(str(p), str(g)))
            counter(name, "detected").add(_filled(p), _filled(g), True)
        for name in VALUE_FIELDS:
            p, g = predicted.get(name), gold.get(name)
            counter(name, "exact").add(_filled(p), _filled(g), str(p) == str(g))
        p, g = predicted.get("start"), gold.get("start")
        counter("start_date", "exact").add(_filled(p), _filled(g), _filled(p) and _filled(g) and str(p)[:10] == str(g)[:10])
        for name in LIST_FIELDS:
            p_items = {normalise(x) for x in predicted.get(name) or []}
            g_items = {normalise(x) for x in gold.get(name) or []}
            c = counter(name, "exact")
            if name in ("sponsors", "products"):
                c_overlap = counter(name, "overlap")
                matched = {x for x in p_items if any(overlaps(x, y) for y in g_items)}
                c_overlap.tp += len(matched)
                c_overlap.fp += len(p_items - matched)
                c_overlap.fn += len({y for y in g_items if not any(overlaps(x, y) for x in p_items)})
            c.tp += len(p_items & g_items)
            c.fp += len(p_items - g_items)
            c.fn += len(g_items - p_items)
    return {name: {how: c.as_dict() for how, c in by_how.items()} for name, by_how in counts.items()}


def summary(scores: Mapping[str, Mapping[str, Mapping[str, float | int]]]) -> dict[str, float]:
    """The headline F1 figures of issue 5 from a `score_events` result."""
    def f1(name: str, how: str) -> float:
        return float(scores.get(name, {}).get(how, {}).get("f1", 0.0))

    return {
        "start_exact_f1": f1("start", "exact"),
        "start_date_f1": f1("start_date", "exact"),
        "location_overlap_f1": f1("location", "overlap"),
        "organizer_overlap_f1": f1("organizer", "overlap"),
        "target_group_overlap_f1": f1("target_group", "overlap"),
        "costs_covered_f1": f1("costs_covered", "exact"),
        "purpose_detected_f1": f1("purpose", "detected"),
        "content_detected_f1": f1("content", "detected"),
    }
