"""Dates, times, weeks and durations the way Swedish, Norwegian and English invitations write them.

`find_mentions(text, anchor, lang)` returns every date or time expression of a text with its
character offsets and its value, read against the mail's `Date:` (the anchor) for the year and
for relative phrases. The forms ("tisdag 3 mars kl. 12.00–13.00", "3/3 kl 12-13", "den 12:e maj",
"torsdag 14. november kl. 08.30–15.30", "v. 12", "lunch 11.30", "nästa tisdag", "i morgen",
"neste uke", ranges, multi-day events) are compact regular expressions over a shared vocabulary
of weekday and month names.

Why not dateparser for these: it finds nothing in a whole phrase with a time range, reads
Norwegian "to" (two) as a date, and costs 0.3–2 ms a call with `languages` set (seconds for the
first unrestricted call); `bench/dates_forms.py` measures it on the forms above. It is kept as a
narrow fallback (`parse_date_phrase`) for a date value after a date cue that the patterns could
not read, called with `languages=[lang]` and explicit settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from triage.nlp.fastre import compile_guarded

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: A date without a year up to this many days before the mail is read as this year's (a mail
#: may look back: "listan kom 10 mars"); earlier than that it is next year's.
GRACE_DAYS = 30
OSLO = ZoneInfo("Europe/Oslo")

WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "måndag måndagen mandag mandagen monday mon mån man",
        "tisdag tisdagen tirsdag tirsdagen tuesday tue tues tis tir",
        "onsdag onsdagen wednesday wed ons",
        "torsdag torsdagen thursday thu thur thurs tors tor",
        "fredag fredagen friday fri fre",
        "lördag lördagen lørdag lørdagen saturday sat lör lør",
        "söndag söndagen søndag søndagen sunday sun sön søn",
    )
):
    for _name in _names.split():
        WEEKDAYS[_name] = _index

#: "i tisdags" / "i torsdags": the Swedish past weekday.
PAST_WEEKDAYS = {"i måndags": 0, "i tisdags": 1, "i onsdags": 2, "i torsdags": 3, "i fredags": 4,
                 "i lördags": 5, "i söndags": 6}

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "januari januar january jan",
        "februari februar february feb",
        "mars march mar",
        "april apr",
        "maj mai may",
        "juni june jun",
        "juli july jul",
        "augusti august aug",
        "september sept sep",
        "oktober october okt oct",
        "november nov",
        "december desember dec des",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_WD = rf"(?:{_alternation([w for w in WEEKDAYS if len(w) > 4])}|(?:{_alternation([w for w in WEEKDAYS if len(w) <= 4])})\.?)"
_MON = rf"(?:{_alternation([m for m in MONTHS if len(m) > 4])}|(?:{_alternation([m for m in MONTHS if len(m) <= 4])})\.?)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_ORD = r"(?:\.|:e|:a|:te|st|nd|rd|th)?"
_YEAR = r"(?:20\d\d)"
_DASH = r"\s*(?:[–—-]|till?|to|until)\s*"
_SEP = r"[ \t\u00a0]+"

# "tisdag 3 mars 2026", "torsdag 14. november", "den 12:e maj", "Friday, 5 June 2026", "3rd of March"
_DMY = (
    rf"(?:(?P<wd>{_WD}),?{_SEP}(?:(?:den|the){_SEP})?|(?:den|the){_SEP})?"
    rf"(?P<d>{_DAY}){_ORD}{_SEP}(?:of{_SEP})?(?P<mon>{_MON})(?:,?{_SEP}(?P<y>{_YEAR}))?"
)
# "March 3, 2026", "Tuesday, March 3rd"
_MDY = (
    rf"(?:(?P<wd2>{_WD}),?{_SEP})?(?P<mon2>{_MON}){_SEP}(?P<d2>{_DAY})(?:st|nd|rd|th)?"
    rf"(?:,?{_SEP}(?P<y2>{_YEAR}))?(?![\d.:])"
)
# "26–28 mars 2026", "22.–23. oktober", "den 15–16 oktober", "Friday 11 – Sunday 13 September 2026",
# "onsdag 23. og torsdag 24. september 2026" (two days named together: the first is the start)
_DRANGE = (
    rf"(?:(?:{_WD}),?{_SEP})?(?:den{_SEP})?(?P<rd1>{_DAY}){_ORD}(?:{_DASH}|{_SEP}(?P<rconj>och|og|and|&){_SEP})(?:(?:{_WD}),?{_SEP})?"
    rf"(?P<rd2>{_DAY}){_ORD}{_SEP}(?P<rmon>{_MON})(?:,?{_SEP}(?P<ry>{_YEAR}))?"
)
# 2026-03-03, 3/3, 3/3 2026, 3/3-2026, 03.03.2026, 3.3.26
_ISO = r"(?P<iy>20\d\d)-(?P<im>0?[1-9]|1[0-2])-(?P<id>[0-3]?\d)(?![\d])"
_NUM = (
    rf"(?:(?P<nwd>{_WD}),?{_SEP}(?:den{_SEP})?|den{_SEP})?"
    r"(?<![\d/.])(?P<nd>[0-3]?\d)(?P<nsep>[/.])(?P<nm>0?[1-9]|1[0-2])"
    r"(?:(?P=nsep)(?P<ny>(?:20)?\d\d)|[ -](?P<ny4>20\d\d)|(?P<ndot>\.))?(?![\d/]|\.\d)"
)

_DATE_RE = compile_guarded(
    rf"(?<![\w])(?:{_DRANGE}|{_DMY}|{_MDY}|{_ISO}|{_NUM})(?![\w])", re.IGNORECASE
)

_H = r"(?:[01]?\d|2[0-3])"
_M = r"[0-5]\d"
_AMPM = r"(?:\s?(?P<{}>[ap]\.?m\.?))?"
_KL = r"(?:kl\.?|klockan|klokka|klokken|kl:)"
_TPREFIX = rf"(?:(?:ca\.?|cirka|ungefär|omkring|rundt|around|about|approx\.?|from|fra|från|at|start|starts|starting|startar|begins?|mellom|mellan|between){_SEP})*"
# A time with minutes ("12.00", "12:30", "9.15am"), or an hour that a clock word owns ("kl 12", "2 pm").
_TIME_RE = compile_guarded(
    rf"(?<![\w.:,/])(?P<pre>{_TPREFIX}(?:{_KL}{_SEP}?)?)"
    rf"(?P<h1>{_H})(?:[.:](?P<m1>{_M}))?{_AMPM.format('ap1')}"
    rf"(?:(?P<dash>{_DASH}|\s+(?:och|og|and)\s+)(?:{_KL}{_SEP}?)?(?P<h2>{_H})(?:[.:](?P<m2>{_M}))?{_AMPM.format('ap2')})?"
    r"(?![\w]|[.:,]\d|\s?%|\s?(?:kr|sek|nok|eur|€|st|mm|cm|ml|mg|m|km|kg|år|years?|min|minuter|minutter|minutes|timmar|timer|hours?|personer|pers|deltagare|deltakere|participants|platser|plasser)\b)",
    re.IGNORECASE,
)
_WEEK_RE = compile_guarded(
    rf"(?<![\w])(?:v\.|v|vecka|veckan|vecke|uke|uka|week|wk\.?)\s?(?P<w1>[1-9]|[1-4]\d|5[0-3])(?:{_DASH}(?P<w2>[1-9]|[1-4]\d|5[0-3]))?(?:,?\s(?P<wy>{_YEAR}))?(?![\w])",
    re.IGNORECASE,
)
_NUMWORDS = {"en": 1, "ett": 1, "ei": 1, "one": 1, "an": 1, "a": 1, "två": 2, "to": 2, "two": 2, "tre": 3,
             "three": 3, "fyra": 4, "fire": 4, "four": 4}
_DURATION_RE = compile_guarded(
    r"(?<![\w])(?:(?:ca\.?|cirka|ungefär|omkring|rundt|around|about|approx\.?|approximately)\s+)?"
    r"(?:(?P<n>\d{1,3}(?:[.,]5)?|en|ett|ei|one|an|a|två|to|two|tre|three|fyra|fire|four)(?:\s?[-–]\s?|\s)"
    r"(?P<unit>timmar|timme|timmes|timer|time|timers|tim|hours|hour|h|minuter|minutter|minutes|minute|minuters|min|mins))"
    r"(?![\w])"
    r"|(?<![\w])(?P<half>en halvtimme|en halvtimmes|halvtimme|halvtimmes|en halvtime|halvtime|half an hour|halvannen time|en och en halv timme|one and a half hours?)(?![\w])",
    re.IGNORECASE,
)

_REL_DAY = {
    "i dag": 0, "idag": 0, "today": 0, "i kväll": 0, "ikväll": 0, "i kveld": 0, "ikveld": 0, "tonight": 0,
    "i morgon": 1, "imorgon": 1, "i morgen": 1, "imorgen": 1, "tomorrow": 1,
    "i övermorgon": 2, "i overmorgen": 2, "the day after tomorrow": 2,
}
_REL_WEEK = {"nästa vecka": 1, "neste uke": 1, "next week": 1, "denna vecka": 0, "den här veckan": 0,
             "i veckan": 0, "denne uken": 0, "this week": 0}
_NEXT = r"(?:nästa|neste|next|kommande|førstkommende|coming|this|denna|denne|nu på|nå på|på|on)"
_REL_RE = compile_guarded(
    rf"(?<![\w])(?:(?P<day>{_alternation(list(_REL_DAY))})"
    rf"|(?P<past>{_alternation(list(PAST_WEEKDAYS))})"
    rf"|(?P<wd2>{_alternation([w for w in WEEKDAYS if len(w) > 4])})\s+(?P<nextweek2>nästa vecka|neste uke|next week)"
    rf"|(?P<next>{_NEXT})\s+(?P<wd>{_alternation([w for w in WEEKDAYS if len(w) > 4])})(?:\s+(?P<nextweek>nästa vecka|neste uke|next week))?"
    rf"|(?P<wk>{_alternation(list(_REL_WEEK))}))(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mention:
    """One date/time expression: where it stands in the text and what it means.

    kind: "date" (a day or a range of days, maybe with times), "time" (clock times only),
    "week" (an ISO week or a range of weeks), "relative" (a day read against the anchor),
    "relative_week", "duration" (a stated length, `minutes`).
    """

    start: int
    end: int
    text: str
    kind: str
    first: date | None = None
    last: date | None = None
    start_time: time | None = None
    end_time: time | None = None
    minutes: int | None = None
    has_year: bool = False
    #: The weekday written next to the date disagrees with the calendar (a typo somewhere).
    weekday_conflict: bool = False

    @property
    def has_time(self) -> bool:
        return self.start_time is not None


def zone_for(language: str | None, jurisdiction: str | None = None) -> tzinfo:
    """Europe/Oslo for Norwegian mail or a Norwegian mailbox, else Europe/Stockholm."""
    if jurisdiction == "NO" or (jurisdiction is None and language == "nb"):
        return OSLO
    return STOCKHOLM


def infer_year(month: int, day: int, anchor: date, weekday: int | None = None) -> date | None:
    """The date with this day and month nearest after the anchor (GRACE_DAYS' grace for the past).

    A weekday written with it ("tisdag 3 mars") picks the year in which the date falls on that day,
    when the nearest year does not.
    """
    candidates: list[date] = []
    for year in (anchor.year - 1, anchor.year, anchor.year + 1, anchor.year + 2):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    grace = anchor - timedelta(days=GRACE_DAYS)
    ahead = [c for c in candidates if c >= grace]
    if weekday is not None:
        matching = [c for c in ahead if c.weekday() == weekday and (c - anchor).days < 400]
        if matching:
            return matching[0]
    return ahead[0] if ahead else candidates[-1]


def _make_date(year: str | None, month: int, day: int, anchor: date | None, weekday: int | None) -> tuple[date | None, bool]:
    if year:
        value = int(year)
        if value < 100:
            value += 2000
        try:
            return date(value, month, day), True
        except ValueError:
            return None, True
    if anchor is None:
        return None, False
    return infer_year(month, day, anchor, weekday), False


def _clock(hour: str | None, minute: str | None, ampm: str | None) -> time | None:
    if hour is None:
        return None
    h = int(hour)
    m = int(minute) if minute else 0
    if ampm:
        marker = ampm.lower().replace(".", "").strip()
        if marker == "pm" and h < 12:
            h += 12
        elif marker == "am" and h == 12:
            h = 0
    if h > 23:
        return None
    return time(h, m)


def _weekday_of(word: str | None) -> int | None:
    if not word:
        return None
    return WEEKDAYS.get(word.lower().rstrip(".,"))


_ITEM_NUMBER_BEFORE = re.compile(r"(?i)(?<![\w])(?:dag|dagen|day|del|part|session|modul|module|nr|no)\.?\s*$")


def _dates(text: str, anchor: date | None) -> list[Mention]:
    found: list[Mention] = []
    position = 0
    while True:
        match = _DATE_RE.search(text, position)
        if match is None:
            break
        position = match.end()
        g = match.groupdict()
        if g["rd1"] and _ITEM_NUMBER_BEFORE.search(text, max(0, match.start() - 12), match.start()):
            # "Program dag 1 – torsdag 15 oktober", "Day 2 - Friday 16 October": a day's number, not a range
            position = match.start("rd1") + len(g["rd1"])
            continue
        if g["rconj"] and int(g["rd2"]) - int(g["rd1"]) not in (1, 2):
            # "Monday 15 and Thursday 18 June": two options, not one event over four days; read on
            # from the second day, which is a date of its own.
            position = match.end("rconj")
            continue
        first = last = None
        has_year = False
        conflict = False
        if g["rd1"]:
            month = MONTHS[g["rmon"].lower().rstrip(".")]
            last, has_year = _make_date(g["ry"], month, int(g["rd2"]), anchor, None)
            d1 = int(g["rd1"])
            if last is not None:
                try:
                    first = date(last.year, month, d1)
                except ValueError:
                    first = None
                if first is not None and first > last:
                    first = None
            if first is None:
                continue
        elif g["d"]:
            month = MONTHS[g["mon"].lower().rstrip(".")]
            weekday = _weekday_of(g["wd"])
            first, has_year = _make_date(g["y"], month, int(g["d"]), anchor, weekday)
            conflict = weekday is not None and first is not None and first.weekday() != weekday
        elif g["d2"]:
            month = MONTHS[g["mon2"].lower().rstrip(".")]
            # "may 5" needs a capital or a year: "may" is an English verb.
            if g["mon2"].lower() == "may" and not g["y2"] and not g["mon2"][0].isupper():
                continue
            weekday = _weekday_of(g["wd2"])
            first, has_year = _make_date(g["y2"], month, int(g["d2"]), anchor, weekday)
            conflict = weekday is not None and first is not None and first.weekday() != weekday
        elif g["iy"]:
            try:
                first, has_year = date(int(g["iy"]), int(g["im"]), int(g["id"])), True
            except ValueError:
                continue
        elif g["nd"]:
            year_text = g["ny"] or g["ny4"]
            if g["nsep"] == "." and not year_text and not g["ndot"] and not g["nwd"]:
                continue  # "12.03" is far more often a clock time than a date; "12.3." or "ons 22.4" is a date
            if g["nsep"] == "/" and g["ndot"]:
                continue
            if g["ndot"] and not (g["nwd"] or match.group(0).lower().startswith("den")) and not re.match(
                    r"\s*(?:kl|klokken|klockan|fra|från|from|\d)", text[match.end():match.end() + 10], re.IGNORECASE):
                continue  # "version 4.2." ends a sentence; "3.3. kl. 12" or "tirsdag 3.3." is a date
            day, month = int(g["nd"]), int(g["nm"])
            if not 1 <= day <= 31:
                continue
            weekday = _weekday_of(g["nwd"])
            first, has_year = _make_date(year_text, month, day, anchor, weekday)
        if first is None:
            continue
        found.append(Mention(match.start(), match.end(), match.group(0), "date", first, last or first,
                             has_year=has_year, weekday_conflict=conflict))
    return found


_CLOCK_WORD = re.compile(r"kl|klock|at\b|from|fra|från|start|around|rundt|omkring|ca|cirka|about")
_BETWEEN_WORD = re.compile(r"mellom|mellan|between")


def _times(text: str, taken: list[tuple[int, int]], date_ends: frozenset[int] = frozenset()) -> list[Mention]:
    found: list[Mention] = []
    for match in _TIME_RE.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        g = match.groupdict()
        pre = (g["pre"] or "").lower()
        clock_word = bool(_CLOCK_WORD.search(pre))
        # "mellom 13 og 14": one range, not two sessions ("mellan 2 och 3 deltagare" is no time at all)
        between_words = bool(g["h2"]) and bool(_BETWEEN_WORD.search(pre))
        clock_word = clock_word or between_words
        has_minutes = g["m1"] is not None or g["m2"] is not None
        has_ampm = bool(g["ap1"] or g["ap2"])
        if not (has_minutes or clock_word or has_ampm):
            # "13–16" with no clock word: a time range only right after a comma ("ca 3 timmar, 13–16").
            before = text[max(0, match.start() - 2):match.start()]
            after_date = any(0 <= match.start() - end <= 2 and not text[end:match.start()].strip(" ,") for end in date_ends)
            if not (g["h2"] and ("," in before or after_date) and g["dash"] and g["dash"].strip() in "–—-"):
                continue
        if g["h2"] and not g["m1"] and g["m2"] and not clock_word and not has_ampm:
            continue  # "3–12.00" is not a range of clock times
        if g["m1"] is None and g["h2"] is None and not clock_word and not has_ampm:
            continue
        if g["dash"] and g["dash"].strip().lower() in ("och", "og", "and") and not (g["m1"] and g["m2"]) and not between_words:
            continue
        ap2 = g["ap2"] or None
        ap1 = g["ap1"] or (ap2 if ap2 and g["h2"] and int(g["h1"]) <= int(g["h2"]) else None)
        start_time = _clock(g["h1"], g["m1"], ap1)
        end_time = _clock(g["h2"], g["m2"], ap2)
        if start_time is None:
            continue
        if g["h2"] and end_time is None:
            continue
        if g["dash"] and g["dash"].strip().lower() in ("och", "og", "and") and not between_words:
            end_time = None  # "12.00 och 14.00": two sessions, not a range
        # Leave the prefix words ("from", "kl.") inside the span: they are part of the phrase.
        found.append(Mention(match.start(), match.end(), match.group(0).strip(), "time",
                             start_time=start_time, end_time=end_time))
    return found


def _weeks(text: str, anchor: date | None) -> list[Mention]:
    found: list[Mention] = []
    for match in _WEEK_RE.finditer(text):
        if anchor is None:
            year = None
        else:
            year = int(match.group("wy")) if match.group("wy") else anchor.year
        w1 = int(match.group("w1"))
        w2 = int(match.group("w2")) if match.group("w2") else w1
        first = last = None
        if year is not None:
            try:
                first = date.fromisocalendar(year, w1, 1)
                if anchor is not None and not match.group("wy") and first < anchor - timedelta(days=GRACE_DAYS):
                    first = date.fromisocalendar(year + 1, w1, 1)
                    year += 1
                last = date.fromisocalendar(year, w2, 5)
            except ValueError:
                first = last = None
        found.append(Mention(match.start(), match.end(), match.group(0), "week", first, last))
    return found


_WEEKDAY_BEFORE = re.compile(rf"(?<![\w])(?P<wd>{_WD}),?\s+(?:(?:i|in|på)\s+)?$", re.IGNORECASE)


def _weekday_in_week(text: str, week: Mention) -> Mention | None:
    """"onsdag v. 12", "tirsdag i uke 14", "Wednesday week 12": one day, read as a date mention."""
    if week.first is None or week.first != week.last - timedelta(days=4):
        return None
    match = _WEEKDAY_BEFORE.search(text, max(0, week.start - 16), week.start)
    if match is None:
        return None
    weekday = _weekday_of(match.group("wd"))
    if weekday is None:
        return None
    day = week.first + timedelta(days=weekday)
    return Mention(match.start(), week.end, text[match.start():week.end], "date", day, day,
                   has_year=week.text.strip()[-4:].isdigit())


def _durations(text: str) -> list[Mention]:
    found: list[Mention] = []
    for match in _DURATION_RE.finditer(text):
        if match.group("half"):
            phrase = match.group("half").lower()
            minutes = 90 if ("halvannen" in phrase or "och en halv" in phrase or "and a half" in phrase) else 30
        else:
            raw = match.group("n").lower().replace(",", ".")
            amount = _NUMWORDS.get(raw)
            value = float(raw) if amount is None else float(amount)
            unit = match.group("unit").lower()
            minutes = int(value * 60) if unit.startswith(("tim", "hour", "h")) and unit not in ("min", "mins") else int(value)
            if raw in ("a", "to", "an") and not unit.startswith(("tim", "hour", "min")):
                continue
            if minutes <= 0 or minutes > 24 * 60 * 5:
                continue
        found.append(Mention(match.start(), match.end(), match.group(0), "duration", minutes=minutes))
    return found


def _next_weekday(anchor: date, weekday: int, *, strictly_after: bool = True) -> date:
    delta = (weekday - anchor.weekday()) % 7
    if delta == 0 and strictly_after:
        delta = 7
    return anchor + timedelta(days=delta)


def _relatives(text: str, anchor: date | None) -> list[Mention]:
    if anchor is None:
        return []
    found: list[Mention] = []
    for match in _REL_RE.finditer(text):
        g = match.groupdict()
        if g["day"]:
            day = anchor + timedelta(days=_REL_DAY[g["day"].lower()])
            found.append(Mention(match.start(), match.end(), match.group(0), "relative", day, day))
        elif g["past"]:
            weekday = PAST_WEEKDAYS[g["past"].lower()]
            delta = (anchor.weekday() - weekday) % 7 or 7
            day = anchor - timedelta(days=delta)
            found.append(Mention(match.start(), match.end(), match.group(0), "relative", day, day))
        elif g["wd"] or g["wd2"]:
            weekday = WEEKDAYS[(g["wd"] or g["wd2"]).lower()]
            if g["nextweek"] or g["nextweek2"]:
                monday = anchor - timedelta(days=anchor.weekday()) + timedelta(days=7)
                day = monday + timedelta(days=weekday)
            else:
                # "nästa tisdag", "on Thursday", "på fredag": the first such day after the mail.
                day = _next_weekday(anchor, weekday)
            found.append(Mention(match.start(), match.end(), match.group(0), "relative", day, day))
        elif g["wk"]:
            weeks = _REL_WEEK[g["wk"].lower()]
            monday = anchor - timedelta(days=anchor.weekday()) + timedelta(days=7 * weeks)
            found.append(Mention(match.start(), match.end(), match.group(0), "relative_week", monday,
                                 monday + timedelta(days=4)))
    return found


_ANY_DIGIT = re.compile(r"\d")


def _overlaps(a: Mention, spans: list[Mention]) -> bool:
    return any(s.start < a.end and a.start < s.end for s in spans)


_JOIN_RANGE = re.compile(
    r"^,?\s*(?:(?:kl\.?|klockan|klokken|at)?\s*(?P<h>[01]?\d|2[0-3])[.:](?P<m>[0-5]\d)\s*)?"
    r"(?P<sep>[–—-]|till|til|to|until|och|og|and)\s*$",
    re.IGNORECASE,
)
#: What may stand between a date and its time: "kl.", a comma, "at", a weekday in brackets…
_JOIN_TIME = re.compile(r"^[\s,()]*(?:(?:den|the|at|from|fra|från|between|mellom|mellan|,|–|-)\s*)?$", re.IGNORECASE)


def _join(dates: list[Mention], times: list[Mention], text: str) -> list[Mention]:
    """Merge "date – date" into a range and a date with the clock time right after it."""
    dates = sorted(dates, key=lambda m: m.start)
    merged: list[Mention] = []
    index = 0
    while index < len(dates):
        current = dates[index]
        if index + 1 < len(dates):
            nxt = dates[index + 1]
            between = text[current.end:nxt.start]
            joint = _JOIN_RANGE.match(between)
            # A period ("1 september 2026 – 31 augusti 2027", "from 1 January to 31 December") may run
            # for years; days named with "och"/"og" ("3 mars och 10 mars") belong to one event only
            # when they are close.
            longest = 31 if joint and joint.group("sep").lower() in ("och", "og", "and") else 3 * 366
            if (current.kind == nxt.kind == "date" and joint and current.first and nxt.last and nxt.first
                    and current.first < nxt.first and (nxt.last - current.first).days <= longest):
                first = current.first
                if not current.has_year and nxt.has_year and first.year != nxt.last.year:
                    try:
                        first = first.replace(year=nxt.last.year if first.month <= nxt.last.month else nxt.last.year - 1)
                    except ValueError:
                        pass
                # "torsdag 15. oktober kl. 10.00 – fredag 16. oktober kl. 14.00": the first day's time
                # starts the event; the last day's time ends it.
                inner = _clock(joint.group("h"), joint.group("m"), None) if joint.group("h") else None
                current = Mention(current.start, nxt.end, text[current.start:nxt.end], "date", first, nxt.last,
                                  start_time=inner, end_time=nxt.start_time if inner else None,
                                  has_year=nxt.has_year or current.has_year)
                index += 1
        merged.append(current)
        index += 1
    out: list[Mention] = []
    used: set[int] = set()
    for mention in merged:
        for position, clock in enumerate(times):
            if position in used or clock.start < mention.end:
                continue
            between = text[mention.end:clock.start]
            if len(between) <= 12 and _JOIN_TIME.match(between):
                used.add(position)
                if mention.has_time:  # "… – fredag 16. oktober kl. 14.00": the range's end time
                    mention = replace(mention, end=clock.end, text=text[mention.start:clock.end],
                                      end_time=clock.start_time)
                else:
                    mention = replace(mention, end=clock.end, text=text[mention.start:clock.end],
                                      start_time=clock.start_time, end_time=clock.end_time)
            break
        out.append(mention)
    # "12.00–13.00 tisdag 3 mars": a clock time written just before its date.
    for index, mention in enumerate(out):
        if mention.kind not in ("date", "relative") or mention.has_time:
            continue
        for position, clock in enumerate(times):
            if position in used or clock.end > mention.start:
                continue
            between = text[clock.end:mention.start]
            if len(between) <= 4 and re.fullmatch(r"[\s,]*", between):
                used.add(position)
                out[index] = replace(mention, start=clock.start, text=text[clock.start:mention.end],
                                     start_time=clock.start_time, end_time=clock.end_time)
    out.extend(clock for position, clock in enumerate(times)
               if position not in used and not any(m.start <= clock.start and clock.end <= m.end for m in out))
    return sorted(out, key=lambda m: m.start)


def find_mentions(text: str, anchor: date | datetime | None = None, language: str | None = None) -> list[Mention]:
    """Every date, time, week, relative day and duration in `text`, in order of appearance."""
    if isinstance(anchor, datetime):
        anchor = anchor.date()
    has_digit = _ANY_DIGIT.search(text) is not None  # no digit: no date, time or week to look for
    weeks = _weeks(text, anchor) if has_digit else []
    week_days = [day for day in (_weekday_in_week(text, week) for week in weeks) if day is not None]
    if week_days:
        weeks = [week for week in weeks if not _overlaps(week, week_days)]
    dates = [m for m in _dates(text, anchor) if not _overlaps(m, weeks) and not _overlaps(m, week_days)] if has_digit else []
    dates += week_days
    relatives = [m for m in _relatives(text, anchor) if not _overlaps(m, dates) and not _overlaps(m, weeks)]
    durations = [m for m in _durations(text) if not _overlaps(m, dates)]
    taken = [(m.start, m.end) for m in dates + weeks + durations]
    times = _times(text, taken, frozenset(m.end for m in dates + relatives)) if has_digit else []
    joined = _join(dates + relatives, times, text)
    return sorted(joined + weeks + durations, key=lambda m: (m.start, -m.end))


def to_datetime(day: date, clock: time | None, zone: tzinfo) -> datetime:
    """An aware datetime in the mailbox's zone (00:00 when no time is written)."""
    return datetime.combine(day, clock or time(0, 0), tzinfo=zone)


@lru_cache(maxsize=1)
def _dateparser():  # noqa: ANN202 - imported lazily: dateparser costs ~0.5 s to import
    import dateparser

    return dateparser


def parse_date_phrase(phrase: str, language: str, anchor: datetime) -> date | None:
    """dateparser on one short phrase, restricted to the mail's language, as a fallback only.

    Called for the value of a date cue ("Datum: …") that the patterns could not read. Norwegian
    number words ("to", "tre") are refused first: dateparser reads them as days of the month.
    """
    phrase = phrase.strip()
    if not phrase or len(phrase) > 40 or not re.search(r"\d", phrase):
        return None
    languages = {"sv": ["sv"], "nb": ["nb"], "en": ["en"]}.get(language or "", ["sv", "nb", "en"])
    settings = {
        "RELATIVE_BASE": anchor.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "REQUIRE_PARTS": ["day", "month"],
        "PARSERS": ["absolute-time"],
    }
    try:
        value = _dateparser().parse(phrase, languages=languages, settings=settings)
    except Exception:  # noqa: BLE001 - a third-party parser must not fail extraction
        return None
    return value.date() if value is not None else None
