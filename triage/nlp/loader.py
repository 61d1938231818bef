"""Load the extraction stage from models/ (the NLP stage replaces this with its real loader)."""

from __future__ import annotations

from triage.config import Settings
from triage.pipeline.stages import Extractor, NullExtractor


def load_extractor(settings: Settings) -> Extractor:
    """The event extractor; null until the extraction stage is built."""
    return NullExtractor()
