"""Which costs the company covers, and which the participant or employer pays, read clause by clause.

A cost item ("lunch", "hotellnatt", "föreläsarens arvode"; patterns/costs.jsonl, kind "item") is
counted as covered by the company only when its clause says so: a company-pays phrase ("vi
bjuder på", "står för", "dekkes", "provides"), a programme line ("12.00 Lunsj"), or a "Kostnader:"
line. A clause that names someone else as payer ("bekostas av deltagarens arbetsgivare", "Regionen
står för", "på egen bekostnad") or negates ("Reise betales ikke", "no food") makes the item
`other` or `negated`, never covered. Money amounts are read in the same pass.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from triage.nlp.fastre import compile_guarded
from triage.nlp.patterns import load_patterns
from triage.nlp.text import sentences

COST_LABELS: tuple[str, ...] = ("meal", "travel", "lodging", "fee", "venue", "speaker", "material", "transfer")


@dataclass(frozen=True)
class CostItem:
    """One cost word in context: what it is, who pays it, and the clause that says so."""

    start: int
    end: int
    text: str
    label: str
    pattern_id: str
    #: company (covered by the company), other (participant, employer, healthcare),
    #: negated ("betales ikke"), unknown (no payer said).
    payer: str
    clause_start: int
    clause_end: int
    #: The id of the pattern that decided who pays, or the context ("context/programme").
    payer_pattern: str | None = None


@dataclass(frozen=True)
class Amount:
    """A stated sum of money, e.g. "450 kr per person" → 450, SEK, per_person."""

    start: int
    end: int
    text: str
    amount: float
    currency: str
    per_person: bool
    per_hour: bool
    category: str | None
    payer: str

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "amount": self.amount, "currency": self.currency,
                "per_person": self.per_person, "per_hour": self.per_hour, "category": self.category,
                "payer": self.payer}


@dataclass(frozen=True)
class _Pattern:
    id: str
    label: str
    kind: str
    voice: str
    regex: re.Pattern[str]
    exclude: re.Pattern[str] | None


@lru_cache(maxsize=1)
def _patterns() -> tuple[_Pattern, ...]:
    out = []
    for item in load_patterns("costs"):
        regex = compile_guarded(rf"(?<![\w]){item['regex']}(?![\w])", re.IGNORECASE)
        exclude = re.compile(item["exclude"], re.IGNORECASE) if item.get("exclude") else None
        out.append(_Pattern(item["id"], item["label"], item["kind"], item.get("voice", ""), regex, exclude))
    return tuple(out)


@lru_cache(maxsize=None)
def _of_kind(kind: str) -> tuple[_Pattern, ...]:
    return tuple(p for p in _patterns() if p.kind == kind)


#: Where a clause ends inside a sentence: "…, men inte resan", "; Quantix pays …", " – ".
_CLAUSE_SPLIT = re.compile(
    r";\s+|\.\s+|\s+[–—]\s+|,?\s+(?:men|but|mens|medan|whereas|while|however)\s+|,\s+(?=(?:inte|ikke|not|no|inga|ingen)\b)",
    re.IGNORECASE,
)
_PROGRAMME_LINE = re.compile(r"^\s*(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[–-]\s*\d{1,2}[.:]\d{2})?\s*(?:\||\t|\s)")
_COSTS_CUE = re.compile(
    r"^\s*(?:kostnader|kostnad|costs?|betalning|betaling|payment|förtäring|servering|bevertning|catering|refreshments|mat|food|"
    r"vem betalar|hvem betaler|who pays|betaler|arrangør og betaler|ersättning|arvode|honorar|honorarium|compensation|fee|"
    r"stipendiet (?:täcker|omfattar|innefattar)|the (?:award|scholarship|grant) covers)\s*[:\t]",
    re.IGNORECASE,
)
_COMPANY_NAME = re.compile(r"(?<![\w])(?:AB|AS|ASA|A/S|ApS|Ltd|GmbH|Inc|Oy|AG|vi|we|oss|us|vår|vårt|our)(?![\w])")
_SPEAKER_OWNER = re.compile(
    r"(?:(?:dr|prof|docent|professor)\.?\s+\w+'s|\w+'s|\w+s'|föreläsarens|föreläsarnas|talarens|foredragsholderens|foreleserens)"
    r"\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_NAMED_SPEAKER = re.compile(r"(?:(?:dr|prof|docent|professor)\.?\s+\w+'s|föreläsarens|föreläsarnas|talarens|foredragsholderens|foreleserens|speaker's|speakers')\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_FOR_SPEAKER = re.compile(r"^\s*(?:\w+\s+){0,2}(?:för|for|til)\s+(?:\w+\s+){0,3}(?:föreläsar\w*|foredragsholder\w*|speakers?|talare\w*)", re.IGNORECASE)
_COMPENSATION_WORD = re.compile(r"(?i)(?:arvode|honorar|ersättning|compensation|honorarium|godtgjørelse|dagsats|timarvode|fee)")
_HOTEL_NAME = re.compile(r"(?:Hotell|Hotel)\s+[A-ZÅÄÖÆØ]")
_LIST_LEAD = re.compile(r":\s*$")

_DIGIT_RUN = re.compile(r"\d+")
_MONEY = re.compile(
    r"(?P<pre>SEK|NOK|EUR|DKK|€|kr\.?)?\s?(?<![\d,.])(?P<num>\d{1,3}(?:[ \u00a0.,]\d{3})+|\d+)(?:[.,](?P<dec>\d{1,2}))?(?![\d])"
    r"(?:\s?(?P<post>SEK|NOK|EUR|DKK|€|kr\.?|kronor|kroner|euro|:-))?",
    re.IGNORECASE,
)
_PER_PERSON = re.compile(r"^\s*(?:/\s?(?:person|pers|deltagare|deltaker|participant)|per (?:person|pers\.?|deltagare|deltaker|deltakar|participant|attendee|kuvert|gäst|gjest|head)|pp\b|à person|each|vardera|hver|per stipendiat)", re.IGNORECASE)
_PER_HOUR = re.compile(r"^\s*(?:/\s?(?:timme|tim|t|h|time|hour)\b|per (?:timme|tim|time|hour)|i timmen|i timen|an hour)", re.IGNORECASE)


def _currency(pre: str | None, post: str | None, jurisdiction: str | None) -> str | None:
    marker = (pre or post or "").lower().rstrip(".")
    if not marker:
        return None
    if marker in ("sek", "kronor"):
        return "SEK"
    if marker in ("nok", "kroner"):
        return "NOK"
    if marker in ("eur", "€", "euro"):
        return "EUR"
    if marker == "dkk":
        return "DKK"
    if marker in ("kr", ":-"):
        return "NOK" if jurisdiction == "NO" else "SEK"
    return None


def clauses(text: str) -> list[tuple[int, int]]:
    """The clauses of a text: sentences split further at "men", ";", " – " and the like."""
    out: list[tuple[int, int]] = []
    for start, end in sentences(text):
        cursor = start
        for match in _CLAUSE_SPLIT.finditer(text, start, end):
            if match.start() > cursor:
                out.append((cursor, match.start()))
            cursor = match.end()
        if end > cursor:
            out.append((cursor, end))
    return out


@lru_cache(maxsize=1)
def _item_regex() -> tuple[re.Pattern[str], tuple[_Pattern, ...], tuple[str, ...]]:
    """All item patterns as one alternation (one pass per clause; group i is pattern i), and the
    stems (from each pattern's "stems" list) one of which every match contains: a clause with none
    of them is skipped with a few substring tests instead of a regular-expression search."""
    items = _of_kind("item")
    parts = [f"(?P<p{i}>{pattern.regex.pattern})" for i, pattern in enumerate(items)]
    stems = tuple(sorted({stem.lower() for item in load_patterns("costs") if item["kind"] == "item"
                          for stem in item.get("stems", ())}))
    return compile_guarded("|".join(parts), re.IGNORECASE), items, stems


@lru_cache(maxsize=1)
def _stem_regex() -> re.Pattern[str]:
    """The stems as one case-insensitive alternation: one search per clause instead of a test per stem."""
    _, _, stems = _item_regex()
    return re.compile("|".join(re.escape(stem) for stem in sorted(stems, key=len, reverse=True)), re.IGNORECASE)


def _stem_hits(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of every stem occurrence in a text, sorted; None when a lower-cased copy would
    not keep the offsets. A `str.find` per stem on the lower-cased text is several times cheaper
    than the case-insensitive alternation of a hundred stems searched clause by clause."""
    _, _, stems = _item_regex()
    lowered = text.lower()
    if len(lowered) != len(text):
        return None
    hits: list[tuple[int, int]] = []
    for stem in stems:
        position = lowered.find(stem)
        while position >= 0:
            hits.append((position, position + len(stem)))
            position = lowered.find(stem, position + 1)
    hits.sort()
    return hits


def _has_stem(hits: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when a stem lies wholly inside characters start:end."""
    index = bisect_left(hits, (start, -1))
    while index < len(hits) and hits[index][0] < end:
        if hits[index][1] <= end:
            return True
        index += 1
    return False


def _items(text: str, start: int, end: int, hits: list[tuple[int, int]] | None = None) -> list[tuple[int, int, _Pattern]]:
    regex, items, stems = _item_regex()
    if stems:
        if hits is not None:
            if not _has_stem(hits, start, end):
                return []
        elif _stem_regex().search(text, start, end) is None:
            return []
    found: list[tuple[int, int, _Pattern]] = []
    for match in regex.finditer(text, start, end):
        pattern = items[int(match.lastgroup[1:])]
        if pattern.exclude is not None and pattern.exclude.search(match.group(0)):
            continue
        found.append((match.start(), match.end(), pattern))
    return found


@dataclass(frozen=True)
class _Verb:
    start: int
    end: int
    pattern: _Pattern
    payer: str  # company, other, negated
    decided_by: str = ""


_NEGATION_WINDOW = 14


def _verbs(text: str, start: int, end: int) -> list[_Verb]:
    """The pay verbs of a clause, each with who pays: its subject (active) or its agent (passive)."""
    raw: list[tuple[int, int, _Pattern]] = []
    for pattern in _of_kind("payer"):
        if pattern.label != "company":
            continue
        for match in pattern.regex.finditer(text, start, end):
            if any(s < match.end() and match.start() < e for s, e, _ in raw):
                continue
            raw.append((match.start(), match.end(), pattern))
    raw.sort(key=lambda item: item[0])
    agent = _of_kind("agent")[0].regex if _of_kind("agent") else None
    negation = _of_kind("negation")[0].regex if _of_kind("negation") else None
    verbs: list[_Verb] = []
    previous_end = start
    for index, (v_start, v_end, pattern) in enumerate(raw):
        next_start = raw[index + 1][0] if index + 1 < len(raw) else end
        if pattern.voice == "passive":
            who = text[v_end:min(next_start, v_end + 60)]
        else:
            who = text[max(previous_end, v_start - 60):v_start]
            who = re.split(r"[,:]\s|\s(?:och|og|and)\s", who)[-1] if re.search(r"[,:]\s|\s(?:och|og|and)\s", who) else who
        payer, decided_by = "company", pattern.id
        if pattern.voice == "recipient":
            who = ""  # "deltagarna bjuds på", "each attendee receives": the subject gets, the company gives
        if agent is not None and agent.search(who) and not _COMPANY_NAME.search(who):
            payer, decided_by = "other", _of_kind("agent")[0].id
        around = text[previous_end:min(end, v_end + _NEGATION_WINDOW)]
        if negation is not None and negation.search(around):
            payer, decided_by = "negated", _of_kind("negation")[0].id
        verbs.append(_Verb(v_start, v_end, pattern, payer, decided_by))
        previous_end = v_end
    return verbs


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _in_paid_list(text: str, position: int) -> bool:
    """True for a line of a list introduced by a pay phrase ("Stipendiet omfattar:" then the items)."""
    line_start = _line_start(text, position)
    cursor = line_start - 1
    for _ in range(8):
        if cursor <= 0:
            return False
        previous_start = _line_start(text, cursor)
        previous = text[previous_start:cursor]
        if not previous.strip():
            return False
        if _LIST_LEAD.search(previous):
            return bool(_verbs(text, previous_start, cursor)) or bool(_COSTS_CUE.match(previous + "\t"))
        cursor = previous_start - 1
    return False


def find_costs(text: str, jurisdiction: str | None = None) -> tuple[list[CostItem], list[Amount]]:
    """Every cost item with who pays it, and every amount of money, in one section's text."""
    items: list[CostItem] = []
    amounts: list[Amount] = []
    own_cost = _of_kind("payer")
    hits = _stem_hits(text)
    runs = [(m.start(), m.end()) for m in _DIGIT_RUN.finditer(text)]
    run_ends = [end for _, end in runs]  # a clause with no digit has no amount: skip the money regex
    for clause_start, clause_end in clauses(text):
        found = _items(text, clause_start, clause_end, hits)
        index = bisect_right(run_ends, clause_start)
        money = [m for m in _MONEY.finditer(text, clause_start, clause_end) if m.group("pre") or m.group("post")] if (
            index < len(runs) and runs[index][0] < clause_end) else []
        if not found and not money:
            continue
        verbs = _verbs(text, clause_start, clause_end)
        other = next((p.id for p in own_cost if p.label == "other" and p.regex.search(text, clause_start, clause_end)), None)
        line_head = text[_line_start(text, clause_start):clause_end]
        context: str | None = None
        if _PROGRAMME_LINE.match(line_head) and not money:
            context = "context/programme"
        elif _COSTS_CUE.match(line_head) and not (money and not verbs and not _COMPENSATION_WORD.match(line_head.strip())):
            context = "context/costs-line"
        elif _in_paid_list(text, clause_start):
            context = "context/paid-list"
        labels_here = {pattern.label for _, _, pattern in found}
        attendance = any(p.id == "cost/fee/compensation-attendance" for _, _, p in found)
        for start, end, pattern in found:
            label = pattern.label
            before = [v for v in verbs if v.end <= start]
            after = [v for v in verbs if v.start >= end]
            verb = before[-1] if before else (after[0] if after else None)
            if other is not None:
                payer, decided_by = "other", other
            elif verb is not None:
                payer, decided_by = verb.payer, verb.decided_by
            elif context is not None:
                payer, decided_by = "company", context
            else:
                payer, decided_by = "unknown", None
            if decided_by == "context/programme" and label != "meal":
                payer, decided_by = "unknown", None  # a programme line names a lunch, not who pays the speaker
            if attendance and label == "speaker" and _COMPENSATION_WORD.match(text[start:end]):
                continue  # "honorarium … for attending" pays the participant: that is `fee`
            owner = text[max(clause_start, start - 40):start]
            if label in ("travel", "lodging", "fee") and (_NAMED_SPEAKER.search(owner) or ("speaker" in labels_here and (
                    _SPEAKER_OWNER.search(owner) or _FOR_SPEAKER.match(text[end:clause_end])))):
                label = "speaker"  # the speaker's travel or fee is a speaker cost
            if pattern.id == "cost/speaker/compensation" and not money:
                continue  # "ersättning" with no sum is usually about something else
            if label == "lodging" and _HOTEL_NAME.match(text, start):
                continue  # "Hotell Mälarstrand": a venue's name, not a night paid for
            if payer == "unknown" and label == "speaker" and money and _COMPENSATION_WORD.match(text[start:end]):
                payer, decided_by = "company", "context/fee-amount"  # "Arvode 4 000 kr": the company pays the fee
            items.append(CostItem(start, end, text[start:end], label, pattern.id, payer, clause_start, clause_end,
                                  decided_by))
        for match in money:
            try:
                number = float(re.sub(r"[ \u00a0.,]", "", match.group("num")) + ("." + match.group("dec") if match.group("dec") else ""))
            except ValueError:
                continue
            currency = _currency(match.group("pre"), match.group("post"), jurisdiction)
            if currency is None or number <= 0:
                continue
            rest = text[match.end():clause_end]
            nearest = min(found, key=lambda item: abs(item[0] - match.start()), default=None)
            before = [v for v in verbs if v.end <= match.start()]
            payer = "other" if other else (before[-1].payer if before else (verbs[0].payer if verbs else "unknown"))
            amounts.append(Amount(match.start(), match.end(), match.group(0).strip(), number, currency,
                                  bool(_PER_PERSON.match(rest)), bool(_PER_HOUR.match(rest)),
                                  nearest[2].label if nearest else None, payer))
    return items, amounts


def covered(items: list[CostItem]) -> list[str]:
    """The cost labels the company covers, in the order of the vocabulary."""
    labels = {item.label for item in items if item.payer == "company"}
    return [label for label in COST_LABELS if label in labels]
