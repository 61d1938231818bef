"""The checks rules name: small functions, registered by name, that return findings with evidence.

A check gets a `CheckContext` (the parsed mail, the extracted event, the chapter, the rule being
decided, the lexicons, the site limits, the trained sentence scorer) and returns a list of
`Finding`s built with `ctx.finding(...)`; an empty list is a miss. A violation finding always
quotes its evidence: the checker drops (and counts) any that does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from triage.config import RulesConfig
from triage.message.envelope import ParsedMessage
from triage.results import Classification, EventDetails, Evidence, Finding, Routing
from triage.rules.lexicons import Lexicons, PatternMatch
from triage.rules.model import Rule
from triage.rules.text import Unit, message_units, negated

if TYPE_CHECKING:
    import numpy as np

    from triage.rules.scorer import SentenceScorer

CheckFunction = Callable[["CheckContext"], list[Finding]]
CHECKS: dict[str, CheckFunction] = {}
#: What each check needs to be told in its rule's `params` (validated when a rulebook loads).
CHECK_PARAMS: dict[str, tuple[str, ...]] = {}

#: Confidence of a finding that a lexicon pattern made (a scorer hit carries its own probability).
PATTERN_CONFIDENCE = 0.9


def register_check(name: str, *, params: tuple[str, ...] = ()) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: make a check known to rulebooks under `name`."""

    def decorate(func: CheckFunction) -> CheckFunction:
        """Register the function under the name."""
        if name in CHECKS and CHECKS[name] is not func:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = func
        CHECK_PARAMS[name] = params
        return func

    return decorate


@dataclass
class MessageView:
    """What all rules share for one message: its units, cut once, and their scores, computed once."""

    message: ParsedMessage
    units: list[Unit] = field(default_factory=list)
    #: The sentence scorer's probabilities (every code) by unit text, filled on the first rule that asks.
    scores: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, message: ParsedMessage) -> MessageView:
        """The view of a message: its units, cut once."""
        return cls(message, message_units(message))


@dataclass
class Hit:
    """A unit a check found, with the pattern (or scorer) that found it."""

    unit: Unit
    start: int
    end: int
    confidence: float = PATTERN_CONFIDENCE
    ref: str = ""

    def evidence(self) -> Evidence:
        """The evidence span of the hit."""
        return self.unit.evidence(self.start, self.end)


@dataclass
class CheckContext:
    """Everything one check may look at while it decides one rule for one message."""

    view: MessageView
    event: EventDetails
    classification: Classification
    routing: Routing
    rule: Rule
    lexicons: Lexicons
    settings: RulesConfig = field(default_factory=RulesConfig)
    scorer: SentenceScorer | None = None
    language: str = "sv"
    severity: str | None = None

    # --- what the mail says ------------------------------------------------------------------

    @property
    def message(self) -> ParsedMessage:
        """The parsed mail being checked."""
        return self.view.message

    @property
    def chapter(self) -> str | None:
        """The chapter the classifier (or the caller) decided."""
        return self.classification.chapter

    @property
    def jurisdiction(self) -> str:
        """SE or NO, as routed (SE when unknown)."""
        return self.routing.jurisdiction or "SE"

    @property
    def currency(self) -> str:
        """What "kr" means in this jurisdiction: SEK or NOK."""
        return "NOK" if self.jurisdiction == "NO" else "SEK"

    def units(self, *, signature: bool = False) -> list[Unit]:
        """The units the rules read: the subject, the bodies, forwards and attachments (not the signature)."""
        return [u for u in self.view.units if signature or u.source != "signature"]

    def param(self, name: str, default: object = None) -> object:
        """A parameter of the rule being decided, from its rulebook entry."""
        return self.rule.params.get(name, default)

    # --- pattern search ----------------------------------------------------------------------

    def matches(self, ref: str, unit: Unit) -> list[PatternMatch]:
        """Every match of a lexicon group in one unit."""
        return list(self.lexicons.finditer(ref, unit.text))

    def has(self, ref: str | Iterable[str], text: str) -> bool:
        """Whether the text matches any of the groups."""
        refs = [ref] if isinstance(ref, str) else list(ref)
        return any(self.lexicons.any(r, text) for r in refs)

    def excepted(self, unit: Unit) -> str | None:
        """The id of an exception of the rule that this unit states ("sentence" scope), or that it
        and the sentence before it state together ("context" scope: "A shared bus leaves the
        hospital at 8. The bus is paid by us.")."""
        for exc in self.rule.exceptions:
            if exc.scope == "sentence" and self.lexicons.any(exc.lexicon, unit.text):
                return exc.id
            if exc.scope == "context":
                before = self.view.units[unit.index - 1] if unit.index > 0 else None
                text = unit.text if before is None or before.section is not unit.section else before.text + "\n" + unit.text
                if self.lexicons.any(exc.lexicon, text):
                    return exc.id
        return None

    def message_exception(self) -> tuple[str, Unit] | None:
        """A message-scope exception of the rule that the mail states, with the unit stating it."""
        for exc in self.rule.exceptions:
            if exc.scope != "message":
                continue
            for unit in self.units():
                if self.lexicons.any(exc.lexicon, unit.text):
                    return exc.id, unit
        return None

    def find(
        self,
        ref: str,
        *,
        require: Iterable[str] = (),
        block: Iterable[str] = (),
        units: Iterable[Unit] | None = None,
        context: int = 0,
        negatable: bool = False,
        apply_exceptions: bool = True,
        patterns: Iterable[str] | None = None,
    ) -> list[Hit]:
        """Units where `ref` matches and every `require` group matches too (in the unit, or within
        `context` units before it in the same section), no `block` group matches, no exception of the
        rule applies and (when `negatable`) no negation word stands just before the match.
        `patterns` keeps only those pattern ids of the group."""
        require = list(require)
        block = list(block)
        wanted = set(patterns) if patterns is not None else None
        pool = list(units) if units is not None else self.units()
        hits: list[Hit] = []
        for pos, unit in enumerate(pool):
            found = None
            for match in self.lexicons.finditer(ref, unit.text, patterns=wanted):
                if negatable and negated(unit.text, match.start):
                    continue
                found = match
                break
            if found is None:
                continue
            window = unit.text
            if context:
                before = [u.text for u in pool[max(0, pos - context): pos] if u.section is unit.section]
                window = " \n".join(before + [unit.text])
            if any(not self.lexicons.any(r, window) for r in require):
                continue
            if any(self.lexicons.any(b, unit.text) for b in block):
                continue
            if apply_exceptions and self.excepted(unit):
                continue
            hits.append(Hit(unit, found.start, found.end, PATTERN_CONFIDENCE, found.ref))
        return hits

    # --- the trained scorer ------------------------------------------------------------------

    def scored(self, code: str | None = None, *, units: Iterable[Unit] | None = None) -> list[Hit]:
        """Units the sentence scorer rates above its tuned threshold for this code."""
        if self.scorer is None or not self.rule.scorer:
            return []
        code = code or self.rule.code
        pool = list(units) if units is not None else self.units()
        memo = self.view.scores
        if not memo:  # the message's sentences, vectorised once for all its rules
            self.scorer.probabilities([u.text for u in self.units()], memo)
        hits = []
        for unit, probability in self.scorer.score(code, pool, memo):
            if self.excepted(unit):
                continue
            hits.append(Hit(unit, 0, len(unit.text), probability, f"scorer:{code}"))
        return hits

    # --- findings ----------------------------------------------------------------------------

    def finding(self, evidence: Evidence | None = None, confidence: float = 1.0) -> Finding:
        """A Finding of the rule being decided, in the mail's language."""
        rule = self.rule
        return Finding(
            rule=rule.id,
            kind=rule.kind,
            code=rule.code,
            severity=self.severity or rule.severity,
            message=rule.message(self.language),
            evidence=evidence,
            citation=rule.citation,
            confidence=round(float(confidence), 4),
        )

    def findings_from(self, hits: list[Hit], *, limit: int = 1) -> list[Finding]:
        """Findings for the strongest hits (by confidence, then reading order)."""
        ordered = sorted(hits, key=lambda h: (-h.confidence, h.unit.index))
        out: list[Finding] = []
        seen: set[str] = set()
        for hit in ordered:
            evidence = hit.evidence()
            if evidence.text in seen:
                continue
            seen.add(evidence.text)
            out.append(self.finding(evidence, hit.confidence))
            if len(out) >= limit:
                break
        return out

    def patterns_or_scorer(self, hits: list[Hit]) -> list[Finding]:
        """The usual ending of a violation check: pattern hits, else what the scorer found."""
        if hits:
            return self.findings_from(hits)
        return self.findings_from(self.scored())


def _register_all() -> None:
    """Import the check modules so their decorators run."""
    from triage.rules.checks import (  # noqa: F401
        contact,
        elements,
        funding,
        hospitality,
        professional,
        sponsorship,
    )


_register_all()
