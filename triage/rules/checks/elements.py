"""Checks of what an invitation or proposal must state (missing elements).

Most elements come from the extraction stage (`EventDetails`: purpose, content, target group,
time, place, costs, organizer); a label in the mail ("Syfte:", "Målgrupp:") or a time range also
counts. Elements extraction does not read – who pays (NO), a budget, a project plan, a written
agreement with the unit – are read here with the patterns of `lexicons/elements.toml`.
A missing element has nothing to quote: its finding's evidence is None.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from triage.results import Evidence, Finding
from triage.rules.checks import CheckContext, register_check
from triage.rules.text import Unit, find_amounts

Decider = Callable[[CheckContext], bool]


def _deferred_units(ctx: CheckContext, element: str) -> list[Unit]:
    """Units that name the element but put it off ("Plats meddelas senare", "time to be confirmed")."""
    words = [p for pid, p in ctx.lexicons.patterns("elements:element_words") if pid == element]
    return [
        u for u in ctx.units()
        if ctx.has("elements:deferred", u.text) and any(p.search(u.text) for p in words)
    ]


def _stated(ctx: CheckContext, element: str, value: object, fallback: list[str]) -> bool:
    """Stated when extraction found it outside a deferral, or a fallback phrase says it outside one."""
    deferred = _deferred_units(ctx, element)
    if value not in (None, "", [], False):
        spans = ctx.event.evidence.get(_FIELD.get(element, element), [])
        # what extraction read from a sentence that puts the element off does not count
        return not (deferred and spans and _in_units(spans, deferred))
    pool = [u for u in ctx.units() if u not in deferred]
    return any(ctx.find(ref, units=pool, negatable=True, apply_exceptions=False) for ref in fallback)


_FIELD = {"duration": "duration_minutes"}


def _in_units(spans: list[Evidence], units: list[Unit]) -> bool:
    """Whether every evidence span lies inside one of the units."""
    def inside(ev: Evidence) -> bool:
        """Whether the span starts inside one of the units."""
        return any(
            ev.source == u.section.source and ev.part == u.section.name and ev.start is not None
            and u.start <= ev.start < u.end
            for u in units
        )
    return all(inside(ev) for ev in spans)


def _stated_purpose(ctx: CheckContext) -> bool:
    return _stated(ctx, "purpose", ctx.event.purpose, ["elements:purpose"])


def _stated_content(ctx: CheckContext) -> bool:
    if _stated(ctx, "content", ctx.event.content, ["elements:content"]):
        return True
    # a timed programme says what is on it: a professional item with its topic, or several items
    from triage.rules.checks.hospitality import programme_slots

    slots = [s for s in programme_slots(ctx) if s.start is not None and len(s.text) >= 12]
    professional = [s for s in slots if s.kind == "professional"]
    topical = [s for s in professional if re.search(r"[:;,–]\s*\w", s.text)]
    return bool(topical) or len(professional) >= 2


def _stated_target_group(ctx: CheckContext) -> bool:
    return _stated(ctx, "target_group", ctx.event.target_group, ["elements:target_group"])


def _stated_duration(ctx: CheckContext) -> bool:
    event = ctx.event
    value = event.duration_minutes or event.end
    return _stated(ctx, "duration", value, ["elements:duration"])


def _stated_location(ctx: CheckContext) -> bool:
    event = ctx.event
    return _stated(ctx, "location", event.location or event.online, ["elements:location"])


def _stated_costs(ctx: CheckContext) -> bool:
    if ctx.event.costs_covered:
        return True
    pool = ctx.units()
    if ctx.find("elements:costs", require=["elements:cost_item"], units=pool, negatable=True, apply_exceptions=False,
                patterns=["pays"]):
        return True
    return bool(ctx.find("elements:costs", units=pool, apply_exceptions=False, patterns=["none"]))


def _stated_organizer(ctx: CheckContext) -> bool:
    return _stated(ctx, "organizer", ctx.event.organizer, ["elements:organizer"])


def _stated_payer(ctx: CheckContext) -> bool:
    """Who pays must be said with an agent ("X betaler lunsjen"); extraction's costs ("lunch is served")
    tell what is covered, not by whom, so only the phrases count."""
    return _stated(ctx, "payer", None, ["elements:payer"])


def _stated_budget(ctx: CheckContext) -> bool:
    """A budget with figures: in its sentence, under a "Budget" heading, or attached by name."""
    units = ctx.units()
    for index, unit in enumerate(units):
        if not ctx.has("elements:budget", unit.text) or ctx.has("elements:no_budget", unit.text):
            continue
        if ctx.has("elements:budget_attached", unit.text):
            return True
        window = [unit] + [u for u in units[index + 1: index + 6] if u.section is unit.section]
        if any(find_amounts(u.text, ctx.currency) for u in window):
            return True
    if ctx.chapter in ctx.param("contribution_chapters", ["7"]):
        # a joint project's budget may be the split of money and time between the parties
        shares = [u for u in units if ctx.has("elements:contribution", u.text) and find_amounts(u.text, ctx.currency)]
        return len(shares) >= 2 or any(len(find_amounts(u.text, ctx.currency)) >= 2 for u in shares)
    return False


def _stated_project_plan(ctx: CheckContext) -> bool:
    units = [u for u in ctx.units() if not ctx.has("elements:plan_missing", u.text)]
    has = {ref: any(ctx.has(f"elements:{ref}", u.text) for u in units)
           for ref in ("plan_aim", "plan_goal", "plan_eval", "plan_word")}
    if has["plan_word"] and (has["plan_eval"] or has["plan_goal"]):
        return True
    return has["plan_eval"] and (has["plan_aim"] or has["plan_goal"])


def _stated_agreement(ctx: CheckContext) -> bool:
    """A written agreement with the unit, region or employer (one with the person does not count)."""
    for hit in ctx.find("elements:agreement_with_unit", negatable=True, apply_exceptions=False):
        text = hit.unit.text
        if ctx.has("elements:no_agreement", text) or ctx.has("consulting:with_person", text):
            continue
        return True
    return False


ELEMENTS: dict[str, Decider] = {
    "purpose": _stated_purpose,
    "content": _stated_content,
    "target_group": _stated_target_group,
    "duration": _stated_duration,
    "location": _stated_location,
    "costs_covered": _stated_costs,
    "organizer": _stated_organizer,
    "payer": _stated_payer,
    "budget": _stated_budget,
    "project_plan": _stated_project_plan,
    "agreement": _stated_agreement,
}


def _element_check(element: str, decide: Decider) -> Callable[[CheckContext], list[Finding]]:
    def check(ctx: CheckContext) -> list[Finding]:
        """Missing (one finding, no evidence) when the element is not stated."""
        return [] if decide(ctx) else [ctx.finding(None, 1.0)]

    check.__name__ = f"states_{element}"
    check.__doc__ = f"Missing when the mail does not state its {element.replace('_', ' ')}."
    return check


for _element, _decide in ELEMENTS.items():
    register_check(f"states_{_element}")(_element_check(_element, _decide))
