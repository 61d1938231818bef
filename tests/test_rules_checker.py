"""The check stage: which rulebook, which rules, site overrides, evidence required, what is recorded."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage

import numpy as np
import pytest

from triage.classify.compiled import Block
from triage.config import RuleOverride, RulesConfig, Settings
from triage.message.parse import parse_message
from triage.pipeline.stages import VerdictDecider
from triage.results import Classification, EventDetails, Routing
from triage.rules import checks
from triage.rules.checker import RulebookChecker
from triage.rules.lexicons import load_lexicons
from triage.rules.loader import load_checker
from triage.rules.loading import load_rulebooks
from triage.rules.model import RulebookError
from triage.rules.scorer import SentenceScorer

LEXICONS = load_lexicons()
BOOKS = load_rulebooks(lexicons=LEXICONS)
SE = Routing(jurisdiction="SE", rulebook="se-2026")
NO = Routing(jurisdiction="NO", rulebook="no-2023")


def mail(body: str, *, to: str = "samverkan.kardiologi@regionexempel.se", cc: str | None = None, subject: str = "Inbjudan"):
    message = EmailMessage()
    message["From"] = "Anna Lind <anna.lind@exempelpharma.se>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = "<t@example.invalid>"
    message.set_content(body)
    return parse_message(message.as_bytes())


TRAVEL = mail(
    "Välkommen till vår utbildning om hjärtsvikt i Stockholm. Vi bokar och betalar flyg tur och retur "
    "för alla deltagare. Syfte: att gå igenom nya riktlinjer."
)
FULL_EVENT = EventDetails(purpose="nya riktlinjer", content="riktlinjer", target_group="kardiologer",
                          duration_minutes=120, location="Stockholm", costs_covered=["meal"])


def checker(**overrides) -> RulebookChecker:
    settings = RulesConfig(overrides={k: RuleOverride(**v) for k, v in overrides.items()})
    return RulebookChecker(BOOKS, LEXICONS, settings)


def test_findings_cite_rule_code_and_evidence():
    outcome = checker().check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    travel = [f for f in outcome.findings if f.code == "travel_paid_by_industry"]
    assert len(travel) == 1
    finding = travel[0]
    assert finding.rule == "se-2026/3.1/travel" and finding.kind == "violation" and finding.severity == "high"
    assert "flyg tur och retur" in finding.evidence.text
    assert finding.citation.startswith("Specifikation kap. 3.1")
    section = next(s for s in TRAVEL.sections if s.source == finding.evidence.source)
    assert section.text[finding.evidence.start:finding.evidence.end] == finding.evidence.text
    assert outcome.violations == ["travel_paid_by_industry"]
    assert outcome.rulebook_version == "se-2026@1"


def test_every_applicable_rule_runs_and_is_recorded_hit_or_miss():
    outcome = checker().check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    expected = [r.id for r in BOOKS["se-2026"].rules if "3.2" in r.chapters]
    assert list(outcome.rules_ran) == expected
    assert "se-2026/3.4/meal-only" not in outcome.rules_ran  # a 3.4 rule does not run for 3.2
    assert set(outcome.rules_hit) <= set(outcome.rules_ran)


def test_a_rule_runs_only_in_its_chapters():
    outcome = checker().check(TRAVEL, FULL_EVENT, Classification(chapter="1.1"), SE)
    assert "travel_paid_by_industry" not in outcome.violations
    assert "se-2026/3.1/travel" not in outcome.rules_ran


def test_not_an_invitation_runs_no_rule_but_keeps_the_version():
    outcome = checker().check(TRAVEL, FULL_EVENT, Classification(chapter="not_invitation"), SE)
    assert outcome.findings == () and outcome.rules_ran == () and outcome.rulebook_version == "se-2026@1"


def test_without_a_chapter_or_rulebook_nothing_is_claimed():
    assert checker().check(TRAVEL, FULL_EVENT, Classification(), SE).findings == ()
    assert checker().check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), Routing()).rulebook_version is None


def test_the_routing_picks_the_rulebook():
    message = mail("Hei! Jeg stikker innom avdelingen på torsdag, ingen grunn til å avtale noe på forhånd. "
                   "Eksempel AS betaler lunsjen.", to="postmottak@helse-eksempel.no")
    outcome = checker().check(message, EventDetails(organizer="Eksempel AS", costs_covered=["meal"]),
                              Classification(chapter="3.2"), NO)
    assert outcome.rulebook_version == "no-2023@1"
    assert all(rule.startswith("no-2023/") for rule in outcome.rules_ran)
    assert outcome.violations == ["meeting_not_preagreed"]
    assert outcome.findings[0].message == BOOKS["no-2023"].rule("no-2023/5/agreed-meetings").messages["nb"]


def test_missing_elements_come_from_the_event_and_have_no_evidence():
    message = mail("Välkommen på lunchmöte.")
    outcome = checker().check(message, EventDetails(purpose="uppdatering", location="Aulan"),
                              Classification(chapter="2"), SE)
    assert outcome.missing == ["content", "target_group", "duration"]
    assert all(f.evidence is None for f in outcome.findings if f.kind == "missing")


def test_a_site_can_switch_a_rule_off():
    outcome = checker(**{"se-2026/3.1/travel": {"enabled": False}}).check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    assert "travel_paid_by_industry" not in outcome.violations
    assert "se-2026/3.1/travel" not in outcome.rules_ran


def test_a_site_can_change_a_severity():
    outcome = checker(**{"se-2026/3.1/travel": {"severity": "low"}}).check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    assert [f.severity for f in outcome.findings if f.code == "travel_paid_by_industry"] == ["low"]


def test_an_override_for_an_unknown_rule_is_refused():
    with pytest.raises(RulebookError, match="no rule 'se-2026/3.1/flights'"):
        checker(**{"se-2026/3.1/flights": {"enabled": False}})


def test_an_override_with_an_unknown_severity_is_refused():
    with pytest.raises(RulebookError, match="severity must be one of"):
        checker(**{"se-2026/3.1/travel": {"severity": "urgent"}})


def test_load_checker_applies_the_settings(tmp_path):
    settings = Settings(models_dir=str(tmp_path), rules=RulesConfig(overrides={"se-2026/3.1/travel": RuleOverride(enabled=False)}))
    loaded = load_checker(settings)
    assert isinstance(loaded, RulebookChecker) and loaded.scorer is None
    outcome = loaded.check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    assert "se-2026/3.1/travel" not in outcome.rules_ran
    bad = Settings(models_dir=str(tmp_path), rules=RulesConfig(overrides={"nope": RuleOverride()}))
    with pytest.raises(RulebookError):
        load_checker(bad)


def test_a_violation_without_evidence_is_dropped(monkeypatch):
    monkeypatch.setitem(checks.CHECKS, "paid_travel", lambda ctx: [ctx.finding(None, 0.9)])
    outcome = checker().check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    assert "travel_paid_by_industry" not in outcome.violations
    assert "se-2026/3.1/travel" in outcome.rules_ran


def _surprise_block() -> Block:
    """Stands in for TF-IDF: one word feature, 1.0 for a sentence that mentions a surprise (no idf, no norm)."""
    return Block(name="words", kind="word", source="text", terms=["överraskning"],
                 weights=np.array([[0.2]], dtype=np.float32), token_pattern=r"(?u)\b\w+\b")


def test_scorer_findings_quote_the_sentence_and_low_confidence_asks_for_review():
    # logit = 0.2 * 1 - 0.3 < 0 → probability 0.475 for the surprise sentence: above its threshold, below review level
    scorer = SentenceScorer(codes=("entertainment",), blocks=[_surprise_block()], intercept=np.array([-0.3]),
                            thresholds={"entertainment": 0.45})
    message = mail("Vi bjuder in till en kväll ombord med utsikt. Kvällen blir en överraskning med föreläsning.")
    rule_checker = RulebookChecker({"se-2026": replace(BOOKS["se-2026"])}, LEXICONS, RulesConfig(), scorer)
    outcome = rule_checker.check(message, FULL_EVENT, Classification(chapter="3.2"), SE)
    found = [f for f in outcome.findings if f.code == "entertainment"]
    assert found and found[0].evidence.text == "Kvällen blir en överraskning med föreläsning."
    assert found[0].confidence == pytest.approx(0.475, abs=0.001)
    decision = VerdictDecider(finding_review_threshold=0.5).decide(Classification(chapter="3.2"), outcome)
    assert decision.verdict == "non_compliant" and decision.needs_review and "finding_uncertain" in decision.reasons


def test_pattern_findings_do_not_ask_for_review():
    outcome = checker().check(TRAVEL, FULL_EVENT, Classification(chapter="3.2"), SE)
    decision = VerdictDecider(finding_review_threshold=0.5).decide(Classification(chapter="3.2"), outcome)
    assert decision.verdict == "non_compliant" and not decision.needs_review
