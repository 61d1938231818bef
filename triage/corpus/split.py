"""Merge newly written label batches into the train/dev/test files.

Pool batches go to train or dev by a stable hash of the mail id (80/20), so a mail never moves
between splits when more are added; batches named as test batches go to test whole.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from triage.corpus.labels import SPLITS, read_labels

DEV_SHARE_PERCENT = 20


def pool_split(mail_id: str) -> str:
    """train or dev, decided by the id alone."""
    bucket = int(hashlib.sha256(mail_id.encode()).hexdigest()[:8], 16) % 100
    return "dev" if bucket < DEV_SHARE_PERCENT else "train"


def _read_raw(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def merge_batches(root: Path, test_batches: set[str], *, remove: bool = True) -> dict[str, int]:
    """Fold labels/batches/*.jsonl into labels/<split>.jsonl; returns how many went where."""
    labels_dir = root / "labels"
    existing = {split: {row["id"]: row for row in _read_raw(labels_dir / f"{split}.jsonl")} for split in SPLITS}
    moved = {split: 0 for split in SPLITS}
    batch_files = sorted((labels_dir / "batches").glob("*.jsonl"))
    for batch in batch_files:
        read_labels(batch)  # fail early, with a line number, on a malformed batch
        for row in _read_raw(batch):
            split = "test" if batch.stem in test_batches else pool_split(row["id"])
            for other in SPLITS:
                existing[other].pop(row["id"], None)
            row.pop("split", None)
            existing[split][row["id"]] = row
            moved[split] += 1
    for split in SPLITS:
        rows = sorted(existing[split].values(), key=lambda r: r["id"])
        (labels_dir / f"{split}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    if remove:
        for batch in batch_files:
            batch.unlink()
    return moved
