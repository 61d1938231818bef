"""Run a rule's shipped examples: build the short mail, check it with that one rule, compare.

SpamAssassin keeps `test RULE ok|fail <sample>` beside its rules; here every rule (and every
exception) carries hit and miss examples in its rulebook, and this module is what the test suite
and `triage rules explain` use to run them. Examples run on the patterns alone (no trained scorer),
with the event details the example gives by hand (extraction is another stage).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from triage.config import RulesConfig
from triage.message.envelope import ParsedMessage
from triage.message.parse import parse_message
from triage.results import Classification, EventDetails, Finding, Routing
from triage.rules.checker import RulebookChecker
from triage.rules.lexicons import Lexicons
from triage.rules.model import Example, Rule, Rulebook

#: Where an example mail is addressed when it does not say: the unit's function mailbox.
DEFAULT_TO = {"SE": "Samverkan Medicinkliniken <samverkan.medicin@regionexempel.se>",
              "NO": "Postmottak <postmottak@helse-eksempel.no>"}
DEFAULT_FROM = {"SE": "Anna Lind <anna.lind@exempelpharma.se>", "NO": "Kari Nord <kari.nord@eksempelpharma.no>"}


@dataclass(frozen=True)
class ExampleResult:
    """What one example produced, and whether that is what it expects."""

    rule: Rule
    example: Example
    findings: tuple[Finding, ...]
    exception: str | None = None

    @property
    def fired(self) -> bool:
        """Whether the rule made a finding on the example."""
        return bool(self.findings)

    @property
    def ok(self) -> bool:
        """Whether the example behaved as it expects."""
        return not self.problems()

    def problems(self) -> list[str]:
        """What went against the example's expectation, one sentence each."""
        out: list[str] = []
        if self.example.expect == "miss":
            if self.findings:
                quoted = self.findings[0].evidence.text if self.findings[0].evidence else None
                out.append(f"expected no finding, got one (evidence {quoted!r})")
            return out
        if not self.findings:
            return ["expected a finding, got none"]
        finding = self.findings[0]
        if finding.rule != self.rule.id:
            out.append(f"finding names rule {finding.rule!r}")
        if self.example.evidence is not None:
            text = finding.evidence.text if finding.evidence else ""
            if self.example.evidence not in text:
                out.append(f"evidence {text!r} does not quote {self.example.evidence!r}")
        if self.rule.kind == "violation" and (finding.evidence is None or not finding.evidence.text):
            out.append("a violation finding without evidence")
        return out


def example_message(example: Example, jurisdiction: str) -> ParsedMessage:
    """The example as a parsed mail: its text as the body, the function mailbox as recipient."""
    mail = EmailMessage()
    mail["From"] = example.sender or DEFAULT_FROM.get(jurisdiction, DEFAULT_FROM["SE"])
    mail["To"] = example.to or DEFAULT_TO.get(jurisdiction, DEFAULT_TO["SE"])
    if example.cc:
        mail["Cc"] = example.cc
    mail["Subject"] = example.subject or "Inbjudan"
    mail["Date"] = format_datetime(datetime(2026, 2, 2, 9, 0).astimezone())
    mail["Message-ID"] = "<example@triage.invalid>"
    mail.set_content(example.text)
    return parse_message(mail.as_bytes())


def example_event(data: dict) -> EventDetails:
    """EventDetails filled by hand from an example's `event` table."""
    values = dict(data)
    for key in ("start", "end"):
        if isinstance(values.get(key), str):
            values[key] = datetime.fromisoformat(values[key])
    if isinstance(values.get("registration_deadline"), str):
        values["registration_deadline"] = date.fromisoformat(values["registration_deadline"])
    return EventDetails(**values)


def run_example(
    book: Rulebook, rule: Rule, example: Example, lexicons: Lexicons, settings: RulesConfig | None = None,
) -> list[Finding]:
    """The findings the one rule makes on the example (its other rules are not run)."""
    single = replace(book, rules=(replace(rule, enabled=True),))
    checker = RulebookChecker({book.id: single}, lexicons, settings or RulesConfig(), scorer=None)
    message = example_message(example, book.jurisdiction)
    chapter = example.chapter or rule.chapters[0]
    routing = Routing(jurisdiction=book.jurisdiction, rulebook=book.id)
    outcome = checker.check(message, example_event(example.event), Classification(chapter=chapter, confidence=1.0), routing)
    return list(outcome.findings)


def run_rule_examples(book: Rulebook, rule: Rule, lexicons: Lexicons) -> list[ExampleResult]:
    """Every example of the rule and of its exceptions, run."""
    results = [ExampleResult(rule, ex, tuple(run_example(book, rule, ex, lexicons))) for ex in rule.examples]
    for exc in rule.exceptions:
        for ex in exc.examples:
            results.append(ExampleResult(rule, ex, tuple(run_example(book, rule, ex, lexicons)), exception=exc.id))
    return results
