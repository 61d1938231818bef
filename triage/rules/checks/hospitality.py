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
from triage.rules.text import Unit, find_amounts, negated

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


_CLAUSE = re.compile(r"[;.!?\n]+|\s[–—-]\s|,\s*(?=(?:men|but|while|medan|mens|whereas)\b)", re.IGNORECASE)


def _clauses(text: str) -> list[str]:
    """The clauses of a sentence (cut at ; . ! ? a dash, and ", but")."""
    return [c for c in _CLAUSE.split(text) if c.strip()]


def _self_paid_clause(ctx: CheckContext, topic: list[str], text: str) -> bool:
    """Whether a clause of the text is about `topic` and says the participants (or their unit) pay it."""
    return any(ctx.has(topic, c) and ctx.has(["common:not_paid", "hospitality:self_paid"], c) for c in _clauses(text))


def drop_self_paid(ctx: CheckContext, hits: list[Hit], topic: list[str], window: int = 1) -> tuple[list[Hit], bool]:
    """The hits whose meal or leisure the company offers, without those the participants pay themselves.

    A hit is the participants' own when its sentence, or one next to it in the same section, has a
    clause about the same thing (`topic`) that says they pay it ("Middagen betalar var och en",
    "dinner is at your own expense", "avgift tillkommer") — unless the hit's own sentence says the
    company hosts or pays it. `window` is how many sentences either side count as next to it.
    Returns the kept hits and whether any were dropped.
    """
    units = ctx.units()
    kept: list[Hit] = []
    for hit in hits:
        own = _clause_at(hit.unit.text, hit.start)
        if _self_paid_clause(ctx, topic, own):
            continue
        if ctx.has("hospitality:company_hosts", own):
            kept.append(hit)  # "… but we invite all participants to a gala dinner"
            continue
        near = [u for u in units if abs(u.index - hit.unit.index) <= window and u.section is hit.unit.section]
        if any(_self_paid_clause(ctx, topic, u.text) for u in near):
            continue
        kept.append(hit)
    return kept, len(kept) < len(hits)


def _clause_at(text: str, position: int) -> str:
    """The clause of the text that holds the character at `position`."""
    start = 0
    for match in _CLAUSE.finditer(text):
        if match.start() > position:
            return text[start:match.start()]
        start = match.end()
    return text[start:]


@register_check("lavish_meal")
def lavish_meal(ctx: CheckContext) -> list[Finding]:
    """A meal beyond moderate: several courses, wine packages, gala dinners, a price above the limit.

    A drink with an otherwise simple meal is the exception (modest meal); a tasting menu or a wine
    package is never excused by the word "enkel". A meal the participants pay themselves (a congress
    dinner on their own account, "avgift tillkommer") is not the company's offer.
    """
    hits = ctx.find("hospitality:lavish_meal", block=["hospitality:no_alcohol"], negatable=True, apply_exceptions=False)
    if not hits:
        hits = ctx.find("hospitality:mild_drink", require=["hospitality:meal"], block=["hospitality:no_alcohol"],
                        negatable=True, context=1)
    hits += _amount_hits(ctx)
    topic = ["hospitality:meal", "hospitality:lavish_meal"]
    hits, dropped = drop_self_paid(ctx, hits, topic)
    if hits:
        return ctx.findings_from(hits)
    if dropped:
        return []
    return ctx.findings_from(scored_with_cue(ctx, "hospitality:meal_cue", topic))


def scored_with_cue(ctx: CheckContext, cue: str, topic: list[str], units: list[Unit] | None = None) -> list[Hit]:
    """The trained scorer's sentences that also say something of the concept (`cue`), and whose
    meal or leisure the participants do not pay themselves: the scorer weighs the words a lavish
    meal or a leisure offer is written in, but a bare "19.00 Middag" is evidence of neither."""
    hits = [h for h in ctx.scored(units=units) if ctx.has(cue, h.unit.text)]
    return drop_self_paid(ctx, hits, topic)[0]


# --- leisure ---------------------------------------------------------------------------------------


_CONNECTOR = re.compile(
    r"^\W*(?:[\w'’]+\W+){0,2}?(?:vid|av|hos|bland|inom|i|in|of|among|for|för|who|som|during|under|with|med|från|from|blant|etter|after)"
    r"\W+(?:[\w'’]+\W+)?$",
    re.IGNORECASE,
)


_LISTED = re.compile(r"^\W*(?:och|and|og|eller|or|samt|,)?\W*$", re.IGNORECASE)


def clinical_topic(ctx: CheckContext, text: str, start: int, end: int) -> bool:
    """Whether the leisure word at text[start:end] is the clinical topic of a talk, not an offer.

    "tennis elbow", "dance therapy", "bastubad och hjärtrisk", "spa treatment of patients": a clinical
    word within the next five words; "cardiac massage": one right before it; "idrottsskador vid skidåkning", "seniors who play golf": a
    clinical word just before, joined to the leisure word by a preposition or "who/som".
    """
    if text[start:end] == "SpA":
        return True  # spondyloarthritis ("axial SpA"), not a spa
    after = " ".join(re.findall(r"[\w'’-]+", text[end:end + 90])[:5])
    if ctx.has("hospitality:clinical_topic", after):
        return True
    before = text[max(0, start - 80):start]
    for match in ctx.lexicons.finditer("hospitality:clinical_topic", before):
        between = before[match.end:]
        if _CONNECTOR.match(between) or not between.strip(" -"):  # "cardiac massage": the word right before
            return True
    return False


@register_check("leisure_programme")
def leisure_programme(ctx: CheckContext) -> list[Finding]:
    """Spa, golf, skiing, shows, parties, sightseeing or other leisure in the offer.

    Not leisure: the word as the clinical topic of a talk ("tennis elbow", "music and dance therapy",
    "injuries in skiing"), or leisure the participants or the unit pay for themselves ("Bowlingen
    betalar vi ur personalkassan", "social programme at your own expense").
    """
    hits: list[Hit] = []
    topical: list[Unit] = []
    for hit in ctx.find("hospitality:leisure", block=["hospitality:no_leisure"], negatable=True):
        text = hit.unit.text
        offered = []
        topical_end = None  # "seniors who play golf and tennis": a list goes on with the same topic
        for m in ctx.lexicons.finditer("hospitality:leisure", text):
            listed = topical_end is not None and _LISTED.match(text[topical_end:m.start])
            if listed or clinical_topic(ctx, text, m.start, m.end):
                topical_end = m.end
            elif not negated(text, m.start):
                offered.append(m)
        if not offered:
            topical.append(hit.unit)
            continue
        hits.append(Hit(hit.unit, offered[0].start, offered[0].end, hit.confidence, offered[0].ref))
    hits, dropped = drop_self_paid(ctx, hits, ["hospitality:leisure"], window=2)
    if hits:
        return ctx.findings_from(hits)
    if dropped:
        return []
    # the scorer reads the other sentences: one whose leisure word is a talk's topic is not evidence
    pool = [u for u in ctx.units() if u not in topical]
    return ctx.findings_from(scored_with_cue(ctx, "hospitality:leisure_cue", ["hospitality:leisure", "hospitality:leisure_cue"], pool))


@register_check("companion")
def companion(ctx: CheckContext) -> list[Finding]:
    """A partner, spouse or guest of the participant is invited or paid for."""
    hits = ctx.find("hospitality:companion", block=["hospitality:no_companion"], negatable=True)
    return ctx.patterns_or_scorer(hits)


@register_check("gift")
def gift(ctx: CheckContext) -> list[Finding]:
    """Gifts, gift cards, prizes or valuables handed to staff."""
    if ctx.chapter in ctx.param("survey_chapters", []):
        # a token thanks for answering a survey is the market-research rule's to weigh; a prize draw is a gift
        return ctx.findings_from(ctx.find("hospitality:gift", block=["hospitality:no_gift"], negatable=True, patterns=["prize"]))
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
    hits = [h for h in ctx.find("venues:luxury", negatable=True) if not _dinner_place_only(ctx, h)]
    return ctx.patterns_or_scorer(hits)


def _dinner_place_only(ctx: CheckContext, hit: Hit) -> bool:
    """A gourmet restaurant or wine bar named only as where the meal is, while the meeting is held
    elsewhere (the event's location says so): that is for the meal rule to judge, not the venue rule."""
    if not hit.ref.endswith(".gourmet") or not ctx.has(["hospitality:meal", "hospitality:lavish_meal"], hit.unit.text):
        return False
    location = (ctx.event.location or "").strip()
    if not location:
        return False
    name = hit.unit.text[hit.start:hit.end]
    return location not in hit.unit.text and name.lower() not in location.lower()


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
    if _TITLED_TOPIC.search(text) and len(text.split()) >= 4:
        return "professional"  # "HER2-low: what has changed in pathology and treatment?" is a talk's title
    return "neutral"


#: Items that frame a programme rather than fill it.
_FRAME_ITEM = re.compile(r"^\W*(?:välkomm\w*|welcome|velkommen|registrering\w*|registration|kaffe\w*|coffee|fika|paus\w*|break|"
                         r"frågor|questions|spørsmål|avslutning\w*|closing|close|slut|end|transfer\w*|buss\w*|bus|avgång|departure|"
                         r"ankomst|arrival|arrive|incheckning|check-?in|utcheckning|check-?out|frukost|breakfast|lunch\w*|lunsj|hemresa|"
                         r"travel|resa|flyg\w*|flight|summering|oppsummering|sammanfattning|summary|wrap-?up|mingel|mingle)\b", re.IGNORECASE)

#: Practical items anywhere in the line: getting there, checking in, going home.
_LOGISTICS_ITEM = re.compile(r"\b(?:buss\w*|bus|transfer\w*|flyg\w*|flight\w*|fly\b|tåg\w*|train|taxi|avgång|avresa|departure|ankomst|arrival|"
                             r"incheckning|check-?in|utcheckning|check-?out|hemresa|hemfärd|return\s+journey|hytt\w*|cabin|rom\b|"
                             r"rooms?|registrering|registration|frukost|breakfast)\b", re.IGNORECASE)

#: A programme item written as a titled topic ("Topic: subtitle", "a question?"), not a frame item.
_TITLED_TOPIC = re.compile(r"^(?!\W*(?:välkomm\w*|welcome|velkommen|registrering\w*|registration|kaffe\w*|coffee|fika|paus\w*|break|"
                           r"frågor|questions|spørsmål|avslutning\w*|closing|transfer\w*|buss\w*|bus|avgång|departure|ankomst|arrival|"
                           r"incheckning|check-?in|frukost|breakfast|lunch\w*|lunsj)\b)\S[^:?]{1,60}(?::\s+\w|\?\s*$)", re.IGNORECASE)


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
    An ordinary meal after the programme ("19.00–21.00 Middag") counts as one hour at most; a meal
    before the programme, or one with drinks or courses, counts in full.
    """
    slots = programme_slots(ctx)
    ratio = float(ctx.param("ratio", 1.0))
    minimum = int(ctx.param("min_hospitality_minutes", 90))
    professional = hospitality = 0
    first_professional: _Slot | None = None
    # in a programme with talks, an item that is neither hospitality nor its frame (welcome, coffee,
    # transfer, close) is a talk too: "14:30 Patient selection for partial versus total knee replacement"
    talks = any(s.kind == "professional" for s in slots)
    for slot in slots:
        if (talks and slot.kind == "neutral" and not _FRAME_ITEM.match(slot.text) and not _LOGISTICS_ITEM.search(slot.text)
                and len(slot.text) >= 12):
            slot.kind = "professional"
    for index, slot in enumerate(slots):
        if slot.kind == "neutral" or ctx.excepted(slot.unit):
            continue
        following = next((s.start for s in slots[index + 1:] if s.start is not None), None)
        if slot.start is None or (following is not None and following < slot.start):
            following = None
        minutes = slot.minutes(following)
        if slot.kind == "hospitality" and first_professional is not None and not slot.leisure and not ctx.has(
                ["hospitality:lavish_meal", "hospitality:mild_drink"], slot.text):
            # an ordinary meal after the programme counts for the length of a meal, however long it is booked
            minutes = min(minutes, int(ctx.param("meal_after_minutes", 60)))
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
    if not hits and first_professional is not None and hospitality:
        return []  # the programme's own times weigh both parts, and the professional part holds
    return ctx.patterns_or_scorer(hits)

