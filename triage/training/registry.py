"""The trainers `triage train` runs, each registered by name, in registration order.

A trainer reads the train split (and dev for model selection), never test, and writes
models/<name>/ with its model files and a `metrics.json` via `write_model_dir`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from triage.corpus.labels import LabelledMail

SEED = 20260201


@dataclass(frozen=True)
class TrainingContext:
    """What every trainer gets: the corpus root, the splits it may use, where to write, a progress hook."""

    corpus_root: Path
    models_dir: Path
    train: list[LabelledMail]
    dev: list[LabelledMail]
    progress: Callable[[str], None]
    seed: int = SEED


Trainer = Callable[[TrainingContext], dict[str, Any]]
TRAINERS: dict[str, Trainer] = {}


def register_trainer(name: str) -> Callable[[Trainer], Trainer]:
    """Decorator: make a trainer known to `triage train` under `name`."""

    def decorate(func: Trainer) -> Trainer:
        TRAINERS[name] = func
        return func

    return decorate


def data_hash(mails: list[LabelledMail], root: Path) -> str:
    """sha256 over the labels and the raw bytes of every mail, in id order: which data made a model."""
    digest = hashlib.sha256()
    for mail in sorted(mails, key=lambda m: m.id):
        digest.update(mail.id.encode())
        digest.update(json.dumps([mail.chapter, mail.missing, mail.violations, mail.event, mail.evidence], sort_keys=True, ensure_ascii=False).encode())
        digest.update(mail.path(root).read_bytes())
    return digest.hexdigest()


def write_model_dir(directory: Path, *, name: str, version: str, training_hash: str, metrics: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    """Write `model.json` (name, version, data hash, date) and `metrics.json` beside the model files."""
    directory.mkdir(parents=True, exist_ok=True)
    card = {"name": name, "version": version, "training_data_sha256": training_hash,
            "trained_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(), **(extra or {})}
    (directory / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def read_model_card(directory: Path) -> dict[str, Any]:
    """The `model.json` that `write_model_dir` wrote, or {} when there is none."""
    card = directory / "model.json"
    if not card.is_file():
        return {}
    return json.loads(card.read_text(encoding="utf-8"))
