"""A rulebook and its rules, as data: what a rule requires or forbids, where it comes from, how it is decided.

The shipped rulebooks live in `triage/rules/rulebooks/*.toml`; `triage.rules.loading` reads and
validates them into these frozen dataclasses. A rule never carries code: it names its check, and
the check (registered in `triage.rules.checks`) does the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RulebookError(ValueError):
    """A rulebook (or a site's override of it) cannot be used; the message says which rule and why."""


@dataclass(frozen=True)
class Example:
    """A short mail that shows a rule (or an exception) at work, and what the check should make of it.

    `expect` is "hit" (the rule fires; for a violation, `evidence` is text its finding must quote)
    or "miss" (the rule stays silent). `chapter` defaults to the rule's first chapter; `to`/`cc`
    and `headers` let header rules be shown; `event` fills EventDetails by hand (the extraction
    stage is not run on examples), so a missing-element rule can be shown with and without it.
    """

    expect: str
    text: str
    subject: str = ""
    evidence: str | None = None
    chapter: str | None = None
    language: str | None = None
    to: str | None = None
    cc: str | None = None
    sender: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class RuleException:
    """An allowed case the rule's text names: when it applies, the rule does not fire.

    `lexicon` names a pattern group ("lexicon:group") the rule's check tests for it.
    """

    id: str
    description: str
    lexicon: str
    scope: str = "sentence"  # sentence | context (with the sentence before) | message
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One requirement (kind "missing") or prohibition (kind "violation") of a rulebook."""

    id: str
    citation: str
    description: dict[str, str]
    kind: str
    code: str
    severity: str
    chapters: tuple[str, ...]
    check: str
    messages: dict[str, str]
    examples: tuple[Example, ...]
    exceptions: tuple[RuleException, ...] = ()
    enabled: bool = True
    #: Whether the check may also use the trained sentence scorer (models/rules/) for this code.
    scorer: bool = False
    #: Free parameters of the check (lexicon names, thresholds) – data, not code.
    params: dict[str, Any] = field(default_factory=dict)

    def applies_to(self, chapter: str | None) -> bool:
        """Whether the rule is checked for messages of this chapter."""
        return chapter is not None and chapter in self.chapters

    def message(self, language: str | None, fallback: str = "sv") -> str:
        """The finding's sentence in the mail's language (else the rulebook's own)."""
        if language and language in self.messages:
            return self.messages[language]
        return self.messages.get(fallback) or next(iter(self.messages.values()))

    def describe(self, language: str = "en") -> str:
        """The description in a language, else the first one written."""
        return self.description.get(language) or next(iter(self.description.values()))


@dataclass(frozen=True)
class Rulebook:
    """The rules of one agreement (se-2026, no-2023): its version, its source and its rules, in order."""

    id: str
    version: str
    title: str
    source: str
    jurisdiction: str
    language: str
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def label(self) -> str:
        """The id and version, as a result stores it ("se-2026@3.0")."""
        return f"{self.id}@{self.version}"
