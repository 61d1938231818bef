"""The compiled sentence scorer answers as the scikit-learn vectorizer and weights it was compiled from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from triage.config import Settings
from triage.rules.scorer import COMPILED_FILE, MODEL_FILE, SentenceScorer, model_dir
from triage.rules.train import fit_scorer

POSITIVE = ["Vi bjuder på spa och golf på eftermiddagen", "Efter mötet väntar golf och spa",
            "Spa, bastu och golf ingår", "Kvällen bjuder på golf med pro och spa",
            "Middag med vinprovning: tre rätter och vin", "Trerättersmiddag med vin på Grand Hôtel"]
NEGATIVE = ["Föreläsning om hjärtsvikt kl. 13", "Anmälan senast 1 mars", "Lunch serveras i matsalen",
            "Programmet hålls i Aulan", "Målgrupp: sjuksköterskor", "Syftet är att uppdatera om riktlinjer",
            "Welcome to the  meeting\tin Oslo", "Påmelding innen 1. mars – Ø, Å, É"] * 2
LABELS = [{"entertainment"}] * 4 + [{"meal_not_modest"}] * 2 + [set()] * len(NEGATIVE)
#: Odd texts on purpose: empty, only punctuation, one-letter words, tabs and runs of spaces,
#: unseen words, repeated words (sublinear tf), upper case and accents (lowercasing).
PROBES = ["", "!!!", "a b c", "GOLF och SPA och golf och spa", "Spa\t\tgolf   middag\n\nvin", "Zyxwq qwxyz",
          "Anmälan senast 1 mars kl. 13 i Aulan", "ÉÅÖ spa", "golf " * 30, "Middag med vin och spa på kvällen"]


def _sklearn_probabilities(scorer: SentenceScorer, texts: list[str]) -> np.ndarray:
    """What the scorer computed before it was compiled: transform, weights, logistic function."""
    assert scorer.fitted is not None
    vectorizer, coef = scorer.fitted
    logits = vectorizer.transform(texts) @ coef.T + scorer.intercept
    return 1.0 / (1.0 + np.exp(-np.asarray(logits)))


@pytest.fixture(scope="module")
def fitted() -> SentenceScorer:
    return fit_scorer(POSITIVE + NEGATIVE, LABELS, seed=3)


def test_compiled_probabilities_equal_scikit_learns(fitted):
    texts = PROBES + POSITIVE + NEGATIVE
    np.testing.assert_allclose(fitted.probabilities(texts), _sklearn_probabilities(fitted, texts), rtol=0, atol=1e-7)
    # one text at a time gives the same rows as all of them together
    np.testing.assert_allclose(np.vstack([fitted.probabilities([t]) for t in texts]), fitted.probabilities(texts),
                               rtol=0, atol=1e-12)


def test_a_memo_scores_each_text_once_and_changes_nothing(fitted, monkeypatch):
    texts = PROBES[:6]
    plain = fitted.probabilities(texts)
    calls: list[int] = []
    real = SentenceScorer.logits
    monkeypatch.setattr(SentenceScorer, "logits", lambda self, batch: calls.append(len(batch)) or real(self, batch))
    memo: dict[str, np.ndarray] = {}
    np.testing.assert_array_equal(fitted.probabilities(texts, memo), plain)
    np.testing.assert_array_equal(fitted.probabilities(texts[2:4] + texts[:1], memo), plain[[2, 3, 0]])
    units = [SimpleNamespace(text=t) for t in texts]  # score reads only the text
    fitted.score("entertainment", units, memo)
    assert calls == [len(set(texts))]  # one batch, every later look-up from the memo


def test_saving_writes_both_files_and_loading_prefers_the_compiled_one(fitted, tmp_path: Path):
    fitted.save(tmp_path, training_hash="abc")
    assert (tmp_path / MODEL_FILE).is_file() and (tmp_path / COMPILED_FILE).is_file()
    (tmp_path / "model.json").write_text(json.dumps({"version": fitted.version, "training_data_sha256": "abc"}))
    loaded = SentenceScorer.load(tmp_path)
    assert loaded is not None and loaded.fitted is None  # read from the .npz, nothing unpickled
    assert loaded.codes == fitted.codes and loaded.thresholds == fitted.thresholds
    np.testing.assert_allclose(loaded.probabilities(PROBES), _sklearn_probabilities(fitted, PROBES), rtol=0, atol=1e-7)


def test_a_compiled_file_of_another_model_or_format_falls_back_to_joblib(fitted, tmp_path: Path):
    fitted.save(tmp_path, training_hash="abc")
    (tmp_path / "model.json").write_text(json.dumps({"version": fitted.version, "training_data_sha256": "newer"}))
    fallback = SentenceScorer.load(tmp_path)
    assert fallback is not None and fallback.fitted is not None  # compiled in memory from scorer.joblib
    np.testing.assert_allclose(fallback.probabilities(PROBES), fitted.probabilities(PROBES), rtol=0, atol=1e-12)

    (tmp_path / COMPILED_FILE).write_bytes(b"not an npz")
    assert SentenceScorer.load(tmp_path).fitted is not None

    (tmp_path / MODEL_FILE).unlink()
    assert SentenceScorer.load(tmp_path) is None  # neither file usable: patterns only


SHIPPED = model_dir(Settings().models_dir)


@pytest.mark.skipif(not (SHIPPED / COMPILED_FILE).is_file() or not (SHIPPED / MODEL_FILE).is_file(),
                    reason="no compiled rules scorer shipped")
def test_the_shipped_compiled_scorer_is_the_shipped_joblib_on_corpus_sentences():
    import joblib

    from triage.corpus.labels import DEFAULT_ROOT, load_split
    from triage.rules.train import mail_units

    compiled = SentenceScorer.load(SHIPPED)
    assert compiled is not None and compiled.fitted is None
    data = joblib.load(SHIPPED / MODEL_FILE)
    texts = [text for mail in load_split("dev")[:30] for text in mail_units(mail, DEFAULT_ROOT)]
    logits = data["vectorizer"].transform(texts) @ data["coef"].T + data["intercept"]
    expected = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
    assert compiled.codes == tuple(data["codes"]) and compiled.thresholds == data["thresholds"]
    np.testing.assert_allclose(compiled.probabilities(texts), expected, rtol=0, atol=1e-7)


@pytest.mark.skipif(not (SHIPPED / COMPILED_FILE).is_file(), reason="no compiled rules scorer shipped")
def test_loading_the_checker_does_not_import_scikit_learn():
    code = (
        "import sys\n"
        "from triage.rules.loader import load_checker\n"
        "from triage.config import Settings\n"
        "assert load_checker(Settings()).scorer is not None\n"
        "print(sorted(m for m in ('sklearn', 'joblib', 'scipy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
