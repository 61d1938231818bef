"""Load the chapter classifier from models/chapter/ once, at start-up."""

from __future__ import annotations

import threading
from pathlib import Path

from triage.classify.classifier import MODEL_FILE, MODEL_NAME, ChapterClassifier
from triage.config import Settings
from triage.pipeline.stages import Classifier

#: Loaded models by (directory, file mtime): a worker with many mailboxes reads the file once.
_LOADED: dict[tuple[str, int], ChapterClassifier] = {}
_LOCK = threading.Lock()


def model_dir(models_dir: str | Path) -> Path:
    """Where the chapter model lives under a models directory."""
    return Path(models_dir) / MODEL_NAME


def load_classifier(settings: Settings) -> Classifier:
    """The trained chapter classifier; ChapterModelMissingError tells the user to run `triage train`."""
    directory = model_dir(settings.models_dir).resolve()
    threshold = settings.classifier.review_threshold
    model_file = directory / MODEL_FILE
    key = (str(directory), model_file.stat().st_mtime_ns if model_file.is_file() else 0)
    with _LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = ChapterClassifier.load(directory, review_threshold=threshold)
            _LOADED[key] = loaded
    return loaded if loaded.review_threshold == threshold else loaded.with_threshold(threshold)
