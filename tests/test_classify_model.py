"""The chapter classifier: train → save → load → predict, calibration and needs_review, loading."""

from __future__ import annotations

import json

import numpy as np
import pytest

import triage.classify.train as chapter_train
from triage.classify.classifier import ChapterClassifier, ChapterModelMissingError
from triage.classify.loader import load_classifier, model_dir
from triage.classify.model import CANDIDATES
from triage.config import ClassifierConfig, Settings
from triage.corpus.labels import DEFAULT_ROOT, load_split
from triage.message.parse import parse_message
from triage.results import EventDetails
from triage.training.registry import TrainingContext
from triage.vocabulary import CHAPTERS

from tests.support.corpus_subset import small_corpus

FAST = tuple(c for c in CANDIDATES if c.name.startswith("svm"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A chapter model trained on a few mails per chapter, in a temporary models dir."""
    base = tmp_path_factory.mktemp("chapter")
    root = small_corpus(base / "corpus")
    models = base / "models"
    context = TrainingContext(corpus_root=root, models_dir=models, train=load_split("train", root),
                              dev=load_split("dev", root), progress=lambda _m: None)
    original = chapter_train.CANDIDATES
    chapter_train.CANDIDATES = FAST
    try:
        result = chapter_train.train_chapter(context)
    finally:
        chapter_train.CANDIDATES = original
    return root, models, result


def test_training_writes_the_model_its_card_and_its_metrics(trained):
    _, models, result = trained
    directory = models / "chapter"
    assert (directory / "model.joblib").is_file()
    card = json.loads((directory / "model.json").read_text())
    metrics = json.loads((directory / "metrics.json").read_text())
    assert card["version"].startswith("chapter-") and len(card["training_data_sha256"]) == 64
    assert card["selected"] == result["selected"] == metrics["selection"]["selected"]
    assert set(metrics["selection"]["candidates"]) == {c.name for c in FAST}
    assert set(card["classes"]) == set(CHAPTERS)
    assert 0.0 <= metrics["dev"]["ece"] <= 1.0 and 0.0 <= metrics["dev"]["macro_f1"] <= 1.0


def test_a_saved_model_loads_and_classifies_a_parsed_mail(trained):
    root, models, _ = trained
    classifier = ChapterClassifier.load(models / "chapter", review_threshold=0.6)
    mail = load_split("dev", root)[0]
    result = classifier.classify(parse_message(mail.path(root).read_bytes()), EventDetails())
    assert result.chapter in CHAPTERS
    assert result.model_version == json.loads((models / "chapter" / "model.json").read_text())["version"]
    assert set(result.probabilities) == set(CHAPTERS)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert result.confidence == pytest.approx(max(result.probabilities.values()), abs=1e-4)
    assert result.probabilities[result.chapter] == max(result.probabilities.values())


def test_the_loaded_model_answers_as_the_trained_one_did(trained):
    root, models, _ = trained
    metrics = json.loads((models / "chapter" / "metrics.json").read_text())
    classifier = ChapterClassifier.load(models / "chapter")
    dev = load_split("dev", root)
    scored = chapter_train.score(classifier, dev, chapter_train.featurize(dev, root))
    assert round(scored["accuracy"], 4) == metrics["dev"]["accuracy"]
    assert round(scored["ece"], 4) == metrics["dev"]["ece"]


def test_needs_review_follows_the_threshold(trained):
    root, models, _ = trained
    classifier = ChapterClassifier.load(models / "chapter")
    message = parse_message(load_split("dev", root)[1].path(root).read_bytes())
    confidence = classifier.classify(message, EventDetails()).confidence
    unsure = classifier.with_threshold(min(1.0, confidence + 0.01)).classify(message, EventDetails())
    sure = classifier.with_threshold(max(0.0, confidence - 0.01)).classify(message, EventDetails())
    assert unsure.needs_review and not sure.needs_review
    assert unsure.chapter == sure.chapter and unsure.confidence == sure.confidence


class FixedProbabilities:
    """A stand-in estimator whose probabilities are given, to test the classifier's own logic."""

    classes_ = np.array(["3.2", "not_invitation"])

    def __init__(self, rows):
        self.rows = rows

    def predict_proba(self, features):
        return np.array(self.rows[: len(features)], dtype=np.float32)


def test_confidence_is_the_top_probability_and_low_confidence_asks_for_review():
    classifier = ChapterClassifier(FixedProbabilities([[0.9, 0.1], [0.45, 0.55]]), version="v", review_threshold=0.6)
    confident, uncertain = classifier.classify_features([object(), object()])  # type: ignore[list-item]
    assert (confident.chapter, confident.needs_review) == ("3.2", False)
    assert confident.confidence == pytest.approx(0.9)
    assert (uncertain.chapter, uncertain.needs_review) == ("not_invitation", True)
    assert uncertain.confidence == pytest.approx(0.55)


def test_a_missing_model_says_to_run_triage_train(tmp_path):
    with pytest.raises(ChapterModelMissingError, match="triage train"):
        load_classifier(Settings(models_dir=str(tmp_path)))


def test_the_loader_reads_the_model_once_and_applies_the_sites_threshold(trained):
    _, models, _ = trained
    first = load_classifier(Settings(models_dir=str(models)))
    again = load_classifier(Settings(models_dir=str(models)))
    stricter = load_classifier(Settings(models_dir=str(models), classifier=ClassifierConfig(review_threshold=0.95)))
    assert again is first
    assert stricter.estimator is first.estimator and stricter.review_threshold == 0.95


SHIPPED = model_dir(Settings().models_dir)


@pytest.mark.skipif(not (SHIPPED / "model.joblib").is_file(), reason="no chapter model shipped yet")
def test_the_shipped_model_reproduces_its_dev_figures_and_meets_calibration():
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    classifier = ChapterClassifier.load(SHIPPED)
    dev = load_split("dev")
    scored = chapter_train.score(classifier, dev, chapter_train.featurize(dev, DEFAULT_ROOT))
    assert round(scored["macro_f1"], 4) == metrics["dev"]["macro_f1"]
    assert round(scored["ece"], 4) == metrics["dev"]["ece"]
    assert metrics["dev"]["ece"] <= 0.05  # chapter_confidence means what it says, on mail it never saw


def test_chapter_confidence_is_calibrated_on_a_toy_problem():
    """Temperature scaling on out-of-fold scores: the mean confidence tracks the accuracy."""
    from triage.classify.features import MailFeatures
    from triage.classify.model import calibrated

    rng = np.random.default_rng(0)
    words = {"a": ["kurs", "lunch", "föreläsning"], "b": ["faktura", "order", "leverans"]}
    def mail(label: str, noise: float) -> MailFeatures:
        own, other = words[label], words["b" if label == "a" else "a"]
        tokens = [rng.choice(own if rng.random() > noise else other) for _ in range(6)]
        return MailFeatures(" ".join(tokens), " ".join(tokens), "", "", "", ())
    labels = ["a" if i % 2 else "b" for i in range(400)]
    features = [mail(y, 0.35) for y in labels]
    model = calibrated(FAST[0], 1, labels).fit(features[:300], labels[:300])
    probs = model.predict_proba(features[300:])
    predicted = model.classes_[probs.argmax(1)]
    accuracy = float(np.mean(predicted == np.array(labels[300:])))
    assert abs(float(probs.max(1).mean()) - accuracy) < 0.08
