"""Dates and times as invitations write them, in Swedish, Norwegian and English, read against the mail's Date."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from triage.nlp.dates import OSLO, STOCKHOLM, find_mentions, infer_year, to_datetime, zone_for

#: A Friday; the mail's Date for most cases below.
FRIDAY = date(2026, 2, 20)


def only(text: str, anchor: date = FRIDAY, language: str = "sv", kind: str = "date"):
    found = [m for m in find_mentions(text, anchor, language) if m.kind == kind]
    assert len(found) == 1, f"expected one {kind} in {text!r}, got {found}"
    return found[0]


@pytest.mark.parametrize(
    ("language", "text", "day", "start", "end"),
    [
        ("sv", "tisdag 3 mars kl. 12.00–13.00", date(2026, 3, 3), time(12), time(13)),
        ("sv", "3/3 kl 12-13", date(2026, 3, 3), time(12), time(13)),
        ("sv", "Onsdag 15 april kl. 17.00–19.30, Hotell Linnégården", date(2026, 4, 15), time(17), time(19, 30)),
        ("nb", "onsdag 22. april 2026 kl. 17.00–19.30", date(2026, 4, 22), time(17), time(19, 30)),
        ("nb", "tirsdag 12. mai\nfra kl. 10.00 til 14.00", date(2026, 5, 12), time(10), time(14)),
        ("en", "Wednesday 22 October 2025, 11.45–12.45", date(2025, 10, 22), time(11, 45), time(12, 45)),
        ("en", "Tuesday 3 November 2026 from 08:15 to 08:45", date(2026, 11, 3), time(8, 15), time(8, 45)),
        ("en", "March 3, 2026 at 2 pm", date(2026, 3, 3), time(14), None),
        ("en", "Thursday 29 January 2026, 12:30–14:00 CET", date(2026, 1, 29), time(12, 30), time(14)),
    ],
)
def test_a_day_with_its_clock_time_is_one_mention(language: str, text: str, day: date, start: time, end: time | None) -> None:
    mention = only(text, language=language)
    assert (mention.first, mention.start_time, mention.end_time) == (day, start, end)


def test_norwegian_day_with_ordinal_dot_and_weekday_picks_the_year_the_weekday_fits() -> None:
    # Thursday 14 November is a Thursday in 2024, not in 2025: the weekday decides.
    mention = only("torsdag 14. november kl. 08.30–15.30", anchor=date(2024, 10, 1), language="nb")
    assert mention.first == date(2024, 11, 14)
    assert (mention.start_time, mention.end_time) == (time(8, 30), time(15, 30))
    assert not mention.weekday_conflict


def test_a_weekday_that_does_not_fit_the_date_is_flagged() -> None:
    assert only("torsdag 14. november", anchor=date(2026, 2, 1), language="nb").weekday_conflict


@pytest.mark.parametrize(("text", "day"), [("den 12:e maj", date(2026, 5, 12)), ("den 24:e december", date(2026, 12, 24)),
                                           ("den 1:a april", date(2026, 4, 1)), ("the 3rd of March", date(2026, 3, 3))])
def test_ordinal_days(text: str, day: date) -> None:
    assert only(text).first == day


def test_a_date_without_year_after_new_year_is_next_year() -> None:
    assert only("tisdag 20 januari kl. 08.15", anchor=date(2025, 12, 15)).first == date(2026, 1, 20)


def test_a_date_a_little_in_the_past_stays_in_this_year() -> None:
    assert infer_year(3, 10, date(2026, 3, 24)) == date(2026, 3, 10)
    assert infer_year(1, 10, date(2026, 3, 24)) == date(2027, 1, 10)


@pytest.mark.parametrize(
    ("language", "text", "first", "last"),
    [
        ("sv", "26–28 mars 2026", date(2026, 3, 26), date(2026, 3, 28)),
        ("sv", "den 15–16 oktober", date(2026, 10, 15), date(2026, 10, 16)),
        ("nb", "22.–23. oktober 2026", date(2026, 10, 22), date(2026, 10, 23)),
        ("en", "Friday 11 – Sunday 13 September 2026", date(2026, 9, 11), date(2026, 9, 13)),
        ("en", "Thursday 4 June – Sunday 7 June 2026", date(2026, 6, 4), date(2026, 6, 7)),
        ("sv", "30 mars–2 april 2026", date(2026, 3, 30), date(2026, 4, 2)),
        ("nb", "tirsdag 6. oktober og tirsdag 13. oktober 2026", date(2026, 10, 6), date(2026, 10, 13)),
    ],
)
def test_multi_day_ranges(language: str, text: str, first: date, last: date) -> None:
    mention = only(text, language=language)
    assert (mention.first, mention.last) == (first, last)


@pytest.mark.parametrize(
    ("language", "text", "first", "last"),
    [("sv", "v. 12", date(2026, 3, 16), date(2026, 3, 20)), ("sv", "vecka 42", date(2026, 10, 12), date(2026, 10, 16)),
     ("nb", "uke 10–12", date(2026, 3, 2), date(2026, 3, 20)), ("en", "week 47", date(2026, 11, 16), date(2026, 11, 20))],
)
def test_weeks_are_weeks_not_days(language: str, text: str, first: date, last: date) -> None:
    mention = only(text, language=language, kind="week")
    assert (mention.first, mention.last) == (first, last)
    assert not [m for m in find_mentions(text, FRIDAY, language) if m.kind == "date"]


@pytest.mark.parametrize(
    ("language", "text", "day"),
    [
        ("sv", "nästa tisdag", date(2026, 2, 24)),
        ("sv", "i morgon", date(2026, 2, 21)),
        ("sv", "imorgon", date(2026, 2, 21)),
        ("nb", "i morgen", date(2026, 2, 21)),
        ("nb", "neste tirsdag", date(2026, 2, 24)),
        ("en", "tomorrow", date(2026, 2, 21)),
        ("en", "on Thursday", date(2026, 2, 26)),
        ("en", "next Tuesday", date(2026, 2, 24)),
        ("sv", "på torsdag", date(2026, 2, 26)),
        ("sv", "i tisdags", date(2026, 2, 17)),
        ("sv", "tisdag nästa vecka", date(2026, 2, 24)),
    ],
)
def test_relative_days_resolve_against_the_mail_date(language: str, text: str, day: date) -> None:
    assert only(text, language=language, kind="relative").first == day


@pytest.mark.parametrize(("language", "text"), [("nb", "neste uke"), ("sv", "nästa vecka"), ("en", "next week")])
def test_next_week_is_the_following_monday_to_friday(language: str, text: str) -> None:
    mention = only(text, language=language, kind="relative_week")
    assert (mention.first, mention.last) == (date(2026, 2, 23), date(2026, 2, 27))


def test_a_relative_day_with_a_clock_time_nearby() -> None:
    found = find_mentions("I'll be in Stavanger on Thursday and drop by around 14.00.", FRIDAY, "en")
    assert [(m.kind, m.first, m.start_time) for m in found] == [
        ("relative", date(2026, 2, 26), None), ("time", None, time(14))]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("lunch 11.30", time(11, 30), None), ("Tid: 13.15–13.45", time(13, 15), time(13, 45)),
     ("kl 14", time(14), None), ("ca 3 timmar, 13–16", time(13), time(16)), ("9am-11am", time(9), time(11)),
     ("rundt kl. 11.30", time(11, 30), None)],
)
def test_clock_times_alone(text: str, start: time, end: time | None) -> None:
    mention = only(text, kind="time")
    assert (mention.start_time, mention.end_time) == (start, end)


@pytest.mark.parametrize(
    ("language", "text"),
    [("nb", "Vi er to personer på avdelingen"), ("sv", "programversion 4.2 i 38 pumpar"), ("sv", "Ring 040-62 11 480"),
     ("en", "a 25% discount until may"), ("sv", "kostar 4 500 kr"), ("sv", "Rum 12.3")],
)
def test_ordinary_numbers_and_words_are_not_dates(language: str, text: str) -> None:
    assert [m for m in find_mentions(text, FRIDAY, language) if m.kind in ("date", "time", "relative")] == []


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("ca 45 minuter", 45), ("2 timmar", 120), ("ca. 30 minutter", 30), ("a 20-minute update", 20), ("en halvtimme", 30),
     ("about 20 minutes in total", 20), ("1,5 timme", 90), ("halvannen time", 90)],
)
def test_stated_lengths(text: str, minutes: int) -> None:
    assert only(text, kind="duration").minutes == minutes


def test_time_zone_follows_jurisdiction_then_language() -> None:
    assert zone_for("nb") is OSLO
    assert zone_for("sv") is STOCKHOLM
    assert zone_for("en", "NO") is OSLO
    assert zone_for("nb", "SE") is STOCKHOLM


def test_iso_output_has_winter_and_summer_offsets() -> None:
    winter = to_datetime(date(2026, 3, 3), time(12), STOCKHOLM)
    summer = to_datetime(date(2026, 4, 21), time(17), OSLO)
    assert winter.isoformat() == "2026-03-03T12:00:00+01:00"
    assert summer.isoformat() == "2026-04-21T17:00:00+02:00"
    assert to_datetime(date(2026, 10, 14), None, STOCKHOLM).isoformat() == "2026-10-14T00:00:00+02:00"


def test_datetime_anchor_is_accepted() -> None:
    anchor = datetime(2026, 2, 20, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert only("i morgon", anchor=anchor, kind="relative").first == date(2026, 2, 21)


def test_offsets_point_at_the_phrase() -> None:
    text = "Välkommen!\nTid: tisdag 3 mars kl. 12.00–13.00\nPlats: sal 3"
    mention = only(text)
    assert text[mention.start:mention.end] == "tisdag 3 mars kl. 12.00–13.00"


@pytest.mark.parametrize(
    ("language", "text", "day", "start", "end"),
    [
        ("sv", "tis 3 mars kl 12-13", date(2026, 3, 3), time(12), time(13)),
        ("sv", "fre 13/3 13-15", date(2026, 3, 13), time(13), time(15)),
        ("nb", "tirsdag 3.3. kl. 12", date(2026, 3, 3), time(12), None),
        ("sv", "12.00-13.00 tisdag 3 mars", date(2026, 3, 3), time(12), time(13)),
        ("nb", "den 3.3.2026 kl. 12.00", date(2026, 3, 3), time(12), None),
        ("sv", "tisdagen den 3:e mars klockan 12", date(2026, 3, 3), time(12), None),
        ("nb", "mandag 9. mars fra 12 til 14", date(2026, 3, 9), time(12), time(14)),
    ],
)
def test_short_weekdays_numeric_dates_and_times_written_first(language: str, text: str, day: date, start: time,
                                                              end: time | None) -> None:
    mention = only(text, language=language)
    assert (mention.first, mention.start_time, mention.end_time) == (day, start, end)


@pytest.mark.parametrize("text", ["Programversion 4.2.", "sidan 13-15 i handboken", "fre 13/3 13"])
def test_version_numbers_pages_and_two_digit_tails_are_not_read_wrongly(text: str) -> None:
    found = find_mentions(text, FRIDAY, "sv")
    assert all(m.first is None or m.first.year == 2026 for m in found)
    assert not [m for m in found if m.kind == "time"]


# --- form families added with the date pass: ranges of days and periods, clock ranges with
# "mellom/between", numeric dates with a weekday, a weekday in a numbered week ----------------------

@pytest.mark.parametrize(
    ("language", "text", "first", "last"),
    [
        ("nb", "onsdag 23. og torsdag 24. september 2026", date(2026, 9, 23), date(2026, 9, 24)),
        ("nb", "tirsdag 20. og torsdag 22. oktober 2026", date(2026, 10, 20), date(2026, 10, 22)),
        ("sv", "Projekttid: 1 september 2026 – 31 augusti 2027", date(2026, 9, 1), date(2027, 8, 31)),
        ("en", "from 1 January to 31 December 2027", date(2027, 1, 1), date(2027, 12, 31)),
    ],
)
def test_two_days_or_a_period_are_one_range_that_starts_on_the_first(language: str, text: str, first: date, last: date) -> None:
    mention = only(text, language=language)
    assert (mention.first, mention.last) == (first, last)


def test_a_range_with_a_time_on_each_day_starts_with_the_first_days_time() -> None:
    mention = only("torsdag 15. oktober kl. 10.00 – fredag 16. oktober 2026 kl. 14.00", language="nb")
    assert (mention.first, mention.last, mention.start_time, mention.end_time) == (
        date(2026, 10, 15), date(2026, 10, 16), time(10), time(14))
    assert not [m for m in find_mentions("torsdag 15. oktober kl. 10.00 – fredag 16. oktober 2026 kl. 14.00", FRIDAY)
                if m.kind == "time"]


def test_days_offered_as_options_are_not_a_range() -> None:
    mention = only("Monday 15 and Thursday 18 June at 13:00", anchor=date(2026, 6, 1), language="en")
    assert (mention.first, mention.start_time) == (date(2026, 6, 18), time(13))


def test_a_numbered_programme_day_is_no_range() -> None:
    mention = only("Program dag 1 – torsdag 15 oktober", anchor=date(2026, 8, 26))
    assert mention.first == date(2026, 10, 15)


@pytest.mark.parametrize(
    ("language", "text", "day", "start", "end"),
    [
        ("nb", "neste tirsdag mellom 13 og 14", date(2026, 2, 24), time(13), time(14)),
        ("en", "next Thursday 12-13", date(2026, 2, 26), time(12), time(13)),
    ],
)
def test_a_relative_day_takes_the_clock_range_after_it(language: str, text: str, day: date, start: time, end: time) -> None:
    mention = only(text, language=language, kind="relative")
    assert (mention.first, mention.start_time, mention.end_time) == (day, start, end)


def test_between_two_numbers_that_are_no_clock_times_is_no_time() -> None:
    assert [m for m in find_mentions("mellan 2 och 3 deltagare per enhet", FRIDAY) if m.kind == "time"] == []


@pytest.mark.parametrize(
    ("text", "day", "start"),
    [
        ("ons 22.4 kl 15-16", date(2026, 4, 22), time(15)),
        ("Onsdag 21.10. kl. 18.00–20.30", date(2026, 10, 21), time(18)),
        ("onsdag v. 12, kl. 8.30–9.30", date(2026, 3, 18), time(8, 30)),
    ],
)
def test_numeric_day_or_week_with_a_weekday_is_a_date(text: str, day: date, start: time) -> None:
    mention = only(text)
    assert (mention.first, mention.start_time) == (day, start)


def test_a_week_without_a_weekday_stays_a_week() -> None:
    assert only("beräknad leverans v. 36", kind="week").first == date(2026, 8, 31)
