"""The trained sentence scorer: how much a sentence reads like the evidence of each violation.

Trained by `triage train` (trainer "rules", triage/rules/train.py) from the corpus's
`violation_evidence` quotes against the other sentences of the train split: TF-IDF over character
n-grams and one logistic regression per violation code, with a threshold per code tuned on dev.
Its evidence is the sentence it scored; its probability becomes the finding's confidence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from triage.rules.text import Unit

log = logging.getLogger(__name__)

MODEL_NAME = "rules"
MODEL_FILE = "scorer.joblib"
#: Below this a finding is reported but marked for review (kept in step with the decider's default).
DEFAULT_THRESHOLD = 0.5


def model_dir(models_dir: str | Path) -> Path:
    """Where the scorer lives under the models folder: models/rules/."""
    return Path(models_dir) / MODEL_NAME


@dataclass
class SentenceScorer:
    """Per-code probabilities for sentences; `score` keeps those above the code's threshold."""

    vectorizer: Any
    codes: tuple[str, ...]
    coef: np.ndarray  # (codes, features)
    intercept: np.ndarray  # (codes,)
    thresholds: dict[str, float]
    version: str = "unknown"
    #: (texts, probabilities) of the last call; one tuple, swapped whole, so threads never mix them.
    _cache: tuple[tuple[str, ...], np.ndarray] | None = field(default=None, repr=False)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(codes)) probabilities; cached for the last list of texts."""
        key = tuple(texts)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        if not texts:
            probs = np.zeros((0, len(self.codes)))
        else:
            matrix = self.vectorizer.transform(list(texts))
            logits = matrix @ self.coef.T + self.intercept
            probs = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
        self._cache = (key, probs)
        return probs

    def score(self, code: str, units: Sequence[Unit]) -> list[tuple[Unit, float]]:
        """The units whose probability for `code` reaches the code's threshold, best first."""
        if code not in self.codes or not units:
            return []
        column = self.codes.index(code)
        probs = self.probabilities([u.text for u in units])[:, column]
        threshold = self.thresholds.get(code, DEFAULT_THRESHOLD)
        kept = [(unit, float(p)) for unit, p in zip(units, probs) if p >= threshold]
        return sorted(kept, key=lambda pair: -pair[1])

    def save(self, directory: Path) -> None:
        """Write the scorer (vectorizer, weights, thresholds) to `scorer.joblib`."""
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {"vectorizer": self.vectorizer, "codes": list(self.codes), "coef": self.coef.astype(np.float32),
             "intercept": self.intercept.astype(np.float32), "thresholds": self.thresholds},
            directory / MODEL_FILE, compress=3,
        )

    @classmethod
    def load(cls, directory: Path) -> SentenceScorer | None:
        """The scorer saved in `directory`, or None when none has been trained."""
        path = directory / MODEL_FILE
        if not path.is_file():
            return None
        data = joblib.load(path)
        version = "unknown"
        card = directory / "model.json"
        if card.is_file():
            version = json.loads(card.read_text(encoding="utf-8")).get("version", version)
        return cls(
            vectorizer=data["vectorizer"], codes=tuple(data["codes"]), coef=np.asarray(data["coef"]),
            intercept=np.asarray(data["intercept"]), thresholds=dict(data["thresholds"]), version=version,
        )
