"""The evaluation metrics on hand-made (gold, predicted) pairs whose figures are worked out by hand."""

from __future__ import annotations

import pytest

from triage.evaluation.judgement import Judgement
from triage.evaluation.metrics import (
    calibration_metrics,
    chapter_metrics,
    code_metrics,
    datetime_match,
    evaluate_pairs,
    event_metrics,
    expected_calibration_error,
    invitation_metrics,
    review_metrics,
    text_match,
    verdict_metrics,
)


def J(i: int, chapter: str | None, **kw) -> Judgement:
    return Judgement(id=f"m{i}", chapter=chapter, **kw)


def pairs_of(gold: list[str], pred: list[str | None]):
    return [(J(i, g), J(i, p)) for i, (g, p) in enumerate(zip(gold, pred))]


def test_chapter_accuracy_macro_f1_and_confusion():
    pairs = pairs_of(["3.2", "3.2", "3.3", "not_invitation"], ["3.2", "3.3", "3.3", "not_invitation"])
    m = chapter_metrics(pairs)
    assert m["accuracy"] == 0.75
    # 3.2: P 1/1 R 1/2 F1 2/3; 3.3: P 1/2 R 1/1 F1 2/3; not_invitation: F1 1
    assert m["per_chapter"]["3.2"]["f1"] == pytest.approx(2 / 3)
    assert m["per_chapter"]["3.3"]["precision"] == 0.5
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert m["confusion"]["3.2"] == {"3.2": 1, "3.3": 1}
    assert m["labels"] == ["3.2", "3.3", "not_invitation"]


def test_a_missing_prediction_counts_as_wrong():
    m = chapter_metrics(pairs_of(["2", "2"], ["2", None]))
    assert m["accuracy"] == 0.5
    assert m["confusion"]["2"] == {"2": 1, "none": 1}
    assert m["per_chapter"]["2"]["recall"] == 0.5


def test_invitation_vs_not_only_asks_whether_it_is_an_invitation():
    pairs = pairs_of(["3.2", "4", "not_invitation", "not_invitation", "2"],
                     ["3.3", "not_invitation", "not_invitation", "1.1", None])
    m = invitation_metrics(pairs)
    assert m["accuracy"] == pytest.approx(2 / 5)  # 3.2→3.3 right, not→not right; the rest wrong
    assert (m["invitation"]["tp"], m["invitation"]["fp"], m["invitation"]["fn"]) == (1, 1, 2)


def test_expected_calibration_error_by_hand():
    # bin 0.9–1.0: conf 0.95, 0.95 → mean 0.95, accuracy 1/2 → gap 0.45, weight 2/4
    # bin 0.6–0.7: conf 0.6, 0.6 → accuracy 1 → gap 0.4, weight 2/4
    result = expected_calibration_error([0.95, 0.95, 0.6, 0.6], [True, False, True, True])
    assert result["ece"] == pytest.approx(0.5 * 0.45 + 0.5 * 0.4)
    assert [b["n"] for b in result["bins"]] == [2, 2]
    perfect = expected_calibration_error([0.75] * 4, [True, True, True, False])
    assert perfect["ece"] == pytest.approx(0.0)
    assert expected_calibration_error([1.0], [True])["bins"][0]["low"] == 0.9  # 1.0 falls in the last bin


def test_calibration_uses_only_judged_mails():
    pairs = [(J(1, "2"), J(1, "2", confidence=0.8)), (J(2, "2"), J(2, None))]
    m = calibration_metrics(pairs)
    assert m["n"] == 1 and m["ece"] == pytest.approx(0.2)
    assert calibration_metrics([(J(1, "2"), J(1, None))])["ece"] is None


def test_review_rate_and_the_accuracy_of_the_confident_part():
    pairs = [
        (J(1, "2"), J(1, "2", needs_review=False, chapter_uncertain=False)),
        (J(2, "2"), J(2, "3.2", needs_review=False, chapter_uncertain=False)),
        (J(3, "5"), J(3, "6", needs_review=True, chapter_uncertain=True)),
        (J(4, "5"), J(4, "5", needs_review=True, chapter_uncertain=False)),
    ]
    m = review_metrics(pairs)
    assert m["needs_review_rate"] == 0.5
    assert (m["confident_n"], m["confident_accuracy"]) == (2, 0.5)
    assert m["chapter_review_rate"] == 0.25
    assert m["chapter_confident_accuracy"] == pytest.approx(2 / 3)


def test_missing_and_violation_codes_per_code_micro_and_worst():
    pairs = [
        (J(1, "3.2", missing=frozenset({"purpose", "content"})), J(1, "3.2", missing=frozenset({"purpose"}))),
        (J(2, "3.2", missing=frozenset({"duration"})), J(2, "3.2", missing=frozenset({"duration", "location"}))),
        (J(3, "3.2"), J(3, "3.2", missing=frozenset({"purpose"}))),
    ]
    m = code_metrics(pairs, "missing")
    assert m["per_code"]["purpose"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "tp": 1, "fp": 1,
                                                      "fn": 0, "support": 1, "predicted": 2})
    assert m["per_code"]["content"]["recall"] == 0.0
    assert (m["micro"]["tp"], m["micro"]["fp"], m["micro"]["fn"]) == (2, 2, 1)
    assert m["micro"]["precision"] == 0.5 and m["micro"]["recall"] == pytest.approx(2 / 3)
    assert m["worst"][:2] == ["content", "location"]  # F1 0, the one with more gold first, then by name
    assert m["worst"][-1] == "duration"


def test_verdict_accuracy():
    pairs = [(J(1, "2", verdict="compliant"), J(1, "2", verdict="compliant")),
             (J(2, "2", verdict="needs_info"), J(2, "2", verdict="compliant")),
             (J(3, "2", verdict="needs_info"), J(3, "2", verdict=None))]
    m = verdict_metrics(pairs)
    assert m["accuracy"] == pytest.approx(1 / 3)
    assert m["confusion"]["needs_info"] == {"compliant": 1, "none": 1}


@pytest.mark.parametrize(("gold", "pred", "exact", "overlap"), [
    ("Hotell Svea, Storgatan 4, Lund", "hotell svea storgatan 4 lund", True, True),
    ("Hotell Svea, Storgatan 4, Lund", "Hotell Svea", False, True),  # substring
    ("specialistläkare inom lungmedicin i Skåne", "läkare inom lungmedicin i Skåne", False, True),  # token F1 0.8
    ("Kvällsmöte om KOL", "Lunchmöte om astma", False, False),  # token F1 1/3
    ("anna@example.com", "anna@example.com.", True, True),
])
def test_text_fields_exact_and_overlap(gold, pred, exact, overlap):
    assert text_match(gold, pred, "exact") is exact
    assert text_match(gold, pred, "overlap") is overlap


@pytest.mark.parametrize(("gold", "pred", "exact", "overlap"), [
    ("2026-03-03T17:00:00+01:00", "2026-03-03T17:00:00+01:00", True, True),
    ("2026-03-03T17:00:00+01:00", "2026-03-03T16:00:00+00:00", True, True),  # the same instant
    ("2026-03-03T17:00:00+01:00", "2026-03-03T17:30:00+01:00", False, True),
    ("2026-03-03T17:00:00+01:00", "2026-03-04T17:00:00+01:00", False, False),
])
def test_start_and_end_match_on_the_minute_or_the_date(gold, pred, exact, overlap):
    assert datetime_match(gold, pred, "exact") is exact
    assert datetime_match(gold, pred, "overlap") is overlap


def test_event_fields_per_field_with_lists_booleans_and_unfilled_fields():
    gold = [
        J(1, "3.2", event={"title": "Kvällsmöte om KOL", "online": False, "costs_covered": ["meal", "venue"],
                           "sponsors": ["Nordavia Pharma AB"], "duration_minutes": 240,
                           "registration_deadline": "2026-02-24", "purpose": "att lära"}),
        J(2, "3.2", event={"title": "Lunch om astma", "online": True, "costs_covered": [], "sponsors": []}),
    ]
    pred = [
        J(1, "3.2", event={"title": "Kvällsmöte om KOL i Lund", "online": False, "costs_covered": ["meal", "travel"],
                           "sponsors": ["Nordavia Pharma"], "duration_minutes": 240,
                           "registration_deadline": "2026-02-24", "purpose": None}),
        J(2, "3.2", event={"title": None, "online": False, "costs_covered": ["meal"], "sponsors": []}),
    ]
    m = event_metrics(list(zip(gold, pred)))["per_field"]
    # title: one predicted, overlapping but not exact; the second gold title not found
    assert (m["title"]["exact"]["tp"], m["title"]["exact"]["fp"], m["title"]["exact"]["fn"]) == (0, 1, 2)
    assert (m["title"]["overlap"]["tp"], m["title"]["overlap"]["fn"]) == (1, 1)
    # online False is a value: one right, one wrong
    assert (m["online"]["exact"]["tp"], m["online"]["exact"]["fp"], m["online"]["exact"]["fn"]) == (1, 1, 1)
    # costs: {meal, venue} vs {meal, travel}; {} vs {meal}
    assert (m["costs_covered"]["exact"]["tp"], m["costs_covered"]["exact"]["fp"], m["costs_covered"]["exact"]["fn"]) == (1, 2, 1)
    assert m["sponsors"]["exact"]["tp"] == 0 and m["sponsors"]["overlap"]["tp"] == 1
    assert m["duration_minutes"]["exact"]["f1"] == 1.0 and m["registration_deadline"]["exact"]["f1"] == 1.0
    # a field the pipeline never fills scores zero recall, with nothing special about it
    assert m["purpose"]["exact"]["recall"] == 0.0 and m["purpose"]["exact"]["support"] == 1
    assert m["contact"]["exact"]["support"] == 0 and m["contact"]["exact"]["f1"] == 0.0


def test_evaluate_pairs_breaks_down_by_language():
    pairs = [
        (J(1, "2", language="sv"), J(1, "2", confidence=0.9)),
        (J(2, "2", language="sv"), J(2, "3.2", confidence=0.6)),
        (J(3, "not_invitation", language="nb"), J(3, "not_invitation", confidence=0.99)),
    ]
    report = evaluate_pairs(pairs, by=["language"])
    assert report["n"] == 3 and report["chapter"]["accuracy"] == pytest.approx(2 / 3)
    assert report["by"]["language"]["sv"]["chapter_accuracy"] == 0.5
    assert report["by"]["language"]["nb"]["n"] == 1 and report["by"]["language"]["nb"]["invitation_accuracy"] == 1.0
    with pytest.raises(ValueError):
        evaluate_pairs(pairs, by=["company"])


def test_text_fields_report_detection_with_both_empty_as_agreement():
    from triage.evaluation.metrics import detection

    gold = [J(1, "3.2", event={"purpose": "att öka kunskapen"}), J(2, "3.2", event={"purpose": None}),
            J(3, "3.2", event={"purpose": "lära"}), J(4, "3.2", event={"purpose": None})]
    pred = [J(1, "3.2", event={"purpose": "något annat"}), J(2, "3.2", event={"purpose": "gissning"}),
            J(3, "3.2", event={"purpose": None}), J(4, "3.2", event={"purpose": None})]
    d = detection(list(zip(gold, pred)), "purpose")
    assert (d["tp"], d["fp"], d["fn"], d["tn"]) == (1, 1, 1, 1)
    assert d["agreement"] == 0.5
    assert "detected" in event_metrics(list(zip(gold, pred)))["per_field"]["purpose"]
