"""The check stage: run every enabled rule of the message's rulebook that applies to its chapter.

Checks everything, then the decider decides once (STYLE habit 3). The outcome keeps which rules
ran (so a miss can be explained), which hit (its findings), and the rulebook version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from triage.config import RulesConfig
from triage.message.envelope import ParsedMessage
from triage.results import CheckOutcome, Classification, EventDetails, Finding, Routing
from triage.rules.checks import CHECKS, CheckContext, MessageView
from triage.rules.lexicons import Lexicons
from triage.rules.model import Rule, Rulebook, RulebookError
from triage.rules.scorer import SentenceScorer
from triage.vocabulary import LANGUAGES, NOT_INVITATION, SEVERITIES

log = logging.getLogger(__name__)


def validate_overrides(rulebooks: dict[str, Rulebook], settings: RulesConfig) -> None:
    """A site's override must name a shipped rule and a known severity."""
    known = {rule.id for book in rulebooks.values() for rule in book.rules}
    for rule_id, override in settings.overrides.items():
        if rule_id not in known:
            raise RulebookError(f"config rules.overrides: no rule {rule_id!r} in any rulebook")
        if override.severity is not None and override.severity not in SEVERITIES:
            raise RulebookError(
                f"config rules.overrides.{rule_id!r}: severity must be one of {', '.join(SEVERITIES)}"
            )


@dataclass
class RulebookChecker:
    """Implements the Checker stage with the shipped rulebooks, the site's overrides and the scorer."""

    rulebooks: dict[str, Rulebook]
    lexicons: Lexicons
    settings: RulesConfig = field(default_factory=RulesConfig)
    scorer: SentenceScorer | None = None

    def __post_init__(self) -> None:
        validate_overrides(self.rulebooks, self.settings)

    def effective(self, rule: Rule) -> tuple[bool, str]:
        """Whether the rule runs at this site, and with which severity."""
        override = self.settings.overrides.get(rule.id)
        if override is None:
            return rule.enabled, rule.severity
        return override.enabled, override.severity or rule.severity

    def language_for(self, message: ParsedMessage, book: Rulebook) -> str:
        """The language findings are written in: the mail's, else the rulebook's."""
        language = message.language
        return language if language in LANGUAGES else book.language

    def check(
        self, message: ParsedMessage, event: EventDetails, classification: Classification, routing: Routing
    ) -> CheckOutcome:
        """Run every enabled rule of the routed rulebook that applies to the chapter."""
        book = self.rulebooks.get(routing.rulebook or "")
        if book is None:
            return CheckOutcome()
        chapter = classification.chapter
        if chapter is None or chapter == NOT_INVITATION:
            return CheckOutcome(rulebook_version=book.label)
        view = MessageView.of(message)
        language = self.language_for(message, book)
        findings: list[Finding] = []
        ran: list[str] = []
        for rule in book.rules:
            enabled, severity = self.effective(rule)
            if not enabled or not rule.applies_to(chapter):
                continue
            ctx = CheckContext(
                view=view, event=event, classification=classification, routing=routing, rule=rule,
                lexicons=self.lexicons, settings=self.settings, scorer=self.scorer, language=language,
                severity=severity,
            )
            ran.append(rule.id)
            for finding in CHECKS[rule.check](ctx):
                if finding.kind == "violation" and (finding.evidence is None or not finding.evidence.text.strip()):
                    # A violation that cannot quote the mail is not a finding (SPEC §3 convention 6).
                    log.warning("rule %s fired without evidence; dropped", rule.id)
                    continue
                findings.append(finding)
        return CheckOutcome(findings=tuple(findings), rules_ran=tuple(ran), rulebook_version=book.label)
