"""Load the chapter classifier from models/ (the classifier stage replaces this with its real loader)."""

from __future__ import annotations

from triage.config import Settings
from triage.pipeline.stages import Classifier, NullClassifier


def load_classifier(settings: Settings) -> Classifier:
    """The chapter classifier; null until it is trained."""
    return NullClassifier()
