"""Metrics over (gold, predicted) Judgement pairs: every figure `triage evaluate` reports.

Pure functions, no I/O: the evaluation command, the trainers and (later) reviewer agreement all
call `evaluate_pairs` or the single metrics below on pairs they built themselves.

Conventions, so a figure means the same everywhere:
- A missing prediction (None, e.g. a stage that failed) counts as wrong, never as skipped.
- Precision with nothing predicted, and recall with nothing to find, are 0.0 (support shows why).
- Macro-F1 averages over every chapter seen in gold or predictions.
- Event fields: a text field matches *exactly* when the normalised strings are equal and *overlaps*
  when their token F1 is ≥ 0.5 or one contains the other; start/end match exactly on the same
  minute and overlap on the same date; list fields (sponsors, products, costs_covered) are scored
  item by item as sets; booleans, numbers and codes by equality. Text fields also get `detected`:
  present-vs-absent agreement with gold (the value's text aside), outside the micro-averages.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any

from triage.evaluation.judgement import Judgement
from triage.results import EVENT_FIELDS
from triage.vocabulary import CHAPTERS, MISSING_CODES, NOT_INVITATION, VERDICTS, VIOLATION_CODES

Pair = tuple[Judgement, Judgement]

TEXT_FIELDS: tuple[str, ...] = ("title", "organizer", "location", "target_group", "purpose", "content", "contact")
DATETIME_FIELDS: tuple[str, ...] = ("start", "end")
DATE_FIELDS: tuple[str, ...] = ("registration_deadline",)
TEXT_LIST_FIELDS: tuple[str, ...] = ("sponsors", "products")
CODE_LIST_FIELDS: tuple[str, ...] = ("costs_covered",)
EQUALITY_FIELDS: tuple[str, ...] = ("arranger", "online", "duration_minutes")
MATCH_MODES: tuple[str, ...] = ("exact", "overlap")
#: How many of the worst missing/violation codes the report names.
WORST = 5
#: Token F1 at or above which two texts overlap.
OVERLAP_THRESHOLD = 0.5


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    """Precision, recall and F1 from counts (0.0 where undefined), with the counts."""
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn,
            "support": tp + fn, "predicted": tp + fp}


# --- chapter ---------------------------------------------------------------------------------

def _chapter_order(labels: Iterable[str]) -> list[str]:
    rank = {c: i for i, c in enumerate(CHAPTERS)}
    return sorted(set(labels), key=lambda c: (rank.get(c, len(rank)), c))


def chapter_metrics(pairs: Sequence[Pair]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-chapter P/R/F1 and the confusion table (gold → predicted → count)."""
    labels = _chapter_order([g.chapter for g, _ in pairs if g.chapter] + [p.chapter for _, p in pairs if p.chapter])
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for gold, pred in pairs:
        confusion[str(gold.chapter)][pred.chapter or "none"] += 1
    per: dict[str, dict[str, Any]] = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g.chapter == label and p.chapter == label)
        fp = sum(1 for g, p in pairs if g.chapter != label and p.chapter == label)
        fn = sum(1 for g, p in pairs if g.chapter == label and p.chapter != label)
        per[label] = prf(tp, fp, fn)
    correct = sum(1 for g, p in pairs if g.chapter == p.chapter and p.chapter is not None)
    return {
        "n": len(pairs),
        "accuracy": _ratio(correct, len(pairs)),
        "macro_f1": _ratio(sum(m["f1"] for m in per.values()), len(per)),
        "labels": labels,
        "per_chapter": per,
        "confusion": {g: dict(sorted(row.items())) for g, row in sorted(confusion.items())},
    }


def is_invitation(chapter: str | None) -> bool | None:
    """True for an invitation chapter, False for not_invitation, None when unknown."""
    return None if chapter is None else chapter != NOT_INVITATION


def invitation_metrics(pairs: Sequence[Pair]) -> dict[str, Any]:
    """Invitation-vs-not accuracy, and P/R/F1 of recognising an invitation."""
    tp = fp = fn = tn = 0
    for gold, pred in pairs:
        g, p = is_invitation(gold.chapter), is_invitation(pred.chapter)
        if g and p:
            tp += 1
        elif g:
            fn += 1  # an invitation missed (or not judged at all)
        elif p:
            fp += 1
        elif p is False:
            tn += 1
        # a not-invitation with no chapter at all is in neither count, so accuracy counts it wrong
    return {"accuracy": _ratio(tp + tn, len(pairs)), "invitation": prf(tp, fp, fn), "n": len(pairs)}


# --- calibration and review ------------------------------------------------------------------

def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> dict[str, Any]:
    """ECE over equal-width confidence bins: Σ |bin|/n · |accuracy(bin) − mean confidence(bin)|."""
    table: list[dict[str, Any]] = []
    total = len(confidences)
    ece = 0.0
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        members = [i for i, c in enumerate(confidences)
                   if (low <= c < high) or (index == bins - 1 and c == high)]
        if not members:
            continue
        confidence = sum(confidences[i] for i in members) / len(members)
        accuracy = sum(1 for i in members if correct[i]) / len(members)
        ece += len(members) / total * abs(accuracy - confidence)
        table.append({"low": low, "high": high, "n": len(members), "confidence": confidence, "accuracy": accuracy})
    return {"ece": ece if total else None, "n": total, "bins": table}


def calibration_metrics(pairs: Sequence[Pair], bins: int = 10) -> dict[str, Any]:
    """ECE of chapter_confidence, over the mails that have a chapter and a confidence."""
    judged = [(g, p) for g, p in pairs if p.chapter is not None and p.confidence is not None]
    return expected_calibration_error([float(p.confidence) for _, p in judged],  # type: ignore[arg-type]
                                      [g.chapter == p.chapter for g, p in judged], bins)


def review_metrics(pairs: Sequence[Pair]) -> dict[str, Any]:
    """How often triage asks a person to look, and how accurate the chapter is when it does not."""
    flagged = [(g, p) for g, p in pairs if p.needs_review]
    confident = [(g, p) for g, p in pairs if p.needs_review is False]
    uncertain = [p for _, p in pairs if p.chapter_uncertain is not None]
    chapter_confident = [(g, p) for g, p in pairs if p.chapter_uncertain is False]
    return {
        "needs_review_rate": _ratio(len(flagged), len(pairs)),
        "confident_n": len(confident),
        "confident_accuracy": _ratio(sum(1 for g, p in confident if g.chapter == p.chapter), len(confident)),
        "chapter_review_rate": _ratio(sum(1 for p in uncertain if p.chapter_uncertain), len(uncertain)) if uncertain else None,
        "chapter_confident_accuracy": (
            _ratio(sum(1 for g, p in chapter_confident if g.chapter == p.chapter), len(chapter_confident))
            if uncertain else None
        ),
    }


# --- missing elements and violations ---------------------------------------------------------

def code_metrics(pairs: Sequence[Pair], kind: str, vocabulary: Sequence[str] = ()) -> dict[str, Any]:
    """Per-code and micro-averaged P/R/F1 of `missing` or `violations` sets; the worst codes named."""
    counts: dict[str, list[int]] = {code: [0, 0, 0] for code in vocabulary}
    for gold, pred in pairs:
        g, p = getattr(gold, kind), getattr(pred, kind)
        for code in g | p:
            row = counts.setdefault(code, [0, 0, 0])
            if code in g and code in p:
                row[0] += 1
            elif code in p:
                row[1] += 1
            else:
                row[2] += 1
    per = {code: prf(*row) for code, row in counts.items() if any(row)}
    micro = prf(*(sum(row[i] for row in counts.values()) for i in range(3)))
    worst = sorted(per, key=lambda c: (per[c]["f1"], -per[c]["support"], c))[:WORST]
    return {"per_code": dict(sorted(per.items())), "micro": micro, "worst": worst}


def verdict_metrics(pairs: Sequence[Pair]) -> dict[str, Any]:
    """Verdict accuracy and its confusion table."""
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for gold, pred in pairs:
        confusion[str(gold.verdict)][pred.verdict or "none"] += 1
    correct = sum(1 for g, p in pairs if p.verdict is not None and g.verdict == p.verdict)
    order = {v: i for i, v in enumerate(VERDICTS)}
    return {"accuracy": _ratio(correct, len(pairs)),
            "confusion": {g: dict(row) for g, row in sorted(confusion.items(), key=lambda kv: order.get(kv[0], 9))}}


# --- event fields ----------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^\w@.+]+|(?<!\w)[.+]|[.+](?!\w)")
_TOKEN = re.compile(r"[\w@.+-]+")


def normalise(text: Any) -> str:
    """Case-folded, NFKC, punctuation and spacing flattened: "  Lund,  Sweden." → "lund sweden"."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())


def token_f1(a: str, b: str) -> float:
    """Token-overlap F1 of two texts (bag of normalised tokens)."""
    ta, tb = Counter(_TOKEN.findall(normalise(a))), Counter(_TOKEN.findall(normalise(b)))
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(tb.values()), common / sum(ta.values())
    return 2 * precision * recall / (precision + recall)


def text_match(gold: Any, pred: Any, mode: str) -> bool:
    """Exact: equal after normalising. Overlap: token F1 ≥ 0.5, or one contains the other."""
    g, p = normalise(gold), normalise(pred)
    if not g or not p:
        return False
    if mode == "exact":
        return g == p
    return g == p or g in p or p in g or token_f1(g, p) >= OVERLAP_THRESHOLD


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def datetime_match(gold: Any, pred: Any, mode: str) -> bool:
    """Exact: the same minute (as instants when both carry an offset). Overlap: the same date."""
    g, p = _as_datetime(gold), _as_datetime(pred)
    if g is None or p is None:
        return normalise(gold) == normalise(pred)
    if mode == "overlap":
        return g.date() == p.date()
    if (g.tzinfo is None) != (p.tzinfo is None):
        g, p = g.replace(tzinfo=None), p.replace(tzinfo=None)
    elif g.tzinfo is not None:
        g, p = g.astimezone(timezone.utc), p.astimezone(timezone.utc)
    return g.replace(second=0, microsecond=0) == p.replace(second=0, microsecond=0)


def date_match(gold: Any, pred: Any, mode: str) -> bool:
    """The same calendar date, in both modes."""
    def as_date(value: Any) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None

    g, p = as_date(gold), as_date(pred)
    return g is not None and g == p


def equal_match(gold: Any, pred: Any, mode: str) -> bool:
    """Booleans, numbers and codes: equality."""
    return gold == pred


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _matcher(name: str) -> Callable[[Any, Any, str], bool]:
    if name in TEXT_FIELDS or name in TEXT_LIST_FIELDS:
        return text_match
    if name in DATETIME_FIELDS:
        return datetime_match
    if name in DATE_FIELDS:
        return date_match
    return equal_match


def _list_counts(gold: Sequence[Any], pred: Sequence[Any], match: Callable[[Any, Any, str], bool], mode: str) -> tuple[int, int, int]:
    """Greedy one-to-one matching of predicted items to gold items."""
    remaining = list(dict.fromkeys(normalise(g) for g in gold if _present(g)))
    predicted = list(dict.fromkeys(normalise(p) for p in pred if _present(p)))
    tp = 0
    for item in predicted:
        for index, candidate in enumerate(remaining):
            if match(candidate, item, mode):
                tp += 1
                del remaining[index]
                break
    return tp, len(predicted) - tp, len(remaining)


def event_metrics(pairs: Sequence[Pair], fields: Sequence[str] = EVENT_FIELDS) -> dict[str, Any]:
    """Per-field P/R/F1, exact and overlap, and their micro-average over all fields."""
    per: dict[str, dict[str, Any]] = {}
    totals = {mode: [0, 0, 0] for mode in MATCH_MODES}
    for name in fields:
        match = _matcher(name)
        per[name] = {}
        for mode in MATCH_MODES:
            tp = fp = fn = 0
            for gold, pred in pairs:
                g, p = gold.event.get(name), pred.event.get(name)
                if name in TEXT_LIST_FIELDS or name in CODE_LIST_FIELDS:
                    a, b, c = _list_counts(g or [], p or [], match, mode)
                    tp, fp, fn = tp + a, fp + b, fn + c
                    continue
                hit = _present(g) and _present(p) and match(g, p, mode)
                tp += hit
                fp += _present(p) and not hit
                fn += _present(g) and not hit
            per[name][mode] = prf(tp, fp, fn)
            for i, count in enumerate((tp, fp, fn)):
                totals[mode][i] += count
        if name in TEXT_FIELDS:
            per[name]["detected"] = detection(pairs, name)
    return {"per_field": per, "micro": {mode: prf(*totals[mode]) for mode in MATCH_MODES}}


def detection(pairs: Sequence[Pair], name: str) -> dict[str, Any]:
    """Whether a field is stated at all, whatever its text: what the missing-element rules need.

    P/R/F1 of "present" (tp: both filled, fp: only the prediction, fn: only the gold), plus the
    agreement over every mail, where both-empty counts as right. Not part of the micro-averages.
    """
    tp = fp = fn = tn = 0
    for gold, pred in pairs:
        g, p = _present(gold.event.get(name)), _present(pred.event.get(name))
        tp += g and p
        fp += p and not g
        fn += g and not p
        tn += not g and not p
    return {**prf(tp, fp, fn), "tn": tn, "agreement": _ratio(tp + tn, len(pairs))}


# --- everything ------------------------------------------------------------------------------

def headline(pairs: Sequence[Pair]) -> dict[str, Any]:
    """The few figures a breakdown row shows."""
    chapter = chapter_metrics(pairs)
    return {
        "n": len(pairs),
        "chapter_accuracy": chapter["accuracy"],
        "chapter_macro_f1": chapter["macro_f1"],
        "invitation_accuracy": invitation_metrics(pairs)["accuracy"],
        "ece": calibration_metrics(pairs)["ece"],
        "verdict_accuracy": verdict_metrics(pairs)["accuracy"],
    }


BREAKDOWNS: tuple[str, ...] = ("language", "jurisdiction")


def evaluate_pairs(pairs: Sequence[Pair], *, by: Sequence[str] = ()) -> dict[str, Any]:
    """Every figure of `triage evaluate` from (gold, predicted) pairs; `by` adds per-group headlines."""
    pairs = list(pairs)
    report: dict[str, Any] = {
        "n": len(pairs),
        "errors": sum(1 for _, p in pairs if p.error),
        "chapter": chapter_metrics(pairs),
        "invitation": invitation_metrics(pairs),
        "calibration": calibration_metrics(pairs),
        "review": review_metrics(pairs),
        "missing": code_metrics(pairs, "missing", MISSING_CODES),
        "violations": code_metrics(pairs, "violations", VIOLATION_CODES),
        "verdict": verdict_metrics(pairs),
        "event": event_metrics(pairs),
    }
    if by:
        report["by"] = {}
        for key in by:
            if key not in BREAKDOWNS:
                raise ValueError(f"cannot break down by {key!r}; use one of {', '.join(BREAKDOWNS)}")
            groups: dict[str, list[Pair]] = defaultdict(list)
            for gold, pred in pairs:
                groups[str(getattr(gold, key))].append((gold, pred))
            report["by"][key] = {group: headline(members) for group, members in sorted(groups.items())}
    return report


def rounded(value: Any, digits: int = 4) -> Any:
    """The report with every float rounded, for JSON and metrics.json."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value
