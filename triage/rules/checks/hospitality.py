"""Checks of the general rules for meetings (se-2026 3.1–3.3): travel, lodging, fees, meals, leisure, venue.

The industry may pay for the venue, the speakers, material and moderate meals; not travel (a
short shared transfer aside), lodging, a fee for attending, lavish meals, leisure or companions,
and the meeting belongs at or near the workplace in an ordinary venue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.results import Finding
from triage.rules.checks import PATTERN_CONFIDENCE, CheckContext, Hit, register_check
from triage.rules.text import Unit, find_amounts

# --- travel and lodging ----------------------------------------------------------------------------


@register_check("paid_travel")
def paid_travel(ctx: CheckContext) -> list[Finding]:
    """The company books or pays participants' journeys; a short shared transfer is the exception."""
    block = ["common:not_paid", "common:speaker"]
    found = ctx.find("travel:trip", require=["common:pay"], block=block, context=1, negatable=True, apply_exceptions=False)
    # tickets sent to the participant, or a travel allowance, say "paid" by themselves
    found += ctx.find("travel:trip", block=block, negatable=True, apply_exceptions=False, patterns=["ticket_sent"])
    hits = []
    for hit in found:
        if ctx.excepted(hit.unit) and not ctx.has("travel:long_trip", hit.unit.text):
            continue  # a shared bus from the hospital to the venue is allowed
        hits.append(hit)
    return ctx.patterns_or_scorer(hits)


@register_check("paid_lodging")
def paid_lodging(ctx: CheckContext) -> list[Finding]:
    """The company pays a hotel night, a cabin or other lodging for participants."""
    block = ["common:not_paid", "travel:participant_rate", "common:speaker"]
    hits = ctx.find("travel:stay", require=["common:pay"], block=block, context=1, negatable=True)
    hits += ctx.find("travel:stay", block=block, negatable=True, patterns=["object_paid"])
    if not hits:
        # "tre nätter på Hotel X" in an invitation whose package the company pays
        hits = [
            h for h in ctx.find("travel:stay", block=block, negatable=True, patterns=["nights"])
            if ctx.has("travel:stay", h.unit.text) and re.search(r"(?:nätter|nights|netter|natt)\s+(?:at|på|i)\s", h.unit.text, re.I)
        ]
    return ctx.patterns_or_scorer(hits)


# --- fees for attending ----------------------------------------------------------------------------


@register_check("attendance_fee")
def attendance_fee(ctx: CheckContext) -> list[Finding]:
    """Participants get a fee, allowance or compensation for attending."""
    block = ["hospitality:no_compensation", "common:speaker", "common:not_paid"]
    hits = ctx.find("hospitality:compensation_strong", block=block, negatable=True)
    hits += ctx.find("hospitality:compensation", require=["hospitality:attendee"], block=block, negatable=True)
    return ctx.patterns_or_scorer(hits)


# --- meals -----------------------------------------------------------------------------------------

_PERSONS = re.compile(
    r"\b(?:för|for|till|til|åt)\s+(?:ca\.?\s+|cirka\s+|about\s+|omkring\s+|around\s+)?"
    r"(?P<n>\d+|två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|femton|tjugo|trettio|fyrtio|femtio)\s+"
    r"(?:personer|persons|people|guests|gäster|deltagare|deltakere|participants|pers)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {"två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8, "nio": 9, "tio": 10,
                 "elva": 11, "tolv": 12, "femton": 15, "tjugo": 20, "trettio": 30, "fyrtio": 40, "femtio": 50}


def meal_limit(ctx: CheckContext, currency: str) -> float:
    """The site's limit for one meal per person, in the currency the amount was written in."""
    settings = ctx.settings
    if currency == "EUR" or currency == "USD":
        return float(settings.max_meal_eur)
    if currency == "NOK":
        return float(settings.max_meal_nok)
    return float(settings.max_meal_sek)


def _amount_hits(ctx: CheckContext) -> list[Hit]:
    """Units that put a price per person on a meal above the site's limit."""
    hits = []
    for unit in ctx.units():
        if not ctx.has("hospitality:meal", unit.text):
            continue
        for amount in find_amounts(unit.text, ctx.currency):
            per_person = amount.value if amount.per_person else None
            if per_person is None:
                persons = _PERSONS.search(unit.text, amount.end, amount.end + 40)
                if persons:
                    n = persons.group("n").lower()
                    count = int(n) if n.isdigit() else _NUMBER_WORDS.get(n, 0)
                    per_person = amount.value / count if count else None
            if per_person is not None and per_person > meal_limit(ctx, amount.currency):
                hits.append(Hit(unit, amount.start, amount.end, PATTERN_CONFIDENCE, "amount:meal"))
                break
    return hits


@register_check("lavish_meal")
def lavish_meal(ctx: CheckContext) -> list[Finding]:
    """A meal beyond moderate: several courses, wine packages, gala dinners, a price above the limit.

    A drink with an otherwise simple meal is the exception (modest meal); a tasting menu or a wine
    package is never excused by the word "enkel".
    """
    hits = ctx.find("hospitality:lavish_meal", block=["hospitality:no_alcohol"], negatable=True, apply_exceptions=False)
    if not hits:
        hits = ctx.find("hospitality:mild_drink", require=["hospitality:meal"], block=["hospitality:no_alcohol"],
                        negatable=True, context=1)
    hits += _amount_hits(ctx)
    return ctx.patterns_or_scorer(hits)


# --- leisure ---------------------------------------------------------------------------------------


@register_check("leisure_programme")
def leisure_programme(ctx: CheckContext) -> list[Finding]:
    """Spa, golf, skiing, shows, parties, sightseeing or other leisure in the offer."""
    hits = ctx.find("hospitality:leisure", block=["hospitality:no_leisure"], negatable=True)
    # leisure the participants or the unit pay for themselves ("Bowlingen betalar vi ur personalkassan",
    # "spa on your own account") is not offered by the company
    self_paid = [u for u in ctx.units() if ctx.has(["common:not_paid", "hospitality:self_paid"], u.text)
                 and ctx.has("hospitality:leisure", u.text)]
    if self_paid:
        def paid_by_them(hit: Hit) -> bool:
            """The hit's own sentence, or one next to it about the same leisure, says they pay."""
            ids = ctx.lexicons.matched_ids("hospitality:leisure", hit.unit.text)
            return any(abs(u.index - hit.unit.index) <= 2 and ids & ctx.lexicons.matched_ids("hospitality:leisure", u.text)
                       for u in self_paid)
        hits = [h for h in hits if not paid_by_them(h)]
        if not hits:
            return []
    return ctx.patterns_or_scorer(hits)


@register_check("companion")
def companion(ctx: CheckContext) -> list[Finding]:
    """A partner, spouse or guest of the participant is invited or paid for."""
    hits = ctx.find("hospitality:companion", block=["hospitality:no_companion"], negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("gift")
def gift(ctx: CheckContext) -> list[Finding]:
    """Gifts, gift cards, prizes or valuables handed to staff."""
    hits = ctx.find("hospitality:gift", block=["hospitality:no_gift"], negatable=True,
                    patterns=["voucher", "prize"])
    for group in ("takeaway", "value"):
        for hit in ctx.find("hospitality:gift", block=["hospitality:no_gift", "hospitality:not_gift"],
                            negatable=True, patterns=[group]):
            if "object" in ctx.lexicons.matched_ids("hospitality:gift", hit.unit.text):
                hits.append(hit)
    return ctx.patterns_or_scorer(hits)


# --- venue -----------------------------------------------------------------------------------------


def _is_online(ctx: CheckContext) -> bool:
    if ctx.event.online:
        return True
    return ctx.has("common:online", ctx.message.subject) and not ctx.event.location


def _company_pays_venue(ctx: CheckContext) -> bool:
    if "venue" in ctx.event.costs_covered:
        return True
    return bool(ctx.find("sponsorship:professional_cost", require=["common:pay"], patterns=None))


@register_check("luxury_venue")
def luxury_venue(ctx: CheckContext) -> list[Finding]:
    """A resort, spa, golf club, manor, gourmet restaurant, wine bar or cruise as the venue."""
    if _is_online(ctx):
        return []
    if ctx.chapter in ctx.param("sponsor_chapters", []) and not _company_pays_venue(ctx):
        return []
    hits = ctx.find("venues:luxury", negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("distant_venue")
def distant_venue(ctx: CheckContext) -> list[Finding]:
    """Abroad, in the mountains, at sea or hours away: not at or near the participants' workplace."""
    if _is_online(ctx):
        return []
    if ctx.chapter in ctx.param("sponsor_chapters", []) and not _company_pays_venue(ctx):
        return []
    hits = ctx.find("venues:far", negatable=True, patterns=["abroad", "mountains", "sea", "distance"])
    for hit in ctx.find("venues:far", negatable=True, patterns=["foreign"]):
        if hit.unit.source == "subject" or ctx.has("venues:event_place", hit.unit.text):
            hits.append(hit)
    if not hits:
        # a long paid journey there and a night's stay: the venue is far from the workplace
        trips = ctx.find("travel:long_trip", require=["common:pay"], block=["common:not_paid", "common:speaker"],
                         negatable=True)
        stays = ctx.find("travel:stay", block=["common:not_paid", "travel:participant_rate"], negatable=True)
        if trips and stays:
            hits = trips[:1]
    return ctx.patterns_or_scorer(hits)


# --- how much of it is hospitality -----------------------------------------------------------------

_DAY = r"(?:(?:mån|tis|ons|tors|fre|lör|sön)dag\w*|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|dag\s+\d)"
_PART = r"(?:förmiddag\w*|eftermiddag\w*|kväll\w*|morning|afternoon|evening|formiddag\w*|ettermiddag\w*|kveld\w*)"
_SLOT = re.compile(
    rf"^\s*(?:[-•*]\s*)?(?P<day>{_DAY})?[\s,]*(?:\d{{1,2}}\.?\s+(?:[^\W\d]+\s+)?)?(?P<part>{_PART})?\s*[:\t–-]*\s*"
    r"(?:kl\.?\s*)?(?P<h1>\d{1,2})[.:](?P<m1>\d{2})(?:\s*(?:[–-]|till|to)\s*(?P<h2>\d{1,2})[.:](?P<m2>\d{2}))?"
    r"\s*[:\t–|-]*\s*(?P<text>\S.*)$",
    re.IGNORECASE,
)
_DAY_ONLY = re.compile(rf"^\s*(?:[-•*]\s*)?(?P<day>{_DAY})(?:\s+\d{{1,2}}\.?\s*\w*)?\s*(?P<part>{_PART})?\s*[:\t–-]+\s*(?P<text>\S.*)$", re.IGNORECASE)
_BARE_TIME = re.compile(r"^\s*(?:kl\.?\s*)?(?P<h1>\d{1,2})[.:](?P<m1>\d{2})(?:\s*(?:[–-]|till|to)\s*(?P<h2>\d{1,2})[.:](?P<m2>\d{2}))?\s*$", re.IGNORECASE)
_MINUTES = re.compile(r"\(?\s*(?:ca\.?\s*|cirka\s*|about\s*)?(\d{1,3})\s*(?:min|minuter|minutes|minutter)\b", re.IGNORECASE)


@dataclass
class _Slot:
    unit: Unit
    start: int | None  # minutes after midnight
    end: int | None
    text: str
    kind: str  # professional | hospitality | neutral
    day_part: bool
    leisure: bool = False

    def minutes(self, next_start: int | None) -> int:
        """How long the slot lasts: stated, from its range, until the next slot, or a default."""
        length = _MINUTES.search(self.text)
        if length:
            return int(length.group(1))
        if self.start is not None and self.end is not None and self.end > self.start:
            return self.end - self.start
        if self.start is not None and next_start is not None and next_start > self.start:
            return min(next_start - self.start, 300)
        if self.day_part:
            return 240
        if self.kind == "hospitality":
            return 120 if self.leisure else 60
        return 45


def _kind(ctx: CheckContext, text: str) -> str:
    professional = ctx.has("hospitality:professional", text)
    hospitality = ctx.has(["hospitality:leisure", "hospitality:lavish_meal", "hospitality:mild_drink"], text) or bool(
        re.search(r"\w*(?<!efter)(?<!för)middag\w*|\b(?:\w*dinner|mingel|mingle|\w*drink\w*|bar|baren|fest|festen|party)\b", text, re.I)
    )
    if professional:
        return "professional"
    if hospitality:
        return "hospitality"
    return "neutral"


def programme_slots(ctx: CheckContext) -> list[_Slot]:
    """The lines of a timed (or day-by-day) programme, each classed as professional, hospitality or neutral."""
    slots: list[_Slot] = []
    units = ctx.units()
    for index, unit in enumerate(units):
        bare = _BARE_TIME.match(unit.text)
        if bare:
            # a time on its own line (a PDF's table): the item is the next line of the same section
            following = units[index + 1] if index + 1 < len(units) else None
            if following is not None and following.section is unit.section and not _BARE_TIME.match(following.text):
                start = int(bare.group("h1")) * 60 + int(bare.group("m1"))
                end = int(bare.group("h2")) * 60 + int(bare.group("m2")) if bare.group("h2") else None
                text = following.text
                slots.append(_Slot(following, start, end, text, _kind(ctx, text), False, ctx.has("hospitality:leisure", text)))
            continue
        m = _SLOT.match(unit.text)
        if m:
            start = int(m.group("h1")) * 60 + int(m.group("m1"))
            end = int(m.group("h2")) * 60 + int(m.group("m2")) if m.group("h2") else None
            text = m.group("text")
            slots.append(_Slot(unit, start, end, text, _kind(ctx, text), False, ctx.has("hospitality:leisure", text)))
            continue
        m = _DAY_ONLY.match(unit.text)
        if m:
            text = m.group("text")
            slots.append(_Slot(unit, None, None, text, _kind(ctx, text), True, ctx.has("hospitality:leisure", text)))
    return slots


@register_check("hospitality_share")
def hospitality_share(ctx: CheckContext) -> list[Finding]:
    """The meal or leisure part outweighs the professional programme (by the programme's own times).

    A modest meal with the programme (lunch, coffee) counts as neither side: that is the exception.
    """
    slots = programme_slots(ctx)
    ratio = float(ctx.param("ratio", 1.0))
    minimum = int(ctx.param("min_hospitality_minutes", 90))
    professional = hospitality = 0
    first_professional: _Slot | None = None
    for index, slot in enumerate(slots):
        if slot.kind == "neutral" or ctx.excepted(slot.unit):
            continue
        following = next((s.start for s in slots[index + 1:] if s.start is not None), None)
        if slot.start is None or (following is not None and following < slot.start):
            following = None
        minutes = slot.minutes(following)
        if slot.kind == "professional":
            professional += minutes
            first_professional = first_professional or slot
        else:
            hospitality += minutes
    hits: list[Hit] = []
    if first_professional is not None and hospitality >= minimum and hospitality > ratio * professional:
        hits.append(Hit(first_professional.unit, 0, len(first_professional.unit.text), PATTERN_CONFIDENCE, "schedule"))
    if not hits:
        for hit in ctx.find("hospitality:brief_programme", negatable=True):
            hits.append(hit)
    return ctx.patterns_or_scorer(hits)

