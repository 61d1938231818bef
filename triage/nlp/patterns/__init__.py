"""The pattern files of the extraction components: one JSON object per line, each with an `id`.

A matched span carries its pattern's id (`span.id_`), so evidence can say which pattern found it.
Files: cues.jsonl (field labels such as "Plats:"), costs.jsonl (cost items and who pays),
online.jsonl (online / on-site words), orgs.jsonl (organisation-name shapes), contact.jsonl.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PATTERN_DIR = Path(__file__).resolve().parent


class PatternError(ValueError):
    """A pattern file that cannot be used: bad JSON, a missing key or a duplicate id."""


@lru_cache(maxsize=None)
def load_patterns(name: str) -> tuple[dict[str, Any], ...]:
    """The patterns of `<name>.jsonl`, validated: every line has a unique `id` and a `label`."""
    path = PATTERN_DIR / f"{name}.jsonl"
    patterns: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PatternError(f"{path.name} line {number}: not JSON: {exc}") from None
        for key in ("id", "label"):
            if key not in item:
                raise PatternError(f"{path.name} line {number}: no {key!r}")
        if item["id"] in seen:
            raise PatternError(f"{path.name} line {number}: duplicate id {item['id']!r}")
        seen.add(item["id"])
        patterns.append(item)
    return tuple(patterns)
