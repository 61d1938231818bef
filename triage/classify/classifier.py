"""The chapter classifier stage: a calibrated scikit-learn model over MailFeatures.

`ChapterClassifier.classify` answers with the most probable chapter, its calibrated probability
as `confidence`, every chapter's probability, the model version, and `needs_review` when the
confidence is below the site's threshold (settings.classifier.review_threshold).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from triage.classify.features import MailFeatures, mail_features
from triage.message.envelope import ParsedMessage
from triage.results import Classification, EventDetails

log = logging.getLogger(__name__)

MODEL_NAME = "chapter"
MODEL_FILE = "model.joblib"


class ChapterModelMissingError(RuntimeError):
    """models/chapter/ has no trained model; the message says how to make one."""


class ChapterClassifier:
    """Classifies a parsed message by rule chapter with a calibrated confidence."""

    def __init__(self, estimator: Any, *, version: str, review_threshold: float = 0.6) -> None:
        self.estimator = estimator
        self.version = version
        self.review_threshold = review_threshold
        self.classes: tuple[str, ...] = tuple(str(c) for c in estimator.classes_)

    def with_threshold(self, review_threshold: float) -> ChapterClassifier:
        """The same loaded model with another review threshold (no second load)."""
        return ChapterClassifier(self.estimator, version=self.version, review_threshold=review_threshold)

    def probabilities(self, features: Sequence[MailFeatures]) -> np.ndarray:
        """Calibrated probabilities, one row per mail, columns in `self.classes` order."""
        probs = np.asarray(self.estimator.predict_proba(list(features)), dtype=np.float64)
        # Calibrators work in float32 here; renormalise so every row sums to exactly one.
        return probs / probs.sum(axis=1, keepdims=True)

    def classify_features(self, features: Sequence[MailFeatures]) -> list[Classification]:
        """One Classification per MailFeatures."""
        out: list[Classification] = []
        for row in self.probabilities(features):
            best = int(np.argmax(row))
            confidence = float(row[best])
            out.append(Classification(
                chapter=self.classes[best],
                confidence=confidence,
                probabilities={c: round(float(p), 4) for c, p in zip(self.classes, row)},
                model_version=self.version,
                needs_review=confidence < self.review_threshold,
            ))
        return out

    def classify(self, message: ParsedMessage, event: EventDetails) -> Classification:
        """The chapter of one message (the event details are not used by this model)."""
        return self.classify_features([mail_features(message)])[0]

    # --- files -------------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        """Write the model file into `directory`; model.json and metrics.json are the trainer's."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MODEL_FILE
        joblib.dump({"estimator": self.estimator, "version": self.version, "sklearn": sklearn.__version__}, path,
                    compress=3)
        return path

    @classmethod
    def load(cls, directory: Path, review_threshold: float = 0.6) -> ChapterClassifier:
        """Load models/chapter/ (or another directory), or say how to build it."""
        path = directory / MODEL_FILE
        if not path.is_file():
            raise ChapterModelMissingError(
                f"no chapter model at {directory} ({MODEL_FILE} missing); "
                "run `triage train --only chapter` (or `triage train`) to build it"
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bundle = joblib.load(path)
        if bundle.get("sklearn") != sklearn.__version__ or caught:
            log.warning("chapter model was trained with scikit-learn %s, running %s; retrain with `triage train` "
                        "if its figures matter", bundle.get("sklearn"), sklearn.__version__)
        version = bundle.get("version") or _card_version(directory)
        return cls(bundle["estimator"], version=version, review_threshold=review_threshold)


def _card_version(directory: Path) -> str:
    card = directory / "model.json"
    if card.is_file():
        return str(json.loads(card.read_text(encoding="utf-8")).get("version", "unknown"))
    return "unknown"
