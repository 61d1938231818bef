"""The mail as the checks read it: sentence-sized units of each section, amounts of money, evidence.

Every unit remembers its Section and its offsets there, so whatever a check quotes becomes an
`Evidence(text, source, part, start, end)` that points back into `ParsedMessage.sections`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from triage.message.envelope import ParsedMessage, Section
from triage.results import Evidence

#: A sentence ends at . ! ? followed by a space and something that starts a sentence.
_SENTENCE_END = re.compile(
    r"(?<!\bkl\.)(?<!\bca\.)(?<!\bdr\.)(?<!\bDr\.)(?<!\bnr\.)(?<!\bbl\.a\.)(?<!\bt\.ex\.)(?<!\be\.g\.)"
    r"(?<!\bi\.e\.)(?<!\bst\.)(?<!\bSt\.)(?<!\btel\.)(?<!\bprof\.)(?<!\bProf\.)(?<!\bmr\.)(?<!\bMr\.)(?<!\bMs\.)"
    r"(?<=[.!?])[\"”»)]*\s+(?=[\"“«(\-–•*]?\s*[A-ZÅÄÖÆØÉÜ])"
)
#: Longest evidence quoted from one unit; longer units are cut to a window around the match.
MAX_EVIDENCE = 240


@dataclass(frozen=True)
class Unit:
    """One sentence (or line) of one section: where it stands and what it says."""

    section: Section
    index: int  # position of the unit among all units of the message
    start: int
    end: int
    text: str

    @property
    def source(self) -> str:
        """The kind of section the unit is in (subject, body, forwarded, attachment, signature)."""
        return self.section.source

    def evidence(self, start: int | None = None, end: int | None = None) -> Evidence:
        """Evidence for the whole unit, or for [start, end) relative to the unit's text."""
        if start is None or end is None:
            lo, hi = 0, len(self.text)
        else:
            lo, hi = start, end
        if hi - lo < len(self.text) and len(self.text) <= MAX_EVIDENCE:
            lo, hi = 0, len(self.text)  # quote the whole sentence when it is short enough
        elif hi - lo > MAX_EVIDENCE:
            hi = lo + MAX_EVIDENCE
        elif len(self.text) > MAX_EVIDENCE:
            pad = (MAX_EVIDENCE - (hi - lo)) // 2
            lo = max(0, lo - pad)
            hi = min(len(self.text), lo + MAX_EVIDENCE)
            lo, hi = _word_bounds(self.text, lo, hi)
        text = self.text[lo:hi].strip()
        offset = self.text[lo:hi].find(text)
        start_abs = self.start + lo + max(offset, 0)
        return Evidence(text=text, source=self.section.source, part=self.section.name,
                        start=start_abs, end=start_abs + len(text))


def _word_bounds(text: str, lo: int, hi: int) -> tuple[int, int]:
    """Move a window's edges out of the middle of a word."""
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    return lo, hi


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) pairs, with a wrapped line joined to the next when the sentence clearly goes on.

    PDF text breaks lines inside sentences; a line that does not end a sentence, followed by a line
    that starts in lower case, is one sentence.
    """
    out: list[tuple[int, str]] = []
    pos = 0
    text = text or ""
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        body = line.rstrip("\r\n")
        if out and body[:1].islower() and out[-1][1].strip() and out[-1][1].rstrip()[-1:] not in ".!?:;":
            prev_start = out[-1][0]
            out[-1] = (prev_start, text[prev_start:start + len(body)])
            continue
        out.append((start, body))
    return out


def split_section(section: Section, first_index: int = 0) -> list[Unit]:
    """A section's text cut into lines, and long lines into sentences; blank pieces dropped."""
    units: list[Unit] = []
    for line_start, body in _lines(section.text or ""):
        if not body.strip():
            continue
        cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(body)] + [len(body)]
        for lo, hi in zip(cuts, cuts[1:]):
            piece = body[lo:hi]
            stripped = piece.strip()
            if not stripped:
                continue
            inner = piece.find(stripped)
            start = line_start + lo + inner
            units.append(Unit(section, first_index + len(units), start, start + len(stripped), stripped))
    return units


def message_units(message: ParsedMessage) -> list[Unit]:
    """Every unit of every section, in reading order; the signature last."""
    units: list[Unit] = []
    for section in message.sections:
        units.extend(split_section(section, len(units)))
    return units


def normalise(text: str) -> str:
    """Lower case with whitespace folded: the form quotes and units are compared in."""
    return " ".join(text.lower().split())


# --- money ---------------------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:[ \u00a0.,]\d{3})+|\d+"
_CURRENCY = r"(?:kr(?:onor|oner)?|sek|nok|eur|euro|€|usd|\$|dkk)"
_AMOUNT = re.compile(
    rf"(?:(?P<cur1>{_CURRENCY})\s?(?P<num1>{_NUMBER})(?:[.,]\d{{2}})?|(?P<num2>{_NUMBER})(?:[.,]\d{{2}})?\s?(?::-\s?)?(?P<cur2>{_CURRENCY})\b\.?)",
    re.IGNORECASE,
)
_PER_PERSON = re.compile(
    r"^\W{0,3}(?:per|/|i)\s?(?:person|pers\.?|deltagare|deltager|deltakar|kuvert|head|guest|gäst|participant|attendee|delegate)"
    r"|^\W{0,3}(?:pp|p\.p\.|each)\b",
    re.IGNORECASE,
)
#: Rough rates to compare amounts in one currency against a limit in another (not for money advice).
TO_SEK = {"SEK": 1.0, "NOK": 1.0, "DKK": 1.5, "EUR": 11.5, "USD": 10.5}


@dataclass(frozen=True)
class Amount:
    """A sum of money as written ("450 kr per person"), its value and currency, and where it stands."""

    value: float
    currency: str
    start: int
    end: int
    per_person: bool

    @property
    def sek(self) -> float:
        """The amount in Swedish kronor, at the rough rates of TO_SEK."""
        return self.value * TO_SEK.get(self.currency, 1.0)


def _currency(token: str, default: str) -> str:
    token = token.lower()
    if token in {"eur", "euro", "€"}:
        return "EUR"
    if token in {"usd", "$"}:
        return "USD"
    if token == "nok" or token == "kroner":
        return "NOK"
    if token == "dkk":
        return "DKK"
    if token == "sek" or token == "kronor":
        return "SEK"
    return default


def find_amounts(text: str, default_currency: str = "SEK") -> list[Amount]:
    """Every amount of money in a text; "kr" means the jurisdiction's own currency."""
    found: list[Amount] = []
    for m in _AMOUNT.finditer(text):
        number = m.group("num1") or m.group("num2")
        token = m.group("cur1") or m.group("cur2")
        digits = re.sub(r"[ \u00a0.,]", "", number)
        if not digits.isdigit():
            continue
        tail = text[m.end(): m.end() + 24]
        found.append(Amount(float(digits), _currency(token, default_currency), m.start(), m.end(),
                            bool(_PER_PERSON.search(tail))))
    return found


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A lexicon pattern, compiled once: case-insensitive, `\\b` aware of å ä ö æ ø."""
    return re.compile(pattern, re.IGNORECASE)


# --- negation ------------------------------------------------------------------------------------

_NEGATION = re.compile(
    r"\b(?:inte|ej|icke|ingen|inget|inga|aldrig|varken|not|no|never|without|nor|neither|none|"
    r"ikke|ikkje|intet|aldri|uten|verken)\b|n't\b",
    re.IGNORECASE,
)
#: Where a clause ends: a negation before this point does not reach the words after it.
_CLAUSE_END = re.compile(r"[.;:!?•\n()]|\s[–—-]\s|,\s*(?:men|but|och|and|og|så|so|samt)\b", re.IGNORECASE)


#: Phrases with a negation word that do not negate ("glöm inte", "not only", "no later than").
_NOT_NEGATION = re.compile(
    r"\b(?:glöm\s+inte|glem\s+ikke|don't\s+forget|do\s+not\s+forget|not\s+only|inte\s+bara|ikke\s+bare|"
    r"no\s+later\s+than|inte\s+senare\s+än|ikke\s+senere\s+enn|tveka\s+inte|nøl\s+ikke|don't\s+hesitate|"
    r"do\s+not\s+hesitate|missa\s+inte|ikke\s+gå\s+glipp|don't\s+miss)\b",
    re.IGNORECASE,
)


def negated(text: str, start: int, window: int = 70) -> bool:
    """True when a negation word stands in the same clause shortly before `start`."""
    lo = max(0, start - window)
    before = text[lo:start]
    cut = 0
    for m in _CLAUSE_END.finditer(before):
        cut = m.end()
    clause = _NOT_NEGATION.sub(" ", before[cut:])
    return bool(_NEGATION.search(clause))
