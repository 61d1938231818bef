"""The chapter model: scikit-learn pipelines over MailFeatures, and the candidates training compares.

Every candidate reads the same features (word and character n-grams of the texts, the subject on
its own, and the cheap signal tokens) and differs in the linear model on top. Whichever wins on
dev is wrapped in `CalibratedClassifierCV`, so its probabilities are calibrated on out-of-fold
predictions of the training split, and the one base model fitted on all of train is what ships.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from triage.classify.features import TEXT_SIGNAL_PREFIXES, MailFeatures

#: How many folds the calibration's out-of-fold predictions come from.
CALIBRATION_FOLDS = 5


class TextOf(BaseEstimator, TransformerMixin):
    """Select one text of each MailFeatures: "text" (all of it), "subject", "body", ..."""

    def __init__(self, field: str = "text") -> None:
        self.field = field

    def fit(self, X: Sequence[MailFeatures], y: object = None) -> TextOf:
        return self

    def transform(self, X: Sequence[MailFeatures]) -> list[str]:
        return [getattr(x, self.field) for x in X]


class SignalsOf(BaseEstimator, TransformerMixin):
    """The signal tokens of each MailFeatures as {token: 1} rows for a DictVectorizer.

    `kind` "text" keeps the cues read from the text, "meta" the rest (sender, headers, shape).
    """

    def __init__(self, kind: str = "all") -> None:
        self.kind = kind

    def fit(self, X: Sequence[MailFeatures], y: object = None) -> SignalsOf:
        return self

    def _wanted(self, token: str) -> bool:
        if self.kind == "all":
            return True
        return token.startswith(TEXT_SIGNAL_PREFIXES) == (self.kind == "text")

    def transform(self, X: Sequence[MailFeatures]) -> list[dict[str, float]]:
        return [{token: 1.0 for token in x.signals if self._wanted(token)} for x in X]


def features_union(*, char_max_features: int = 40_000, signal_weight: float = 0.2, subject_weight: float = 0.5,
                   char_weight: float = 1.0, word_weight: float = 1.0, meta_weight: float | None = 0.1) -> FeatureUnion:
    """Word 1–2-grams and character 2–5-grams of all text, subject words, and the signals.

    The sender, header and shape signals ("meta") weigh half the text cues: at the same weight
    they let the model lean on who sent a mail rather than on what it proposes (5-fold CV on train).
    """
    return FeatureUnion([
        ("words", Pipeline([
            ("select", TextOf("text")),
            ("tfidf", TfidfVectorizer(lowercase=True, ngram_range=(1, 2), min_df=2, max_df=0.9,
                                      sublinear_tf=True, max_features=30_000, dtype=np.float32)),
        ])),
        ("chars", Pipeline([
            ("select", TextOf("text")),
            ("tfidf", TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                      sublinear_tf=True, max_features=char_max_features, dtype=np.float32)),
        ])),
        ("subject", Pipeline([
            ("select", TextOf("subject")),
            ("tfidf", TfidfVectorizer(lowercase=True, ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                      dtype=np.float32)),
        ])),
        ("signals", Pipeline([
            ("select", SignalsOf("text")),
            ("vector", DictVectorizer(dtype=np.float32)),
        ])),
        ("meta", Pipeline([
            ("select", SignalsOf("meta")),
            ("vector", DictVectorizer(dtype=np.float32)),
        ])),
    ], transformer_weights={"words": word_weight, "chars": char_weight, "subject": subject_weight,
                            "signals": signal_weight, "meta": signal_weight if meta_weight is None else meta_weight})


@dataclass(frozen=True)
class Candidate:
    """One model training may choose: a name, a one-line description, how to build it."""

    name: str
    description: str
    build: Callable[[int], Pipeline]
    calibration: str = "sigmoid"


def _logreg(seed: int) -> Pipeline:
    return Pipeline([("features", features_union()),
                     ("model", LogisticRegression(C=20.0, max_iter=5000, class_weight="balanced", random_state=seed))])


def _svm(seed: int) -> Pipeline:
    return Pipeline([("features", features_union()),
                     ("model", LinearSVC(C=0.5, class_weight="balanced", random_state=seed, max_iter=20_000))])


def _sgd(seed: int) -> Pipeline:
    return Pipeline([("features", features_union()),
                     ("model", SGDClassifier(loss="modified_huber", alpha=1e-4, class_weight="balanced",
                                             max_iter=200, tol=1e-4, random_state=seed))])


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("svm_temperature", "linear SVM (C=0.5), temperature scaling", _svm, "temperature"),
    Candidate("svm_sigmoid", "linear SVM (C=0.5), one-vs-rest Platt scaling", _svm, "sigmoid"),
    Candidate("logreg_temperature", "logistic regression (C=20), temperature scaling", _logreg, "temperature"),
    Candidate("sgd_temperature", "SGD with modified Huber loss, temperature scaling", _sgd, "temperature"),
)


def calibrated(candidate: Candidate, seed: int, labels: Sequence[str] | None = None) -> CalibratedClassifierCV:
    """The candidate wrapped so its probabilities are calibrated on out-of-fold predictions.

    The one base model fitted on all the data is kept (ensemble=False), so a model is small and a
    prediction costs one pass. With `labels`, fewer folds are used when a chapter has too few mails.
    """
    folds = CALIBRATION_FOLDS
    if labels is not None:
        folds = max(2, min(folds, min(Counter(labels).values())))
    return CalibratedClassifierCV(
        estimator=candidate.build(seed),
        method=candidate.calibration,
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
        ensemble=False,
    )
