"""One labelled mail of the corpus, and reading a split's JSON Lines file.

The schema is documented in training_data/LABELLING.md; this module is its code form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPLITS: tuple[str, ...] = ("train", "dev", "test")
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "training_data"


class LabelError(ValueError):
    """A label line that cannot be read at all."""


@dataclass(frozen=True)
class LabelledMail:
    """The gold labels of one corpus mail."""

    id: str
    file: str
    language: str
    jurisdiction: str
    chapter: str
    no_section: str | None
    missing: tuple[str, ...]
    violations: tuple[str, ...]
    violation_evidence: dict[str, list[str]]
    verdict: str
    event: dict[str, Any]
    evidence: dict[str, list[str]]
    tags: tuple[str, ...] = ()
    notes: str = ""
    split: str | None = None
    source_line: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def path(self, root: Path) -> Path:
        return root / self.file


REQUIRED_KEYS = ("id", "file", "language", "jurisdiction", "chapter", "missing", "violations", "verdict", "event")


def parse_label(data: dict[str, Any], *, split: str | None = None, line: int = 0) -> LabelledMail:
    """Build a LabelledMail from one decoded JSON object, or say which key is missing."""
    absent = [key for key in REQUIRED_KEYS if key not in data]
    if absent:
        raise LabelError(f"line {line}: missing key(s) {', '.join(absent)}")
    known = set(REQUIRED_KEYS) | {"no_section", "violation_evidence", "evidence", "tags", "notes", "split"}
    return LabelledMail(
        id=str(data["id"]),
        file=str(data["file"]),
        language=data["language"],
        jurisdiction=data["jurisdiction"],
        chapter=str(data["chapter"]),
        no_section=data.get("no_section"),
        missing=tuple(data.get("missing") or ()),
        violations=tuple(data.get("violations") or ()),
        violation_evidence=dict(data.get("violation_evidence") or {}),
        verdict=data["verdict"],
        event=dict(data.get("event") or {}),
        evidence=dict(data.get("evidence") or {}),
        tags=tuple(data.get("tags") or ()),
        notes=str(data.get("notes") or ""),
        split=split or data.get("split"),
        source_line=line,
        extra={k: v for k, v in data.items() if k not in known},
    )


def read_labels(path: Path, split: str | None = None) -> list[LabelledMail]:
    """Every label of one JSON Lines file, in file order."""
    records: list[LabelledMail] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{path.name} line {number}: not JSON: {exc}") from None
        records.append(parse_label(data, split=split, line=number))
    return records


def load_split(split: str, root: Path = DEFAULT_ROOT) -> list[LabelledMail]:
    """The labels of train, dev or test."""
    if split not in SPLITS:
        raise LabelError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    path = root / "labels" / f"{split}.jsonl"
    if not path.is_file():
        raise LabelError(f"no labels file {path}")
    return read_labels(path, split)


def load_corpus(root: Path = DEFAULT_ROOT) -> list[LabelledMail]:
    """All three splits, train first."""
    return [record for split in SPLITS for record in load_split(split, root)]
