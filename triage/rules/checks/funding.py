"""Checks of scholarships (se-2026 ch. 5) and donations (ch. 6)."""

from __future__ import annotations

from triage.results import Finding
from triage.rules.checks import CheckContext, Hit, register_check


@register_check("stipend_covers_trip_only")
def stipend_covers_trip_only(ctx: CheckContext) -> list[Finding]:
    """A scholarship whose only content is travel, lodging and/or a participation fee.

    The cover statement is read with the list lines that follow it; a scholarship that also pays
    research, project or study time is not "only travel".
    """
    units = ctx.units()
    if any(ctx.has("funding:stipend_purpose", u.text) for u in units):
        return []
    hits: list[Hit] = []
    for hit in ctx.find("funding:stipend_cover", negatable=True):
        index = units.index(hit.unit) if hit.unit in units else -1
        window = [hit.unit] + [u for u in units[index + 1: index + 7] if u.section is hit.unit.section]
        kinds = set()
        for unit in window:
            kinds |= ctx.lexicons.matched_ids("funding:trip_cost", unit.text)
        if kinds & {"travel", "lodging"} or len(kinds) >= 2:
            hits.append(hit)
    return ctx.patterns_or_scorer(hits)


@register_check("donation_tied_to_sales")
def donation_tied_to_sales(ctx: CheckContext) -> list[Finding]:
    """A donation linked to purchases, procurement, prescribing, recommending or using the donor's products."""
    block = ["funding:not_tied"]
    hits = ctx.find("funding:tied", negatable=True, patterns=["thanks", "prescribing"], block=block)
    hits += ctx.find("funding:tied", negatable=True, patterns=["sales"], require=["funding:donation_word"], block=block)
    return ctx.patterns_or_scorer(hits)


@register_check("donation_to_person")
def donation_to_person(ctx: CheckContext) -> list[Finding]:
    """A donation paid to a person (or a person's account or foundation) instead of the organisation."""
    hits = ctx.find("funding:to_person", negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("donation_purpose")
def donation_purpose(ctx: CheckContext) -> list[Finding]:
    """A donation for something other than research and development; research for the unit is the exception."""
    hits = ctx.find("funding:not_research", negatable=True)
    return ctx.patterns_or_scorer(hits)
