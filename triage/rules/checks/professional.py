"""Checks of assignments, projects and information duties (se-2026 1.1, 1.2, 4, 7, 8, 10; no-2023 pkt. 6–7)."""

from __future__ import annotations

from triage.results import Finding
from triage.rules.checks import PATTERN_CONFIDENCE, CheckContext, Hit, register_check
from triage.rules.text import find_amounts


@register_check("agreement_with_person")
def agreement_with_person(ctx: CheckContext) -> list[Finding]:
    """The agreement is made with the individual (privately, in their own name), not with the unit."""
    hits = ctx.find("consulting:with_person", block=["consulting:signs_for_unit"], negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("exclusivity")
def exclusivity(ctx: CheckContext) -> list[Finding]:
    """A clause binding the unit or the person to work with this company only (non-compete)."""
    hits = ctx.find("consulting:exclusive", block=["consulting:not_exclusive"], negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("broad_advisory_board")
def broad_advisory_board(ctx: CheckContext) -> list[Finding]:
    """An advisory board or panel open to a whole clinic or profession instead of a few chosen experts.

    The exception – a few named experts asked through their employer – silences the rule for the mail.
    """
    units = ctx.units()
    if not any(ctx.has("consulting:advisory", u.text) for u in units):
        return []
    if ctx.message_exception():
        return []
    hits = ctx.find("consulting:broad", negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("bypasses_employer")
def bypasses_employer(ctx: CheckContext) -> list[Finding]:
    """The offer tells the person to leave the employer out: no approval, private payment, own time."""
    hits = ctx.find("consulting:bypass")
    return ctx.patterns_or_scorer(hits)


@register_check("promotion_in_information")
def promotion_in_information(ctx: CheckContext) -> list[Finding]:
    """Service or risk-minimisation information used for offers, prices, new products or claims."""
    hits = ctx.find("promotion:offer", negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("patients_contacted_directly")
def patients_contacted_directly(ctx: CheckContext) -> list[Finding]:
    """The company reaches patients itself (lists of patients, calls, texts, ads) instead of via healthcare."""
    hits = ctx.find("patients:direct", negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("leading_market_research")
def leading_market_research(ctx: CheckContext) -> list[Finding]:
    """A survey that promotes or steers (leading questions, product claims, videos) or pays more than a token."""
    hits = ctx.find("promotion:leading", negatable=True)
    limit = float(ctx.param("max_compensation_sek", 1000))
    for unit in ctx.units():
        if not ctx.has("promotion:reward", unit.text) or ctx.has("promotion:charity", unit.text):
            continue
        for amount in find_amounts(unit.text, ctx.currency):
            if amount.sek > limit:
                hits.append(Hit(unit, amount.start, amount.end, PATTERN_CONFIDENCE, "amount:reward"))
                break
    return ctx.patterns_or_scorer(hits)
