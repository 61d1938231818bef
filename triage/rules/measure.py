"""Measure the rule check on a corpus split: per-code precision/recall/F1, micro averages, verdict accuracy.

Used while tuning (on train and dev only) and by `triage rules measure`. The chapter can be the
gold one (to measure the rules alone) or the classifier's; the event can be the gold one, the
extractor's, or none (the rules' own patterns only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from triage.classify.routing import JurisdictionRouter
from triage.corpus.labels import DEFAULT_ROOT, LabelledMail
from triage.message.envelope import ParsedMessage
from triage.message.parse import parse_message
from triage.pipeline.stages import Checker, Extractor
from triage.results import CheckOutcome, Classification, EventDetails
from triage.vocabulary import MISSING_CODES, VIOLATION_CODES, verdict_for


def event_from_gold(data: dict[str, Any]) -> EventDetails:
    """EventDetails from a label's `event` object (for measuring the rules without extraction)."""
    def when(value: str | None) -> datetime | None:
        """A datetime from an ISO string, or None."""
        return datetime.fromisoformat(value) if value else None

    deadline = data.get("registration_deadline")
    return EventDetails(
        title=data.get("title"), organizer=data.get("organizer"), sponsors=list(data.get("sponsors") or []),
        arranger=data.get("arranger"), start=when(data.get("start")), end=when(data.get("end")),
        duration_minutes=data.get("duration_minutes"), location=data.get("location"), online=data.get("online"),
        target_group=data.get("target_group"), purpose=data.get("purpose"), content=data.get("content"),
        costs_covered=list(data.get("costs_covered") or []),
        registration_deadline=date.fromisoformat(deadline) if deadline else None,
        contact=data.get("contact"), products=list(data.get("products") or []),
    )


@dataclass
class Counts:
    """True and false positives and false negatives of one code."""
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was found."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        """How many mails carry the code in the gold labels."""
        return self.tp + self.fn


@dataclass
class Report:
    """What a measurement found, with the mails behind every error (for tuning)."""

    missing: dict[str, Counts] = field(default_factory=lambda: {c: Counts() for c in MISSING_CODES})
    violations: dict[str, Counts] = field(default_factory=lambda: {c: Counts() for c in VIOLATION_CODES})
    verdicts: Counter = field(default_factory=Counter)
    mails: int = 0
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, kind, code, fp|fn)
    review: int = 0

    def micro(self, table: dict[str, Counts]) -> Counts:
        """The counts of a table summed over its codes."""
        total = Counts()
        for c in table.values():
            total.tp += c.tp
            total.fp += c.fp
            total.fn += c.fn
        return total

    @property
    def verdict_accuracy(self) -> float:
        """The share of mails whose verdict matches the label."""
        return self.verdicts["right"] / self.mails if self.mails else 0.0

    def worst(self, n: int = 5) -> list[tuple[str, Counts]]:
        """The n codes with the lowest F1 (ties: the most frequent first)."""
        rows = [(code, c) for code, c in {**self.missing, **self.violations}.items() if c.support or c.fp]
        return sorted(rows, key=lambda row: (row[1].f1, -row[1].support))[:n]

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain data, for JSON."""
        def table(t: dict[str, Counts]) -> dict[str, Any]:
            """Per-code figures of one table."""
            return {code: {"precision": round(c.precision, 4), "recall": round(c.recall, 4), "f1": round(c.f1, 4),
                           "support": c.support, "fp": c.fp} for code, c in t.items() if c.support or c.fp}

        mm, mv = self.micro(self.missing), self.micro(self.violations)
        return {
            "mails": self.mails,
            "verdict_accuracy": round(self.verdict_accuracy, 4),
            "missing_micro": {"precision": round(mm.precision, 4), "recall": round(mm.recall, 4), "f1": round(mm.f1, 4)},
            "violation_micro": {"precision": round(mv.precision, 4), "recall": round(mv.recall, 4), "f1": round(mv.f1, 4)},
            "missing": table(self.missing),
            "violations": table(self.violations),
        }


def score(report: Report, mail: LabelledMail, outcome: CheckOutcome, chapter: str | None) -> None:
    """Add one mail's outcome to the report."""
    report.mails += 1
    for kind, table, gold, found in (
        ("missing", report.missing, set(mail.missing), set(outcome.missing)),
        ("violation", report.violations, set(mail.violations), set(outcome.violations)),
    ):
        for code in gold | found:
            counts = table.setdefault(code, Counts())
            if code in gold and code in found:
                counts.tp += 1
            elif code in found:
                counts.fp += 1
                report.errors.append((mail.id, kind, code, "fp"))
            else:
                counts.fn += 1
                report.errors.append((mail.id, kind, code, "fn"))
    verdict = verdict_for(chapter, outcome.missing, outcome.violations)
    report.verdicts["right" if verdict == mail.verdict else "wrong"] += 1


def measure(
    mails: Iterable[LabelledMail],
    checker: Checker,
    *,
    root: Path = DEFAULT_ROOT,
    extractor: Extractor | None = None,
    classify: Callable[[ParsedMessage, EventDetails], Classification] | None = None,
    gold_event: bool = False,
) -> Report:
    """Run the checker over mails and count what it got right; gold chapter unless `classify` is given."""
    report = Report()
    router = JurisdictionRouter()
    for mail in mails:
        message = parse_message(mail.path(root).read_bytes())
        if gold_event:
            event = event_from_gold(mail.event)
        elif extractor is not None:
            event = extractor.extract(message)
        else:
            event = EventDetails()
        classification = classify(message, event) if classify else Classification(chapter=mail.chapter, confidence=1.0)
        routing = router.route(message, classification)
        outcome = checker.check(message, event, classification, routing)
        score(report, mail, outcome, classification.chapter)
    return report


def format_report(report: Report) -> str:
    """A plain-text table: one line per code, the micro averages, the verdict accuracy, the worst five."""
    lines = [f"{'code':<32}{'kind':<10}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}{'fp':>5}"]
    for kind, table in (("missing", report.missing), ("violation", report.violations)):
        for code, c in table.items():
            if c.support or c.fp:
                lines.append(f"{code:<32}{kind:<10}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}{c.support:5d}{c.fp:5d}")
    mm, mv = report.micro(report.missing), report.micro(report.violations)
    lines.append(f"{'missing (micro)':<42}{mm.precision:7.3f}{mm.recall:7.3f}{mm.f1:7.3f}{mm.support:5d}{mm.fp:5d}")
    lines.append(f"{'violations (micro)':<42}{mv.precision:7.3f}{mv.recall:7.3f}{mv.f1:7.3f}{mv.support:5d}{mv.fp:5d}")
    lines.append(f"verdict accuracy {report.verdict_accuracy:.3f} over {report.mails} mails")
    lines.append("worst: " + ", ".join(f"{code} (F1 {c.f1:.2f})" for code, c in report.worst()))
    return "\n".join(lines)
