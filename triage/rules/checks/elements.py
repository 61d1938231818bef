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
from triage.rules.text import Unit, find_amounts, negated

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


#: A topic named right after "a lecture on" is what the meeting is about, not its content.
_TOPIC_BEFORE = re.compile(r"\b(?:om|on|about|kring|angående|regarding|concerning|inom|within)\s*[«\"“]?\s*$", re.IGNORECASE)
#: A bullet or numbered line.
_BULLET = re.compile(r"^\s*(?:[-•*·–▪►✓]|\d{1,2}[.)])\s+\S")
#: A bullet that is practical information, not a topic.
_LOGISTICS = re.compile(
    r"^\s*(?:[-•*·–▪►✓]|\d{1,2}[.)])\s*(?:tid|datum|plats|lokal|när|var|anmälan|anmäl|kostnad|pris|målgrupp|kontakt|"
    r"time|date|venue|where|when|registration|register|cost|price|contact|dato|sted|hvor|når|påmelding|pris)\b",
    re.IGNORECASE,
)
#: A bullet that names a person ("Emma Jonsson, stomiterapeut"), not a topic.
_PERSON = re.compile(r"^\W*(?:(?:dr|prof|docent)\.?\s+)?[A-ZÅÄÖÆØ][a-zåäöæøé]+\s+[A-ZÅÄÖÆØ][a-zåäöæøé-]+\s*(?:,|\(|[–-]\s|$)")
#: Programme lines that are only the frame of a meeting (welcome, coffee, questions, the end).
_FRAME = re.compile(
    r"^\W*(?:välkomm\w*|welcome|velkommen|registrering\w*|registration|kaffe\w*|coffee|fika|lunch\w*|lunsj|paus\w*|break|"
    r"frågor|questions|q\s*&\s*a|spørsmål|avslutning\w*|summering|closing|wrap-?up|slut|end|mingel|mingle|middag|dinner)\b",
    re.IGNORECASE,
)


def _topic_only(ctx: CheckContext) -> bool:
    """Whether every span extraction read the content from is just the topic after "a lecture on" (or a
    person's name): what the meeting is about, not its programme."""
    spans = ctx.event.evidence.get("content", [])
    if not spans:
        return False
    for ev in spans:
        unit = next((u for u in ctx.view.units if ev.start is not None and ev.part == u.section.name
                     and ev.source == u.section.source and u.start <= ev.start < u.end), None)
        if unit is None:
            return False
        before = unit.text[: ev.start - unit.start]
        if _PERSON.match(ev.text) and not ctx.has("elements:content", unit.text):
            continue  # a person named in a list ("Emma Jonsson, stomiterapeut") is not a topic
        if not _TOPIC_BEFORE.search(before) or ctx.has("elements:content", unit.text):
            return False
    return True


def _topic_bullets(ctx: CheckContext) -> bool:
    """Two bullet lines of topics in one section (not practical details)."""
    run: dict[int, int] = {}
    for unit in ctx.units():
        text = unit.text
        if not _BULLET.match(text) or _LOGISTICS.match(text) or _PERSON.match(text) or len(text.split()) < 3:
            continue
        if ctx.has(["common:pay", "hospitality:meal"], text) and not ctx.has("hospitality:professional", text):
            continue
        key = id(unit.section)
        run[key] = run.get(key, 0) + 1
        if run[key] >= 2:
            return True
    return False


def _stated_content(ctx: CheckContext) -> bool:
    if ctx.event.content and _topic_only(ctx):
        if _stated(ctx, "content", None, ["elements:content"]):
            return True
    elif _stated(ctx, "content", ctx.event.content, ["elements:content"]):
        return True
    if _deferred_units(ctx, "content"):
        return False
    if _topic_bullets(ctx):
        return True
    # a timed programme says what is on it: a professional item with its topic, or several items
    from triage.rules.checks.hospitality import programme_slots

    every = [s for s in programme_slots(ctx) if len(s.text) >= 12]
    slots = [s for s in every if s.start is not None]
    professional = [s for s in slots if s.kind == "professional"]
    topical = [s for s in professional if re.search(r"[:;,–]\s*\w", s.text)]
    # an item with a titled topic ("Högkänsligt troponin – algoritmer i praktiken"), timed or by day part
    topical += [s for s in every if s.kind != "hospitality" and not _FRAME.match(s.text)
                and re.search(r"\w\s+[–:]\s+\w", s.text) and len(s.text.split()) >= 4]
    items = [s for s in slots if s.kind != "hospitality" and not _FRAME.match(s.text) and len(s.text.split()) >= 3]
    return bool(topical) or len(professional) >= 2 or len(items) >= 2


def _stated_target_group(ctx: CheckContext) -> bool:
    return _stated(ctx, "target_group", ctx.event.target_group, ["elements:target_group"])


def _stated_duration(ctx: CheckContext) -> bool:
    event = ctx.event
    value = event.duration_minutes or event.end
    return _stated(ctx, "duration", value, ["elements:duration"])


#: A role right before "på/i/at …": the place is where those people work, not where the meeting is.
_ROLES = (
    r"(?:läkare|sköterskor|sköterska|barnmorskor|terapeuter|kirurger|loger|analytiker|specialister|ortoptister|"
    r"personal|personalen|medarbetare|kollegor|kolleger|doctors|physicians|nurses|GPs|clinicians|surgeons|ologists|"
    r"specialists|staff|colleagues|team|leger|sykepleiere|spesialister|ansatte|helsepersonell|patienter|patients|pasienter)"
)
_ROLE_BEFORE = re.compile(
    _ROLES + r"[\w-]*\s+(?:[\w-]+\s+){0,4}$|\b(?:alla|all|alle|oss|us|er|dere|you)\s+$", re.IGNORECASE,
)
#: A role among the words between "på/i/at" and the place: "in läkare och sjuksköterskor på kliniken".
_ROLE_INSIDE = re.compile(r"\w*" + _ROLES + r"\b", re.IGNORECASE)
#: "your clinic", "er avdelning": the unit itself, not a stated place.
_POSSESSIVE_PLACE = re.compile(r"\b(?:your|er|ert|era|din|ditt|dina|dere|deres|dine|you)\s+\S+$", re.IGNORECASE)


def _stated_location(ctx: CheckContext) -> bool:
    event = ctx.event
    if _stated(ctx, "location", event.location or event.online, ["elements:location"]):
        return True
    deferred = _deferred_units(ctx, "location")
    pool = [u for u in ctx.units() if u not in deferred and not ctx.has("common:speaker", u.text)]
    for unit in pool:
        for match in ctx.lexicons.finditer("elements:location_place", unit.text, overlapping=True):
            if (_ROLE_BEFORE.search(unit.text[: match.start]) or _ROLE_INSIDE.search(match.text)
                    or _POSSESSIVE_PLACE.search(match.text)):
                continue
            if not negated(unit.text, match.start):
                return True
    # a named foreign city or resort area where the meeting is held
    places = ctx.find("venues:far", units=pool, negatable=True, patterns=["foreign", "mountains", "sea"])
    return any(h.unit.source == "subject" or ctx.has("venues:event_place", h.unit.text) for h in places)


def _stated_costs(ctx: CheckContext) -> bool:
    if ctx.event.costs_covered:
        return True
    pool = ctx.units()
    if ctx.find("elements:costs", require=["elements:cost_item"], units=pool, negatable=True, apply_exceptions=False,
                patterns=["pays"]):
        return True
    return bool(ctx.find("elements:costs", units=pool, apply_exceptions=False, patterns=["none"]))


def _stated_organizer(ctx: CheckContext) -> bool:
    """Who arranges must be said in the text ("X arrangerer", "organised by X"): a company named only
    as sponsor, in a partner list or in the signature is not the organizer. Extraction's organizer
    counts when the sentence it stands in says that it arranges, hosts or invites."""
    deferred = _deferred_units(ctx, "organizer")
    pool = [u for u in ctx.units() if u not in deferred]
    spans = ctx.event.evidence.get("organizer", [])
    if ctx.event.organizer and not spans:
        return True  # filled by hand (an example, a caller's event): nothing to weigh
    # a company's own visit ("jeg stikker innom", "I'll drop by") names its organizer with the company
    if any(ctx.has("elements:own_visit", u.text) for u in pool) and any(ctx.has("elements:company", u.text) for u in pool):
        return True
    # "Vi inviterer til ..." / "jeg kommer og viser": the writer's company arranges, and the writer's
    # signature names that company (a company named in the body may be only the payer)
    if any(ctx.has(["elements:own_visit", "elements:we_arrange"], u.text) for u in pool if u.source != "forwarded") and any(
            ctx.has("elements:company", u.text) for u in ctx.units(signature=True) if u.source == "signature"):
        return True
    for ev in spans if ctx.event.organizer else []:
        if ev.source == "signature" or ev.start is None:
            continue
        for unit in pool:
            if (ev.part == unit.section.name and ev.source == unit.section.source and unit.start <= ev.start < unit.end
                    and ctx.has("elements:organizer_verb", unit.text)):
                return True
    return any(ctx.find("elements:organizer", units=pool, negatable=True, apply_exceptions=False))


def _stated_payer(ctx: CheckContext) -> bool:
    """Who pays must be said with an agent ("X betaler lunsjen"); extraction's costs ("lunch is served")
    tell what is covered, not by whom, so only the phrases count."""
    return _stated(ctx, "payer", None, ["elements:payer"])


#: The headings of a budget table, and a figure alone in its cell ("40 000").
_BUDGET_HEAD = re.compile(r"^\s*(?:intäkter|kostnader|utgifter|income|revenue|costs|expenses|inntekter|kostnader|utgifter|summa|total)\b",
                          re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\s*\d{1,3}(?:[ \u00a0.,]\d{3})+\s*(?:kr|sek|nok|eur|€)?\s*$", re.IGNORECASE)


def _stated_budget(ctx: CheckContext) -> bool:
    """A budget with figures: in its sentence, under a "Budget" heading (its table may give bare
    numbers under "Intäkter"/"Kostnader"), or attached by name.

    An offer that pays staff's own places at a congress someone else runs, and asks or offers nothing
    for the arrangement itself, does not turn on the arranger's budget: it is judged by the travel,
    lodging and fee rules instead.
    """
    units = ctx.units()
    if (ctx.chapter in ctx.param("attendance_chapters", ["3.4"])
            and any(ctx.has("elements:attendance_offer", u.text) and ctx.has("common:pay", u.text) for u in units)
            and not any(ctx.has("elements:event_funding", u.text) for u in units)):
        return True
    for index, unit in enumerate(units):
        if not ctx.has("elements:budget", unit.text) or ctx.has("elements:no_budget", unit.text):
            continue
        if ctx.has("elements:budget_attached", unit.text):
            return True
        window = [unit] + [u for u in units[index + 1: index + 6] if u.section is unit.section]
        if any(find_amounts(u.text, ctx.currency) for u in window):
            return True
        table = [u for u in units[index + 1: index + 16] if u.section is unit.section]
        if any(_BUDGET_HEAD.search(u.text) for u in table) and sum(bool(_BARE_NUMBER.match(u.text)) for u in table) >= 2:
            return True  # a budget table: headings, then bare figures in their own cells
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
