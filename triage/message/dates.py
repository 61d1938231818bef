"""Dates as mail writes them: RFC 5322 Date headers and the localised dates of forwarded headers.

Every datetime the parser returns is timezone-aware. A date written without a zone (Outlook's
"Skickat: den 3 mars 2026 10:00") is read in MAILBOX_TZ, the zone of the Swedish and Norwegian
mailboxes triage serves (Stockholm and Oslo keep the same offsets all year).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

MAILBOX_TZ = ZoneInfo("Europe/Stockholm")

#: Month names and abbreviations in English, Swedish, Norwegian (Bokmål), Danish and German.
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januari januar jänner",
        "february feb februari februar",
        "march mar mars marts märz mär mrz",
        "april apr",
        "may maj mai",
        "june jun juni",
        "july jul juli",
        "august aug augusti",
        "september sep sept",
        "october oct oktober okt",
        "november nov",
        "december dec desember dez dezember des",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

#: Zone abbreviations seen in Apple Mail and Gmail forward headers.
_ZONES = {"utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 60, "cet": 60, "met": 60, "cest": 120, "mest": 120,
          "eet": 120, "eest": 180, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "pst": -480, "pdt": -420}

_MONTH_WORD = r"([^\W\d_]{3,10})\.?"
_DAY_MONTH_YEAR = re.compile(r"(?<!\d)(\d{1,2})\.?\s+(?:de\s+)?" + _MONTH_WORD + r",?\s+(\d{4})(?!\d)")
_MONTH_DAY_YEAR = re.compile(_MONTH_WORD + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)", re.IGNORECASE)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DOTTED_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_TIME = re.compile(r"(?<![\d:])(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?!\d)\s*([ap]\.?\s?m\.?)?", re.IGNORECASE)
_ZONE = re.compile(
    r"(?:(?:gmt|utc)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?)|(?<![\w:])([+-])(\d{2}):?(\d{2})(?!\d)|\b([a-z]{1,4})\b",
    re.IGNORECASE,
)


def parse_rfc5322_date(raw: str) -> datetime | None:
    """A Date header value as an aware datetime, or None when it cannot be read."""
    try:
        value = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value is None or not 1900 <= value.year <= 2200:
        return None
    if value.tzinfo is None:  # "-0000", no zone, or a zone name the stdlib does not know ("CET")
        value = value.replace(tzinfo=_zone(raw) if _has_zone(raw) else UTC)
    return value


def _zone(rest: str) -> timezone | ZoneInfo:
    for match in _ZONE.finditer(rest):
        if match.group(1):
            minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
            return timezone(timedelta(minutes=minutes if match.group(1) == "+" else -minutes))
        if match.group(4):
            minutes = int(match.group(5)) * 60 + int(match.group(6))
            if minutes <= 14 * 60:
                return timezone(timedelta(minutes=minutes if match.group(4) == "+" else -minutes))
        elif match.group(7) and match.group(7).lower() in _ZONES:
            return timezone(timedelta(minutes=_ZONES[match.group(7).lower()]))
    return MAILBOX_TZ


def _has_zone(text: str) -> bool:
    return any(
        m.group(1) or m.group(4) or (m.group(7) and m.group(7).lower() in _ZONES) for m in _ZONE.finditer(text)
    )


def parse_loose_date(raw: str | None) -> datetime | None:
    """A date as a forward header block writes it, in any of the languages above, or None.

    Reads "den 3 mars 2026 10:00", "tirsdag 3. mars 2026 10:00", "Tuesday, March 3, 2026 10:00 AM",
    "tis 3 mars 2026 kl 10:00", "Tue, 3 Mar 2026 at 10:00", "3 mars 2026 10:00:00 CET",
    "Dienstag, 3. März 2026 10:00", "2026-03-03 10:00", "03.03.2026 10:00" and RFC 5322 dates.
    """
    if not raw:
        return None
    text = " ".join(raw.split())[:200]
    lowered = text.lower()
    year = month = day = None
    span = None
    for pattern, order in ((_ISO_DATE, "ymd"), (_DOTTED_DATE, "dmy")):
        match = pattern.search(lowered)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups())))
            year, month, day, span = parts["y"], parts["m"], parts["d"], match.span()
            break
    if span is None:
        match = _DAY_MONTH_YEAR.search(lowered)
        if match and match.group(2) in MONTHS:
            day, month, year, span = int(match.group(1)), MONTHS[match.group(2)], int(match.group(3)), match.span()
        else:
            match = _MONTH_DAY_YEAR.search(lowered)
            if match and match.group(1) in MONTHS:
                month, day, year, span = MONTHS[match.group(1)], int(match.group(2)), int(match.group(3)), match.span()
    if span is None or year is None or month is None or day is None:
        rfc = parse_rfc5322_date(text)
        if rfc is not None and not _has_zone(text):
            rfc = rfc.replace(tzinfo=MAILBOX_TZ)
        return rfc
    rest = lowered[: span[0]] + " " + lowered[span[1]:]
    hour = minute = second = 0
    time_match = _TIME.search(rest)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        meridiem = (time_match.group(4) or "").replace(".", "").replace(" ", "")
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
        rest = rest[: time_match.start()] + " " + rest[time_match.end():]
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=_zone(rest))
    except ValueError:
        return None
