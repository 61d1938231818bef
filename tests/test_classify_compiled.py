"""The compiled chapter model answers as the scikit-learn estimator it was compiled from."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from triage.classify.classifier import COMPILED_FILE, MODEL_FILE, ChapterClassifier
from triage.classify.compiled import CompiledChapterModel, NotCompilable, compile_estimator
from triage.classify.features import MailFeatures
from triage.classify.loader import model_dir
from triage.classify.model import CANDIDATES, calibrated
from triage.config import Settings

LABELS = ("kurs", "faktura", "enkät")
WORDS = {
    "kurs": ["kurs", "lunch", "föreläsning", "Utbildningsdag", "välkommen", "kl. 12.00", "Ö"],
    "faktura": ["faktura", "order", "leverans", "förfallodag", "kundnummer", "A/S", "x"],
    "enkät": ["enkät", "undersökning", "presentkort", "svara", "frågor", "I", "é"],
}


def _mails(count: int, seed: int) -> tuple[list[MailFeatures], list[str]]:
    rng = np.random.default_rng(seed)
    mails, labels = [], []
    for i in range(count):
        label = LABELS[i % len(LABELS)]
        vocab = WORDS[label] + WORDS[LABELS[(i + 1) % len(LABELS)]][:2]
        body = " ".join(rng.choice(vocab) for _ in range(int(rng.integers(0, 40))))
        subject = " ".join(rng.choice(vocab) for _ in range(3)).title()
        signals = (f"cue={label}", "sender=company", "has_date") if rng.random() > 0.3 else ("sender=none",)
        mails.append(MailFeatures(subject, body + "\n\n  tab\there", "", "", "", signals))
        labels.append(label)
    return mails, labels


@pytest.mark.parametrize("name", ["svm_temperature", "svm_sigmoid", "logreg_temperature"])
def test_compiled_probabilities_equal_scikit_learns(name, tmp_path):
    candidate = next(c for c in CANDIDATES if c.name == name)
    train, labels = _mails(90, 0)
    fitted = calibrated(candidate, 1, labels).fit(train, labels)
    test, _ = _mails(40, 1)
    test.append(MailFeatures("", "", "", "", "", ()))  # an empty mail: only the intercepts speak
    compiled = compile_estimator(fitted)
    np.testing.assert_allclose(compiled.predict_proba(test), fitted.predict_proba(test), atol=1e-6)

    path = compiled.save(tmp_path / COMPILED_FILE, version="v1")
    again, version = CompiledChapterModel.load(path)
    assert version == "v1"
    np.testing.assert_allclose(again.predict_proba(test), fitted.predict_proba(test), atol=1e-6)
    assert list(again.classes_) == list(fitted.classes_)


def test_an_estimator_of_another_shape_is_not_compiled():
    with pytest.raises(NotCompilable):
        compile_estimator(object())


def test_saving_writes_both_files_and_loading_prefers_the_compiled_one(tmp_path):
    train, labels = _mails(60, 2)
    fitted = calibrated(CANDIDATES[0], 1, labels).fit(train, labels)
    classifier = ChapterClassifier.from_fitted(fitted, version="chapter-test", review_threshold=0.6)
    assert isinstance(classifier.estimator, CompiledChapterModel)
    written = classifier.save(tmp_path)
    assert {p.name for p in written} == {MODEL_FILE, COMPILED_FILE}
    (tmp_path / "model.json").write_text(json.dumps({"version": "chapter-test"}))
    loaded = ChapterClassifier.load(tmp_path)
    assert isinstance(loaded.estimator, CompiledChapterModel) and loaded.version == "chapter-test"

    # A compiled file of another model than the card names is not trusted: model.joblib is read.
    (tmp_path / "model.json").write_text(json.dumps({"version": "chapter-newer"}))
    fallback = ChapterClassifier.load(tmp_path)
    assert fallback.version == "chapter-test" and isinstance(fallback.estimator, CompiledChapterModel)
    np.testing.assert_allclose(fallback.probabilities(train[:5]), loaded.probabilities(train[:5]), atol=1e-9)


SHIPPED = model_dir(Settings().models_dir)


@pytest.mark.skipif(not (SHIPPED / COMPILED_FILE).is_file() or not (SHIPPED / MODEL_FILE).is_file(),
                    reason="no compiled chapter model shipped")
def test_the_shipped_compiled_model_is_the_shipped_estimator():
    import joblib

    from triage.corpus.labels import DEFAULT_ROOT, load_split
    from triage.classify.train import featurize

    compiled, version = CompiledChapterModel.load(SHIPPED / COMPILED_FILE)
    bundle = joblib.load(SHIPPED / MODEL_FILE)
    assert version == bundle["version"] == json.loads((SHIPPED / "model.json").read_text())["version"]
    features = featurize(load_split("dev")[:40], DEFAULT_ROOT)
    np.testing.assert_allclose(compiled.predict_proba(features), bundle["estimator"].predict_proba(features),
                               atol=1e-6)


@pytest.mark.skipif(not (SHIPPED / COMPILED_FILE).is_file(), reason="no compiled chapter model shipped")
def test_loading_the_shipped_model_does_not_import_scikit_learn():
    code = (
        "import sys\n"
        "from triage.classify.loader import load_classifier\n"
        "from triage.config import Settings\n"
        "load_classifier(Settings())\n"
        "print(sorted(m for m in ('sklearn', 'joblib', 'scipy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
