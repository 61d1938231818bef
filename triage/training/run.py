"""Run the registered trainers, in order, on the corpus: what `triage train` does.

Each trainer lives in its own module and registers itself with `@register_trainer(name)` when
the module is imported; this list names those modules, so adding a model is one line here.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.corpus.labels import DEFAULT_ROOT, load_split
from triage.training.registry import SEED, TRAINERS, TrainingContext

#: The modules whose trainers `triage train` runs, in this order.
TRAINER_MODULES: list[str] = [
    "triage.nlp.train",
    "triage.classify.train",
    "triage.rules.train",
]


class TrainingError(ValueError):
    """`triage train` cannot run as asked (an unknown trainer name, a corpus that cannot be read)."""


@dataclass(frozen=True)
class TrainerRun:
    """What one trainer returned, and how long it took."""

    name: str
    result: dict[str, Any]
    seconds: float


def registered_trainers() -> list[str]:
    """Import every trainer module and return the trainer names in TRAINER_MODULES order.

    The order is the list's, not the order modules happened to be imported in elsewhere.
    """
    for module in TRAINER_MODULES:
        importlib.import_module(module)
    rank = {module: index for index, module in enumerate(TRAINER_MODULES)}
    names = list(TRAINERS)
    return sorted(names, key=lambda name: (rank.get(TRAINERS[name].__module__, len(rank)), names.index(name)))


def run_training(
    models_dir: Path,
    *,
    only: Sequence[str] = (),
    corpus_root: Path = DEFAULT_ROOT,
    seed: int = SEED,
    on_start: Callable[[str], None] | None = None,
    on_progress: Callable[[str, str], None] | None = None,
    on_done: Callable[[TrainerRun], None] | None = None,
) -> list[TrainerRun]:
    """Train every registered model (or those named in `only`) from the train and dev splits."""
    names = registered_trainers()
    unknown = [name for name in only if name not in names]
    if unknown:
        raise TrainingError(f"no trainer named {', '.join(unknown)}; known: {', '.join(names) or 'none'}")
    chosen = [name for name in names if not only or name in only]
    train, dev = load_split("train", corpus_root), load_split("dev", corpus_root)
    runs: list[TrainerRun] = []
    for name in chosen:
        if on_start is not None:
            on_start(name)
        context = TrainingContext(
            corpus_root=corpus_root, models_dir=models_dir, train=train, dev=dev, seed=seed,
            progress=(lambda message, _name=name: on_progress(_name, message)) if on_progress else (lambda _m: None),
        )
        started = time.perf_counter()
        result = TRAINERS[name](context) or {}
        run = TrainerRun(name, result, time.perf_counter() - started)
        runs.append(run)
        if on_done is not None:
            on_done(run)
    return runs
