"""Run the whole judging pipeline over labelled mail and pair each answer with its gold label.

The mails are a corpus split, or any folder of .eml files with a labels file in the corpus
schema (training_data/LABELLING.md), so a site can measure triage on its own mail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from triage.corpus.labels import LabelledMail, read_labels
from triage.evaluation.judgement import Judgement
from triage.evaluation.metrics import Pair
from triage.pipeline.pipeline import Pipeline
from triage.results import TriageResult


class EvaluationInputError(ValueError):
    """The labels or mails to evaluate on cannot be used; the message says which and why."""


@dataclass(frozen=True)
class LabelledSet:
    """Labels and where their mails are: `path_of(mail)` is the .eml file of one label."""

    name: str
    mails: list[LabelledMail]
    root: Path
    mails_dir: Path | None = None

    def path_of(self, mail: LabelledMail) -> Path:
        """A corpus label's `file` is relative to the corpus root; a site's may be a bare file name."""
        if self.mails_dir is None:
            return mail.path(self.root)
        direct = self.mails_dir / mail.file
        return direct if direct.is_file() else self.mails_dir / Path(mail.file).name


def labelled_folder(labels_file: Path, mails_dir: Path) -> LabelledSet:
    """Labels from any JSON Lines file in the corpus schema, mails from a folder; every mail must exist."""
    if not labels_file.is_file():
        raise EvaluationInputError(f"no labels file {labels_file}")
    if not mails_dir.is_dir():
        raise EvaluationInputError(f"no mail folder {mails_dir}")
    mails = read_labels(labels_file)
    if not mails:
        raise EvaluationInputError(f"{labels_file} has no labels")
    labelled = LabelledSet(labels_file.stem, mails, labels_file.parent, mails_dir)
    absent = [m.file for m in mails if not labelled.path_of(m).is_file()]
    if absent:
        shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
        raise EvaluationInputError(f"{len(absent)} labelled mail(s) not found in {mails_dir}: {shown}")
    return labelled


def judge_all(
    pipeline: Pipeline, labelled: LabelledSet, progress: Callable[[LabelledMail], None] | None = None
) -> tuple[list[Pair], list[TriageResult]]:
    """Judge every labelled mail with the pipeline; returns (gold, predicted) pairs and the raw results."""
    pairs: list[Pair] = []
    results: list[TriageResult] = []
    for mail in labelled.mails:
        path = labelled.path_of(mail)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            result = TriageResult(file=str(path), error=f"read: {exc.strerror or exc}")
        else:
            result = pipeline.judge(raw, file=str(path))
        results.append(result)
        pairs.append((Judgement.from_label(mail), Judgement.from_result(mail.id, result)))
        if progress is not None:
            progress(mail)
    return pairs, results


def pairs_from(gold: Sequence[LabelledMail], predicted: Sequence[TriageResult]) -> list[Pair]:
    """Pair labels with results already computed, in the same order (for callers that judged elsewhere)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    return [(Judgement.from_label(m), Judgement.from_result(m.id, r)) for m, r in zip(gold, predicted)]
