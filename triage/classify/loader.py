"""Load the chapter classifier from models/chapter/ once, at start-up."""

from __future__ import annotations

import threading
from pathlib import Path

from triage.classify.classifier import COMPILED_FILE, MODEL_FILE, MODEL_NAME, ChapterClassifier
from triage.config import Settings
from triage.pipeline.stages import Classifier

#: Loaded models by (directory, files' mtimes): a worker with many mailboxes reads the files once.
_LOADED: dict[tuple[str, int, int], ChapterClassifier] = {}
_LOCK = threading.Lock()


def model_dir(models_dir: str | Path) -> Path:
    """Where the chapter model lives under a models directory."""
    return Path(models_dir) / MODEL_NAME


def load_classifier(settings: Settings) -> Classifier:
    """The trained chapter classifier; ChapterModelMissingError tells the user to run `triage train`."""
    directory = model_dir(settings.models_dir).resolve()
    threshold = settings.classifier.review_threshold
    fitted, compiled = directory / MODEL_FILE, directory / COMPILED_FILE
    key = (str(directory), fitted.stat().st_mtime_ns if fitted.is_file() else 0,
           compiled.stat().st_mtime_ns if compiled.is_file() else 0)
    with _LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = ChapterClassifier.load(directory, review_threshold=threshold)
            _LOADED[key] = loaded
    return loaded if loaded.review_threshold == threshold else loaded.with_threshold(threshold)
