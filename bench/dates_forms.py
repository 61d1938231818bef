"""dateparser against our date patterns, on the forms Swedish and Norwegian invitations use.

Run it as `python bench/dates_forms.py [--json]`. For every form (a phrase, its language, the
mail's Date and the expected day and clock time) it asks:

- dateparser.parse(phrase, languages=[lang], settings=…)      (restricted, as triage would call it)
- dateparser.parse(phrase, settings=…)                        (unrestricted: every language)
- dateparser.search.search_dates(phrase, languages=[lang], …) (finding a date inside a phrase)
- triage.nlp.dates.find_mentions(phrase, anchor, lang)        (our patterns)

and reports, per method, how many forms come out right (day, and time when the form has one)
and the median / worst microseconds per call (warm, after a first call; the first unrestricted
call, which loads every language, is reported on its own). The figures are why extraction reads
dates with its own patterns and keeps dateparser only as a fallback for a date cue's value.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import date, datetime, time as clock
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

from triage.nlp.dates import find_mentions  # noqa: E402

FRIDAY = datetime(2026, 2, 20, 9, 0)

#: (language, phrase, expected day, expected start time or None); None day: no date should be read.
FORMS: list[tuple[str, str, date | None, clock | None]] = [
    ("sv", "tisdag 3 mars kl. 12.00–13.00", date(2026, 3, 3), clock(12)),
    ("sv", "3/3 kl 12-13", date(2026, 3, 3), clock(12)),
    ("sv", "den 12:e maj", date(2026, 5, 12), None),
    ("nb", "torsdag 12. november kl. 08.30–15.30", date(2026, 11, 12), clock(8, 30)),
    ("sv", "v. 12", None, None),
    ("sv", "nästa tisdag", date(2026, 2, 24), None),
    ("sv", "i morgon", date(2026, 2, 21), None),
    ("nb", "i morgen", date(2026, 2, 21), None),
    ("sv", "den 24:e december", date(2026, 12, 24), None),
    ("nb", "tirsdag 17. mars 2026 kl. 11.30–12.30", date(2026, 3, 17), clock(11, 30)),
    ("sv", "onsdag 15 april 2026 kl. 12.00–13.00", date(2026, 4, 15), clock(12)),
    ("sv", "26–28 mars 2026", date(2026, 3, 26), None),
    ("nb", "22.–23. oktober 2026", date(2026, 10, 22), None),
    ("en", "Wednesday 22 October 2025, 11.45–12.45", date(2025, 10, 22), clock(11, 45)),
    ("en", "Tuesday 3 November 2026 from 08:15 to 08:45", date(2026, 11, 3), clock(8, 15)),
    ("en", "next Tuesday", date(2026, 2, 24), None),
    ("nb", "to", None, None),
    ("nb", "Vi er to personer", None, None),
    ("nb", "Kom innom to ganger", None, None),
    ("sv", "Vi har 4 platser kvar", None, None),
]


def _ok(day: date | None, at: clock | None, want_day: date | None, want_time: clock | None) -> bool:
    if want_day is None:
        return day is None
    return day == want_day and (want_time is None or at == want_time)


def _timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = call()
    return value, (time.perf_counter() - started) * 1e6


def run() -> dict[str, Any]:
    import dateparser
    from dateparser.search import search_dates

    settings = {"RELATIVE_BASE": FRIDAY, "PREFER_DATES_FROM": "future", "DATE_ORDER": "DMY"}
    _, first_unrestricted = _timed(lambda: dateparser.parse("tisdag 3 mars", settings=settings))
    methods = {
        "dateparser.parse(languages=[lang])": lambda lang, text: dateparser.parse(text, languages=[lang], settings=settings),
        "dateparser.parse(all languages)": lambda lang, text: dateparser.parse(text, settings=settings),
        "dateparser.search_dates(languages=[lang])": lambda lang, text: (
            (search_dates(text, languages=[lang], settings=settings) or [(None, None)])[0][1]),
        "triage find_mentions": lambda lang, text: next(
            (m for m in find_mentions(text, FRIDAY, lang) if m.kind in ("date", "relative")), None),
    }
    for method in methods.values():  # warm every path once
        method("sv", "tisdag 3 mars")
    report: dict[str, Any] = {"first_unrestricted_call_ms": round(first_unrestricted / 1000, 1), "methods": {}}
    for name, method in methods.items():
        right, times, rows = 0, [], []
        for lang, text, want_day, want_time in FORMS:
            value, micros = _timed(lambda: method(lang, text))
            times.append(micros)
            if value is None:
                day, at = None, None
            elif isinstance(value, datetime):
                day, at = value.date(), (value.time() if value.time() != clock(0) else None)
            else:  # a Mention
                day, at = value.first, value.start_time
            good = _ok(day, at, want_day, want_time)
            right += good
            rows.append({"lang": lang, "text": text, "read": f"{day} {at or ''}".strip(), "ok": good})
        report["methods"][name] = {"right": right, "forms": len(FORMS),
                                   "median_us": round(statistics.median(times), 1), "worst_us": round(max(times), 1),
                                   "rows": rows}
    return report


def summary(report: dict[str, Any]) -> str:
    lines = [f"first unrestricted dateparser call: {report['first_unrestricted_call_ms']} ms"]
    for name, figures in report["methods"].items():
        lines.append(f"{name:45} {figures['right']:2}/{figures['forms']} right, median {figures['median_us']} µs, "
                     f"worst {figures['worst_us']} µs")
    wrong = [(name, row) for name, f in report["methods"].items() for row in f["rows"] if not row["ok"]]
    for name, row in wrong:
        lines.append(f"  wrong: {name}: [{row['lang']}] {row['text']!r} → {row['read'] or 'nothing'}")
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str) if "--json" in sys.argv else summary(result))
