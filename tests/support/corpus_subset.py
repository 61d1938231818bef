"""A small copy of the corpus (a few mails per chapter) for tests that train or evaluate quickly."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

from triage.corpus.labels import DEFAULT_ROOT

TRAIN_PER_CHAPTER = 6
DEV_PER_CHAPTER = 2


def _rows(split: str) -> list[dict]:
    path = DEFAULT_ROOT / "labels" / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _first_per_chapter(rows: list[dict], per_chapter: int) -> list[dict]:
    taken: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if len(taken[row["chapter"]]) < per_chapter:
            taken[row["chapter"]].append(row)
    return [row for chapter in sorted(taken) for row in taken[chapter]]


def small_corpus(root: Path, train_per_chapter: int = TRAIN_PER_CHAPTER, dev_per_chapter: int = DEV_PER_CHAPTER) -> Path:
    """Write labels/{train,dev,test}.jsonl and the mails they name under `root`; test stays empty."""
    (root / "labels").mkdir(parents=True)
    (root / "mails").mkdir()
    for split, per in (("train", train_per_chapter), ("dev", dev_per_chapter), ("test", 0)):
        rows = _first_per_chapter(_rows(split), per) if per else []
        for row in rows:
            shutil.copy(DEFAULT_ROOT / row["file"], root / row["file"])
        (root / "labels" / f"{split}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return root
