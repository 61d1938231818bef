"""Typed results of the judging stages, and their SPEC §4 JSON form.

Stages fill these in; nothing passes loose dicts between stages. `TriageResult.to_json()` is the
one place that knows the shape of `triage process --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """The text a value or finding came from, and where it stands.

    `source`/`part` name the Section (subject, body, forwarded + "forwarded[0]", attachment + file
    name, header + header name); `start`/`end` are offsets into that section's text, or None when
    the evidence is not a span of text (a header value, say).
    """

    text: str
    source: str
    part: str | None = None
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "part": self.part, "start": self.start, "end": self.end}


#: Event fields of SPEC §4, in output order.
EVENT_FIELDS: tuple[str, ...] = (
    "title", "organizer", "sponsors", "arranger", "start", "end", "duration_minutes", "location",
    "online", "target_group", "purpose", "content", "costs_covered", "registration_deadline",
    "contact", "products",
)


@dataclass
class EventDetails:
    """What extraction found about the proposed event; a field not found stays None or empty.

    `evidence` maps a field name to the spans it was read from; `amounts` keeps stated money
    amounts (e.g. {"text": "450 kr per person", "amount": 450, "currency": "SEK", "per_person": True}).
    """

    title: str | None = None
    organizer: str | None = None
    sponsors: list[str] = field(default_factory=list)
    arranger: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration_minutes: int | None = None
    location: str | None = None
    online: bool | None = None
    target_group: str | None = None
    purpose: str | None = None
    content: str | None = None
    costs_covered: list[str] = field(default_factory=list)
    registration_deadline: date | None = None
    contact: str | None = None
    products: list[str] = field(default_factory=list)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    amounts: list[dict[str, Any]] = field(default_factory=list)

    def add_evidence(self, field_name: str, evidence: Evidence) -> None:
        self.evidence.setdefault(field_name, []).append(evidence)

    def to_json(self) -> dict[str, Any]:
        """The `event` object of SPEC §4: values only, ISO dates, null when not found."""
        out: dict[str, Any] = {}
        for name in EVENT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, (datetime, date)):
                value = value.isoformat()
            elif isinstance(value, list):
                value = list(value)
            out[name] = value
        return out


@dataclass(frozen=True)
class Finding:
    """One rule hit: a missing element or a violation, citing its rule and quoting its evidence."""

    rule: str
    kind: str  # "missing" or "violation"
    code: str
    severity: str
    message: str
    evidence: Evidence | None = None
    citation: str | None = None
    confidence: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence.text if self.evidence else None,
        }


@dataclass(frozen=True)
class Classification:
    """The chapter the message belongs to, how sure the model is, and which model said so."""

    chapter: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    needs_review: bool = False


@dataclass(frozen=True)
class Routing:
    """Which jurisdiction and rulebook apply, and the Norwegian clause that decides the chapter."""

    jurisdiction: str | None = None
    rulebook: str | None = None
    no_section: str | None = None


@dataclass(frozen=True)
class CheckOutcome:
    """Everything the rule check did: the findings, and which rules ran and missed (STYLE habit 3)."""

    findings: tuple[Finding, ...] = ()
    rules_ran: tuple[str, ...] = ()
    rulebook_version: str | None = None

    @property
    def rules_hit(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.rule for f in self.findings))

    @property
    def missing(self) -> list[str]:
        return list(dict.fromkeys(f.code for f in self.findings if f.kind == "missing"))

    @property
    def violations(self) -> list[str]:
        return list(dict.fromkeys(f.code for f in self.findings if f.kind == "violation"))


@dataclass(frozen=True)
class Decision:
    """The verdict, decided once from the classification and the check."""

    verdict: str | None = None
    needs_review: bool = False
    reasons: tuple[str, ...] = ()


@dataclass
class TriageResult:
    """The whole judgement of one message: what `triage process --json` prints and the DB stores."""

    file: str | None
    message_id: str | None = None
    raw_sha256: str | None = None
    subject: str | None = None
    sender: str | None = None
    language: str | None = None
    routing: Routing = field(default_factory=Routing)
    classification: Classification = field(default_factory=Classification)
    event: EventDetails = field(default_factory=EventDetails)
    check: CheckOutcome = field(default_factory=CheckOutcome)
    decision: Decision = field(default_factory=Decision)
    error: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The SPEC §4 object, key for key; `error` only when the message could not be judged."""
        out: dict[str, Any] = {
            "file": self.file,
            "message_id": self.message_id,
            "language": self.language,
            "jurisdiction": self.routing.jurisdiction,
            "rulebook": self.routing.rulebook,
            "chapter": self.classification.chapter,
            "chapter_confidence": (
                round(self.classification.confidence, 4) if self.classification.confidence is not None else None
            ),
            "no_section": self.routing.no_section,
            "needs_review": self.decision.needs_review,
            "event": self.event.to_json(),
            "missing": self.check.missing,
            "violations": self.check.violations,
            "findings": [f.to_json() for f in self.check.findings],
            "verdict": self.decision.verdict,
        }
        if self.error is not None:
            out["error"] = self.error
        return out
