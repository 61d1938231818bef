"""Train the chapter classifier: compare the candidates on dev, keep the best, write models/chapter/.

Every candidate is fitted on the train split with calibration on out-of-fold predictions and
scored on dev; the winner (highest dev macro-F1, then lowest dev calibration error, then lowest
log loss) is saved. metrics.json holds only what the seed decides, so retraining from a clean
clone reproduces it byte for byte; timings and sizes go to model.json.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from triage.classify.classifier import MODEL_NAME, ChapterClassifier
from triage.classify.features import MailFeatures, mail_features
from triage.classify.model import CANDIDATES, Candidate, calibrated
from triage.config import ClassifierConfig
from triage.corpus.labels import LabelledMail
from triage.evaluation.judgement import Judgement
from triage.evaluation.metrics import (
    calibration_metrics,
    chapter_metrics,
    invitation_metrics,
    review_metrics,
    rounded,
)
from triage.message.parse import parse_message
from triage.training.registry import TrainingContext, data_hash, register_trainer, write_model_dir

#: Bump when the features or the model family change, so the version says which code made a model.
FORMAT = "2"
#: A candidate whose probabilities are off by more than this on dev (the ECE target of issue 4) is
#: only chosen when none is calibrated: `chapter_confidence` must mean what it says.
MAX_DEV_ECE = 0.05
SELECTION_RULE = (f"among candidates with dev ECE <= {MAX_DEV_ECE} (all, if none is): highest dev macro-F1, "
                  "then lowest dev ECE, then lowest dev log loss (rounded to 3 decimals)")


def featurize(mails: list[LabelledMail], root: Path) -> list[MailFeatures]:
    """Parse each corpus mail and build what the classifier reads, exactly as the service does."""
    return [mail_features(parse_message(mail.path(root).read_bytes())) for mail in mails]


def _log_loss(probs: np.ndarray, classes: tuple[str, ...], gold: list[str]) -> float:
    index = {c: i for i, c in enumerate(classes)}
    eps = 1e-12
    return float(np.mean([-math.log(max(probs[row, index[g]], eps)) if g in index else -math.log(eps)
                          for row, g in enumerate(gold)]))


def score(classifier: ChapterClassifier, mails: list[LabelledMail], features: list[MailFeatures]) -> dict[str, Any]:
    """The chapter figures of a classifier on labelled mails (via the evaluation metrics)."""
    probs = classifier.probabilities(features)
    predictions = classifier.classify_features(features)
    pairs = [(Judgement(id=m.id, chapter=m.chapter),
              Judgement(id=m.id, chapter=c.chapter, confidence=c.confidence, needs_review=c.needs_review,
                        chapter_uncertain=c.needs_review))
             for m, c in zip(mails, predictions)]
    chapters = chapter_metrics(pairs)
    calibration = calibration_metrics(pairs)
    review = review_metrics(pairs)
    return {
        "n": len(mails),
        "accuracy": chapters["accuracy"],
        "macro_f1": chapters["macro_f1"],
        "invitation_accuracy": invitation_metrics(pairs)["accuracy"],
        "ece": calibration["ece"],
        "log_loss": _log_loss(probs, classifier.classes, [m.chapter for m in mails]),
        "mean_confidence": float(np.mean([c.confidence for c in predictions])),
        "needs_review_rate": review["needs_review_rate"],
        "confident_accuracy": review["confident_accuracy"],
        "per_chapter": chapters["per_chapter"],
        "confusion": chapters["confusion"],
        "calibration_bins": calibration["bins"],
    }


def _selection_key(result: dict[str, Any]) -> tuple[float, float, float]:
    return (round(result["macro_f1"], 3), -round(result["ece"], 3), -round(result["log_loss"], 3))


def select(candidates: tuple[Candidate, ...], results: dict[str, dict[str, Any]]) -> Candidate:
    """The candidate SELECTION_RULE names."""
    calibrated_enough = [c for c in candidates if results[c.name]["ece"] <= MAX_DEV_ECE] or list(candidates)
    return max(calibrated_enough, key=lambda c: _selection_key(results[c.name]))


def fit_candidate(candidate: Candidate, features: list[MailFeatures], labels: list[str], seed: int) -> Any:
    """One candidate, calibrated, fitted on the given mails."""
    return calibrated(candidate, seed, labels).fit(features, labels)


@register_trainer(MODEL_NAME)
def train_chapter(ctx: TrainingContext) -> dict[str, Any]:
    """Fit every candidate on train, pick by dev, save models/chapter/ with model.json and metrics.json."""
    started = time.perf_counter()
    ctx.progress(f"reading {len(ctx.train)} train and {len(ctx.dev)} dev mails")
    train_x, dev_x = featurize(ctx.train, ctx.corpus_root), featurize(ctx.dev, ctx.corpus_root)
    train_y = [m.chapter for m in ctx.train]
    version = f"{MODEL_NAME}-{FORMAT}-{data_hash(ctx.train + ctx.dev, ctx.corpus_root)[:10]}"
    threshold = ClassifierConfig().review_threshold

    results: dict[str, dict[str, Any]] = {}
    fitted: dict[str, ChapterClassifier] = {}
    fit_seconds: dict[str, float] = {}
    for candidate in CANDIDATES:
        ctx.progress(f"fitting {candidate.name}")
        fit_started = time.perf_counter()
        estimator = fit_candidate(candidate, train_x, train_y, ctx.seed)
        fit_seconds[candidate.name] = round(time.perf_counter() - fit_started, 2)
        # Scored as it will run: compiled (the same probabilities as scikit-learn's, to ~1e-7).
        fitted[candidate.name] = ChapterClassifier.from_fitted(estimator, version=version, review_threshold=threshold)
        results[candidate.name] = score(fitted[candidate.name], ctx.dev, dev_x)

    best = select(CANDIDATES, results)
    ctx.progress(f"saving {best.name}")
    directory = ctx.models_dir / MODEL_NAME
    model_paths = fitted[best.name].save(directory)
    summary_keys = ("accuracy", "macro_f1", "invitation_accuracy", "ece", "log_loss", "mean_confidence",
                    "needs_review_rate", "confident_accuracy")
    metrics = rounded({
        "model": MODEL_NAME,
        "version": version,
        "seed": ctx.seed,
        "train_size": len(ctx.train),
        "dev_size": len(ctx.dev),
        "review_threshold": threshold,
        "selection": {
            "rule": SELECTION_RULE,
            "selected": best.name,
            "candidates": {
                c.name: {"description": c.description, "calibration": c.calibration,
                         "dev": {k: results[c.name][k] for k in summary_keys}}
                for c in CANDIDATES
            },
        },
        "dev": results[best.name],
    })
    total_seconds = round(time.perf_counter() - started, 1)
    write_model_dir(
        directory, name=MODEL_NAME, version=version, training_hash=data_hash(ctx.train + ctx.dev, ctx.corpus_root),
        metrics=metrics,
        extra={
            "selected": best.name,
            "description": best.description,
            "classes": list(fitted[best.name].classes),
            "files": [path.name for path in model_paths],
            "model_bytes": sum(path.stat().st_size for path in model_paths),
            "sklearn": sklearn.__version__,
            "train_seconds": total_seconds,
            "fit_seconds": fit_seconds,
            "seed": ctx.seed,
        },
    )
    dev = results[best.name]
    return {"selected": best.name, "dev_macro_f1": round(dev["macro_f1"], 4), "dev_accuracy": round(dev["accuracy"], 4),
            "dev_ece": round(dev["ece"], 4), "seconds": total_seconds,
            "model_bytes": sum(path.stat().st_size for path in model_paths)}
