"""The trained sentence scorer: which units it learns from, what it saves, how its thresholds are chosen."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from triage.corpus.labels import parse_label
from triage.rules.scorer import SentenceScorer
from triage.rules.train import choose_thresholds, fit_scorer, unit_labels


def label(mail_id: str, chapter: str, violations: dict[str, list[str]]):
    return parse_label({
        "id": mail_id, "file": f"mails/{mail_id}.eml", "language": "sv", "jurisdiction": "SE", "chapter": chapter,
        "missing": [], "violations": list(violations), "violation_evidence": violations,
        "verdict": "non_compliant" if violations else "compliant", "event": {},
    })


def test_units_that_carry_a_quote_are_its_positives():
    mail = label("x-1", "3.2", {"entertainment": ["Spa och relax"], "meal_not_modest": ["tre rätter med vin"]})
    units = ["16.30 Spa och relax", "19.00 Middag: tre rätter med vin och kaffe", "Välkomna!"]
    assert unit_labels(mail, units) == [{"entertainment"}, {"meal_not_modest"}, set()]


def test_a_quote_spread_over_lines_labels_each_line():
    mail = label("x-2", "5", {"stipend_only_travel": ["Stipendiet täcker flyg och tre hotellnätter i München under kongressen"]})
    units = ["Stipendiet täcker flyg och tre hotellnätter", "i München under kongressen", "Ansök senast 1 mars"]
    labels = unit_labels(mail, units)
    assert labels[0] == {"stipend_only_travel"} and labels[2] == set()


POSITIVE = ["Vi bjuder på spa och golf på eftermiddagen", "Efter mötet väntar golf och spa",
            "Spa, bastu och golf ingår", "Kvällen bjuder på golf med pro och spa"]
NEGATIVE = ["Föreläsning om hjärtsvikt kl. 13", "Anmälan senast 1 mars", "Lunch serveras i matsalen",
            "Programmet hålls i Aulan", "Målgrupp: sjuksköterskor", "Syftet är att uppdatera om riktlinjer"] * 2


def test_fit_scores_its_positives_above_its_negatives_and_survives_a_round_trip(tmp_path: Path):
    texts = POSITIVE + NEGATIVE
    labels = [{"entertainment"}] * len(POSITIVE) + [set()] * len(NEGATIVE)
    scorer = fit_scorer(texts, labels, seed=1)
    assert scorer.codes == ("entertainment",)
    probs = scorer.probabilities(["Golf och spa hela eftermiddagen", "Föreläsning om KOL kl. 14"])[:, 0]
    assert probs[0] > 0.5 > probs[1]
    scorer.save(tmp_path)
    again = SentenceScorer.load(tmp_path)
    assert again is not None and again.codes == scorer.codes
    np.testing.assert_allclose(again.probabilities(["Golf och spa"]), scorer.probabilities(["Golf och spa"]), rtol=1e-4)


def test_no_model_on_disk_means_no_scorer(tmp_path: Path):
    assert SentenceScorer.load(tmp_path) is None


def test_thresholds_sit_above_every_negative_mail_of_the_codes_chapters():
    scores = [
        (label("n-1", "3.2", {}), {"entertainment": 0.62}),
        (label("n-2", "3.2", {}), {"entertainment": 0.30}),
        (label("n-3", "10", {}), {"entertainment": 0.99}),  # a chapter where no entertainment rule runs
        (label("p-1", "3.2", {"entertainment": ["golf"]}), {"entertainment": 0.97}),
        (label("n-4", "3.2", {}), {"gift": 0.2}),
    ]
    thresholds = choose_thresholds(scores, ("entertainment", "gift"))
    assert thresholds["entertainment"] == 0.64
    assert thresholds["gift"] == 0.6  # never below the floor
