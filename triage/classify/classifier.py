"""The chapter classifier stage: a calibrated linear model over MailFeatures.

`ChapterClassifier.classify` answers with the most probable chapter, its calibrated probability
as `confidence`, every chapter's probability, the model version, and `needs_review` when the
confidence is below the site's threshold (settings.classifier.review_threshold).

Training fits a scikit-learn estimator (`model.py`); what predicts at run time is its compiled
form (`compiled.py`, `models/chapter/model.npz`): the same probabilities, without scikit-learn's
per-call overhead, and loaded without importing scikit-learn. `model.joblib` keeps the fitted
estimator itself, for inspection and as the fallback when no compiled file is there.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from triage.classify.compiled import CompiledChapterModel, NotCompilable, compile_estimator
from triage.classify.features import MailFeatures, mail_features
from triage.message.envelope import ParsedMessage
from triage.results import Classification, EventDetails
from triage.training.registry import read_model_card

log = logging.getLogger(__name__)

MODEL_NAME = "chapter"
MODEL_FILE = "model.joblib"
#: The compiled form of the same model: what the service loads (see compiled.py).
COMPILED_FILE = "model.npz"


class ChapterModelMissingError(RuntimeError):
    """models/chapter/ has no trained model; the message says how to make one."""


class ChapterClassifier:
    """Classifies a parsed message by rule chapter with a calibrated confidence."""

    def __init__(self, estimator: Any, *, version: str, review_threshold: float = 0.6, fitted: Any = None) -> None:
        #: What predicts: anything with `classes_` and `predict_proba(features)`.
        self.estimator = estimator
        #: The fitted scikit-learn estimator `estimator` was compiled from, when there is one (for `save`).
        self.fitted = fitted
        self.version = version
        self.review_threshold = review_threshold
        self.classes: tuple[str, ...] = tuple(str(c) for c in estimator.classes_)

    @classmethod
    def from_fitted(cls, fitted: Any, *, version: str, review_threshold: float = 0.6) -> ChapterClassifier:
        """A classifier over a freshly fitted scikit-learn estimator, compiled when its shape allows."""
        try:
            return cls(compile_estimator(fitted), version=version, review_threshold=review_threshold, fitted=fitted)
        except NotCompilable as exc:
            log.info("chapter model not compiled (%s); predicting with scikit-learn", exc)
            return cls(fitted, version=version, review_threshold=review_threshold)

    def with_threshold(self, review_threshold: float) -> ChapterClassifier:
        """The same loaded model with another review threshold (no second load)."""
        return ChapterClassifier(self.estimator, version=self.version, review_threshold=review_threshold,
                                 fitted=self.fitted)

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

    def save(self, directory: Path) -> list[Path]:
        """Write the model files into `directory` (model.joblib, and model.npz when compiled);
        model.json and metrics.json are the trainer's."""
        import joblib
        import sklearn

        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        fitted = self.fitted if self.fitted is not None else self.estimator
        if not isinstance(fitted, CompiledChapterModel):
            path = directory / MODEL_FILE
            joblib.dump({"estimator": fitted, "version": self.version, "sklearn": sklearn.__version__}, path,
                        compress=3)
            written.append(path)
        compiled = directory / COMPILED_FILE
        if isinstance(self.estimator, CompiledChapterModel):
            written.append(self.estimator.save(compiled, version=self.version))
        elif compiled.exists():
            compiled.unlink()  # a stale compiled file must not shadow the new model
        return written

    @classmethod
    def load(cls, directory: Path, review_threshold: float = 0.6) -> ChapterClassifier:
        """Load models/chapter/ (or another directory), or say how to build it.

        The compiled file is read when it is there and belongs to the model the card names;
        otherwise model.joblib is unpickled (importing scikit-learn) and compiled in memory.
        """
        compiled = directory / COMPILED_FILE
        card_version = _card_version(directory)
        if compiled.is_file():
            try:
                model, version = CompiledChapterModel.load(compiled)
            except (NotCompilable, OSError, ValueError, KeyError) as exc:
                log.warning("cannot read %s (%s); loading %s instead", compiled, exc, MODEL_FILE)
            else:
                if card_version in (version, "unknown"):
                    return cls(model, version=version, review_threshold=review_threshold)
                log.warning("%s is version %s but model.json says %s; loading %s instead",
                            compiled, version, card_version, MODEL_FILE)
        path = directory / MODEL_FILE
        if not path.is_file():
            raise ChapterModelMissingError(
                f"no chapter model at {directory} ({MODEL_FILE} missing); "
                "run `triage train --only chapter` (or `triage train`) to build it"
            )
        import joblib
        import sklearn

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bundle = joblib.load(path)
        if bundle.get("sklearn") != sklearn.__version__ or caught:
            log.warning("chapter model was trained with scikit-learn %s, running %s; retrain with `triage train` "
                        "if its figures matter", bundle.get("sklearn"), sklearn.__version__)
        version = bundle.get("version") or card_version
        return cls.from_fitted(bundle["estimator"], version=version, review_threshold=review_threshold)


def _card_version(directory: Path) -> str:
    return str(read_model_card(directory).get("version", "unknown"))
