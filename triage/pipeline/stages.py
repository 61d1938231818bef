"""The interfaces of the judging stages, and the null stages used until a real one is loaded.

Each stage is a small object with one job. A null stage returns the empty result (None / []),
never an invented value: output of an unbuilt stage is honest about knowing nothing.
"""

from __future__ import annotations

from typing import Protocol

from triage.message.envelope import ParsedMessage
from triage.results import CheckOutcome, Classification, Decision, EventDetails, Routing
from triage.vocabulary import verdict_for


class Extractor(Protocol):
    """Reads the event details (with evidence) out of a parsed message."""

    def extract(self, message: ParsedMessage) -> EventDetails: ...


class Classifier(Protocol):
    """Decides the rule chapter, with a calibrated confidence."""

    def classify(self, message: ParsedMessage, event: EventDetails) -> Classification: ...


class Router(Protocol):
    """Decides jurisdiction, rulebook and the Norwegian section."""

    def route(self, message: ParsedMessage, classification: Classification) -> Routing: ...


class Checker(Protocol):
    """Runs the rulebook's rules and returns every finding with its evidence."""

    def check(
        self, message: ParsedMessage, event: EventDetails, classification: Classification, routing: Routing
    ) -> CheckOutcome: ...


class Decider(Protocol):
    """Turns the classification and the findings into one verdict."""

    def decide(self, classification: Classification, outcome: CheckOutcome) -> Decision: ...


class NullExtractor:
    """Extracts nothing: every event field stays null until the NLP stage is built or loaded."""

    def extract(self, message: ParsedMessage) -> EventDetails:
        return EventDetails()


class NullClassifier:
    """Knows no chapter: chapter and confidence stay null."""

    def classify(self, message: ParsedMessage, event: EventDetails) -> Classification:
        return Classification()


class NullChecker:
    """Runs no rules."""

    def check(
        self, message: ParsedMessage, event: EventDetails, classification: Classification, routing: Routing
    ) -> CheckOutcome:
        return CheckOutcome()


class VerdictDecider:
    """SPEC §3 convention 7, plus needs_review when the classifier was unsure or a finding was."""

    def __init__(self, finding_review_threshold: float = 0.5) -> None:
        self.finding_review_threshold = finding_review_threshold

    def decide(self, classification: Classification, outcome: CheckOutcome) -> Decision:
        verdict = verdict_for(classification.chapter, outcome.missing, outcome.violations)
        reasons: list[str] = []
        if classification.needs_review:
            reasons.append("chapter_uncertain")
        if any(f.confidence < self.finding_review_threshold for f in outcome.findings):
            reasons.append("finding_uncertain")
        return Decision(verdict=verdict, needs_review=bool(reasons), reasons=tuple(reasons))
