"""One judgement of one mail in the form evaluation compares: gold labels or triage's answer.

Both sides of a comparison are a `Judgement`, so every metric is a function of (gold, predicted)
pairs. Gold comes from a corpus label (`from_label`); the prediction from a TriageResult
(`from_result`) or its stored SPEC §4 JSON (`from_result_json`); a reviewer's correction can be
turned into a gold Judgement the same way, which is how reviewer agreement plugs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from triage.corpus.labels import LabelledMail
from triage.results import TriageResult


@dataclass(frozen=True)
class Judgement:
    """What one side says about one mail; `event` is the SPEC §4 event object (JSON values)."""

    id: str
    chapter: str | None
    missing: frozenset[str] = frozenset()
    violations: frozenset[str] = frozenset()
    verdict: str | None = None
    event: Mapping[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    needs_review: bool | None = None
    #: The classifier's own doubt (confidence below the threshold), when known.
    chapter_uncertain: bool | None = None
    language: str | None = None
    jurisdiction: str | None = None
    error: str | None = None

    @classmethod
    def from_label(cls, mail: LabelledMail) -> Judgement:
        """The gold judgement of a corpus mail."""
        return cls(
            id=mail.id, chapter=mail.chapter, missing=frozenset(mail.missing), violations=frozenset(mail.violations),
            verdict=mail.verdict, event=dict(mail.event), language=mail.language, jurisdiction=mail.jurisdiction,
        )

    @classmethod
    def from_result(cls, mail_id: str, result: TriageResult) -> Judgement:
        """triage's judgement, straight from the pipeline's result."""
        return cls(
            id=mail_id,
            chapter=result.classification.chapter,
            missing=frozenset(result.check.missing),
            violations=frozenset(result.check.violations),
            verdict=result.decision.verdict,
            event=result.event.to_json(),
            confidence=result.classification.confidence,
            needs_review=result.decision.needs_review,
            chapter_uncertain=result.classification.needs_review if result.classification.chapter else None,
            language=result.language,
            jurisdiction=result.routing.jurisdiction,
            error=result.error,
        )

    @classmethod
    def from_result_json(cls, mail_id: str, data: Mapping[str, Any]) -> Judgement:
        """triage's judgement from its SPEC §4 JSON (as `triage process --json` prints or the DB stores)."""
        return cls(
            id=mail_id,
            chapter=data.get("chapter"),
            missing=frozenset(data.get("missing") or ()),
            violations=frozenset(data.get("violations") or ()),
            verdict=data.get("verdict"),
            event=dict(data.get("event") or {}),
            confidence=data.get("chapter_confidence"),
            needs_review=data.get("needs_review"),
            language=data.get("language"),
            jurisdiction=data.get("jurisdiction"),
            error=data.get("error"),
        )
