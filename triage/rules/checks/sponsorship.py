"""Checks of sponsorship and support to the unit (se-2026 3.4, 6, 7): meals only, internal activities, ordinary operations."""

from __future__ import annotations

from triage.results import Finding
from triage.rules.checks import CheckContext, register_check


@register_check("meal_only_sponsorship")
def meal_only_sponsorship(ctx: CheckContext) -> list[Finding]:
    """Sponsorship asked or offered for a meal alone, with nothing of the professional programme."""
    hits = ctx.find("sponsorship:meal_sponsor", block=["sponsorship:professional_cost"], negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("internal_activity")
def internal_activity(ctx: CheckContext) -> list[Finding]:
    """Money for the unit's internal or social activities: staff days, parties, kick-offs, planning days."""
    hits = ctx.find("sponsorship:internal", negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("ordinary_operations")
def ordinary_operations(ctx: CheckContext) -> list[Finding]:
    """Money that pays the unit's ordinary operations: salaries, staffing, licences, running costs."""
    hits = ctx.find("sponsorship:ordinary", block=["sponsorship:not_ordinary"], negatable=True)
    return ctx.patterns_or_scorer(hits)
