"""Candidate spans for the trained field scorer: every stretch of text that could be a field value.

The scorer (components/fields.py) only ranks; this module decides what can be ranked. Each
candidate carries the kinds of evidence that proposed it ("cue:location" for the value after
"Plats:", "sent" for a sentence, "clause:purpose" for the rest of "Syftet är att …", "subject"
for the cleaned subject line, "org" for an organisation name…), which become features.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from triage.nlp.fastre import compile_guarded
from triage.nlp.text import Cue, lines, sentences, trim

#: Reply/forward markers and invitation words a subject starts with.
_SUBJECT_PREFIX = re.compile(
    r"^(?:\s*(?:vs|sv|vb|fw|fwd|re|aw|tr|vl|videresendt|videresend|ang)\s*:\s*)+", re.IGNORECASE
)
_SPLITTERS = re.compile(r"\s+[–—-]\s+|:\s+|\s+\|\s+|,\s+|\s+\(")

#: "Syftet är att", "Formålet med kurset er å", "The aim of the session is to" …
_PURPOSE_LEAD = compile_guarded(
    r"(?:syftet|syfte|målet|målsättningen|avsikten|ändamålet|formålet|hensikten|målet|the purpose|the aim|the goal|the objective|"
    r"our aim|our goal|purpose|aim)(?:\s+(?:med|of|for|för|ved|är|er|is)\s+[^.:]{0,60}?)?\s+(?:är|er|is|will be|blir|vil være)\s+"
    r"(?:enbart\s+|helt enkelt\s+|simply\s+|primarily\s+|främst\s+|først og fremst\s+)?(?P<inf>att|å|to)?\s*",
    re.IGNORECASE,
)
_PURPOSE_INLINE = re.compile(r"(?:^|[\s,])(?P<lead>för att|for å|in order to|så att|so that|med målet att|med mål om å|with the aim of|aiming to|syftar till att|har som mål å|tar sikte på att|skal bidra til å|ska bidra till att)\s+", re.IGNORECASE)
_INVITE = compile_guarded(
    r"(?:bjuder\s+(?:härmed\s+|gärna\s+|nu\s+)?in|inbjuder|välkomnar|inviterer|invitere|ønsker å invitere|vil gjerne invitere|"
    r"(?:would like to |are pleased to |is pleased to |wish to |warmly )?invites?|welcomes?)\s+(?P<who>.+?)\s+"
    r"(?:till|på|til|to|for|att|å)\s",
    re.IGNORECASE,
)
_AIMED = compile_guarded(
    r"(?:riktar sig (?:främst |särskilt |i första hand )?till|vänder sig (?:främst |särskilt )?till|är avsedd för|passar för|"
    r"retter seg (?:primært |særlig )?(?:mot|til)|er rettet mot|er beregnet på|passer for|er for|"
    r"is (?:aimed at|intended for|designed for|open to|for)|are (?:aimed at|intended for|for)|open to|aimed at|intended for|"
    r"målgrupp(?:en)? (?:är|blir)|målgruppe(?:n)? (?:er|blir)|(?:the )?target (?:group|audience) (?:is|are)|"
    r"(?:the )?audience (?:is|are))\s+",
    re.IGNORECASE,
)
_TOPIC = compile_guarded(
    r"(?:\b(?:om|on|about|kring|omkring|rundt|angående|regarding|concerning|covering|gå igenom|går igenom|gå gjennom|går gjennom|"
    r"fokus på|fokusera på|focus on|handlar om|handler om|presentera|presentere|present|diskutera|diskutere|discuss|berättar om|"
    r"forteller om|visa|vise|show|demonstrera|demonstrere|demonstrate|ta upp|tar upp|ta opp|tar opp|innehåller|inneholder|includes?|omfattar|omfatter)\s+)",
    re.IGNORECASE,
)
#: Words after which a noun phrase names a place, an audience or a topic; the phrase runs to a stop.
_PLACE_LEAD = compile_guarded(
    r"(?:(?<=\s)|^)(?:på|i|vid|ved|hos|at|in|to|till|til|innom|förbi|by|into)\s+(?=(?:[A-ZÅÄÖÆØ0-9]|(?:vår|våra|vårt|våre|er|ert|era|dere|deres|your|our|the|respektive|avd|lokal)\b|\w+(?:rummet|rommet|rum|rom|salen|sal|aulan|avdelning|avdelningen|avdeling|avdelingen|avd|mottagningen|mottagning|poliklinikk|poliklinikken|kliniken|klinikken|enheten|enhet|sjukhuset|sykehuset|laboratoriet|labbet|ward|clinic|unit|department|room|hall|akuten|vårdcentral|vårdcentralen|sentralen|centralen|intensiv|iva|träffen|møtet|mötet)\b))"
)
_AUDIENCE_LEAD = compile_guarded(
    r"(?:(?<=\s)|^)(?:för|for|til|till|med|with|bjuda in|bjuder in|bjudit in|invitera|inviterer|invitere|invite|invites|inviting|"
    r"dear|kära|bästa|hej alla|hei alle|hello all|till alla|to all|målgruppen är|målgruppen er|the target group is|the audience is|"
    r"vänder sig till|riktar sig till|retter seg mot|retter seg til|aimed at|expected attendance:?|support your|hjälpa|hjelpe|visa|vise|show|"
    r"välkomna|velkommen|welcome|välkommen|valt ut|selected|sagt ifra til|utvalda|brief|train|utbilda|lære opp|lära|"
    r"söker|søker|seeking|looking for|recruiting|rekryterar|rekrutterer|bjuder(?: \w+)? in|bjuder|inviterer(?: \w+)?|"
    r"samlar|samler|brings together|gathers)\s+",
    re.IGNORECASE,
)
_HARD_STOP = re.compile(r"[.!?;:](?:\s|$)|\s\(|\)|\s[–—]\s|\n|!|\?")
_SOFT_STOP = re.compile(
    r"\s(?:till|to|til|om|on|about|under|during|den|kl\.?|som|who|which|where|där|der|för att|for å|in order|with a|med en|"
    r"on site|på plats|i samband|the first|on (?:monday|tuesday|wednesday|thursday|friday)|(?:på|i|at|in) (?:måndag|tisdag|onsdag|torsdag|fredag|mandag|tirsdag)|"
    r"måndag|tisdag|onsdag|torsdag|fredag|mandag|tirsdag|monday|tuesday|wednesday|thursday|friday|around|rundt|ca|at a time|på en tid|"
    r"i løpet|under arbetstid|during working)\b",
    re.IGNORECASE,
)
_INNER_PREP = re.compile(r"\s(?:på|i|vid|ved|från|fra|from|at|in|on|som|who|that|med|with)\s", re.IGNORECASE)
#: Words naming a gathering end with one of these ("lunchföreläsning", "fagdag", "symposium"): the head
#: of a title phrase. Matched with str.endswith on each word, far cheaper than a regex with a prefix.
_EVENT_ENDINGS: tuple[str, ...] = tuple(
    "föreläsning forelesning seminarium seminariet seminarier seminar kurs kurset kursen kursdag fagdag temadag "
    "utbildningsdag utbildning utbildningen opplæring dag dagen dagarna dagene möte mötet møte møtet meeting course "
    "symposium symposiet symposia webinar webinaret webinarium webbinarium webbinariet kongress kongressen congress "
    "träff træff kveld kväll kvällen kvelden middag lunsj lunch frukost frokost training workshop konferens "
    "konferensen konferanse conference summit forum julbord afterwork presentasjon presentation genomgång "
    "gjennomgang oppdatering update academy skole skola program programmet session evening day days".split()
)
_WORD = re.compile(r"[\w-]+")
_EVENT_TAIL = re.compile(r"\s+(?:om|on|about|i|in|kring|för|for|til|med|with|–|-|:)\s+")
#: The verb after an organiser named as the subject: "X och Y AB arrangerar …", "X invites …".
_ORGANISING_VERB = re.compile(
    r"\s(?:arrangerar|arrangerer|anordnar|bjuder|inbjuder|inviterer|invites|invite|organi[sz]es|organi[sz]e|hosts|håller|holder|"
    r"planerar|planlegger|tar emot|söker|søker|ønsker|vill|would like|wishes|is holding|are holding|holds|driver|delar ut|deler ut|"
    r"har nöjet|har gleden|is pleased|are pleased|is delighted|are delighted|kommer|erbjuder|tilbyr|offers|står för|betaler|betalar|pays|"
    r"har|has|är|er|is|are|skulle|ska|skal|will|vil)\s",
    re.IGNORECASE,
)
_BY_LEAD = compile_guarded(r"(?:arrangeras av|anordnas av|arrangeres av|organi[sz]ed by|hosted by|i regi av|i samarbete med|tillsammans med|"
                      r"sammen med|in collaboration with|together with|sponsored by|sponsras av|sponset av|med stöd (?:av|från)|"
                      r"med støtte fra|supported by|funded by|finansieras av|finansieres av|finansiert av)\s+", re.IGNORECASE)
_COUNT_WORD = re.compile(
    r"(?:\d{1,3}|en|ett|et|ei|one|två|to|two|tre|three|fyra|fire|four|fem|five|sex|seks|six|sju|syv|seven|åtta|åtte|"
    r"eight|tio|ti|ten|några|noen|some|alla|alle|all|samtliga|hela|heile|hele|våra|våre|our|era|deres|your)\s+",
    re.IGNORECASE,
)
#: A topic named as a theme: "tema er …", "temat är …", "the topic is …", "fokus på … er".
_THEME = compile_guarded(
    r"(?:tema(?:t|et)?|ämnet|emnet|the (?:theme|topic|subject|focus)|fokus(?:et)?|huvudfokus|hovedfokus)"
    r"(?:\s+(?:för|for|of|på|i|in)\s+[^.:,]{1,40}?)?\s+(?:är|er|is|blir|will be|vil være|kommer att vara)\s+",
    re.IGNORECASE,
)
#: A verb that starts the content of a visit or a session: "… och gå igenom kontrollen", "… to show
#: the nurses our new system", "vi vill gärna filma en förmiddag": the gold value keeps the verb.
_CONTENT_VERB = compile_guarded(
    r"(?<![\w])(?:och|og|and|att|å|to|vill|will|would|kan|can|ska|skal|gärna|gjerne|kommer|come|komme)\s+"
    r"(?P<verb>gå igenom|gå gjennom|go through|run through|visa|vise|show|demonstrera|demonstrere|demonstrate|"
    r"presentera|presentere|present|review|test|testa|teste|berätta om|berätta|fortelle om|fortelle|diskutera|diskutere|discuss|"
    r"filma|filme|film|use|använda|bruke|prata om|snakke om|ta upp|ta opp|träna|trene|train|lära|lære|teach|"
    r"informera om|informere om|inform about|uppdatera|oppdatere|update|introducera|introdusere|introduce)\s",
    re.IGNORECASE,
)
#: A colon or a dash inside a sentence: what follows often is the topic ("We will cover: …",
#: "fagkveld om lungeemboli – risikostratifisering …", "Viktigste endring: …").
_INNER_LEAD = re.compile(r"(?<=\S):\s+(?=\S)|\s[–—]\s+(?=\S)")
#: A bullet or a number at the head of a line: "• Studiebesök …", "- …", "1. …", "a) …".
_BULLET = re.compile(r"[ \t]*(?:[•·▪◦‣*–—-]|\d{1,2}[.)]|[a-h]\))[ \t]+")
_CLAUSE_STOP = re.compile(r"[.;!?](?:\s|$)|,\s+(?:och|men|så|som|där|og|men|som|der|and|but|which|where)\s|\s+[–—]\s+|\s\(")


def _add(found: dict[tuple[int, int], set[str]], text: str, start: int, end: int, kind: str, *,
         max_chars: int = 400, keep_stop: bool = False) -> None:
    start, end = trim(text, start, end, strip_final_stop=not keep_stop)
    if end - start < 2 or end - start > max_chars:
        return
    found[(start, end)].add(kind)


def _clause_end(text: str, start: int, limit: int) -> int:
    match = _CLAUSE_STOP.search(text, start, limit)
    return match.start() if match else limit


def _value_variants(found: dict[tuple[int, int], set[str]], text: str, start: int, end: int, kind: str) -> None:
    """A value and its shorter readings: before a bracket, the first clause, without "att"."""
    _add(found, text, start, end, kind)
    segment = text[start:end]
    for marker in (" (", "; ", ". ", " – ", " - ", ", "):
        cut = segment.find(marker)
        if cut > 0:
            _add(found, text, start, start + cut, kind + ":cut")
    infinitive = re.match(r"(?:att|å|to)\s+", segment, re.IGNORECASE)
    if infinitive:
        _add(found, text, start + infinitive.end(), end, kind + ":noinf")
        cut = segment.find(" (")
        if cut > 0:
            _add(found, text, start + infinitive.end(), start + cut, kind + ":noinf")


def cue_candidates(text: str, cues: Iterable[Cue], found: dict[tuple[int, int], set[str]]) -> None:
    """Values after field labels: on the same line, or the next lines when the label stands alone."""
    all_lines = lines(text)
    for cue in cues:
        kind = f"cue:{cue.label}"
        if cue.has_inline_value:
            _value_variants(found, text, cue.value_start, cue.value_end, kind)
            continue
        following = [(s, e) for s, e in all_lines if s > cue.end][:6]
        taken = 0
        for index, (s, e) in enumerate(following):
            line = text[s:e]
            if re.fullmatch(r"[\d.:–\- ]+", line):
                continue  # a programme's time column
            timed = re.match(r"(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[–-]\s*\d{1,2}[.:]\d{2})?\s+", line)
            start = s + timed.end() if timed else s
            _value_variants(found, text, start, e, f"{kind}:next{min(taken, 2)}")
            taken += 1
            if taken >= 3:
                break


def sentence_candidates(text: str, found: dict[tuple[int, int], set[str]], boundaries: Iterable[int] = ()) -> None:
    """Whole sentences and the clauses that lead words point at (purpose, audience, topic, place)."""
    for start, end in sentences(text):
        segment = text[start:end]
        _add(found, text, start, end, "sent")
        for match in _PURPOSE_LEAD.finditer(segment):
            rest = start + match.end()
            stop = end
            if match.group("inf"):
                _add(found, text, start + match.start("inf"), stop, "clause:purpose")
                _add(found, text, start + match.start("inf"), _clause_end(text, rest, stop), "clause:purpose:cut")
            _add(found, text, rest, stop, "clause:purpose")
            _add(found, text, rest, _clause_end(text, rest, stop), "clause:purpose:cut")
        for match in _PURPOSE_INLINE.finditer(segment):
            rest = start + match.end("lead") + 1
            _add(found, text, rest, end, "clause:so_that")
            _add(found, text, rest, _clause_end(text, rest, end), "clause:so_that:cut")
            infinitive = start + match.end("lead") - len(match.group("lead").split()[-1])
            _add(found, text, infinitive, end, "clause:so_that:inf")
        verb = _ORGANISING_VERB.search(segment)
        if verb and 2 <= verb.start() <= 160:
            _add(found, text, start, start + verb.start(), "np:subject")
        for match in _BY_LEAD.finditer(segment):
            _np_after(found, text, start + match.end(), end, "np:by", boundaries)
        for match in _AIMED.finditer(segment):
            rest = start + match.end()
            _add(found, text, rest, end, "clause:aimed")
        for match in _PLACE_LEAD.finditer(segment):
            _np_after(found, text, start + match.end(), end, "np:place", boundaries)
        for match in _AUDIENCE_LEAD.finditer(segment):
            _np_after(found, text, start + match.end(), end, "np:audience", boundaries)
        for match in _TOPIC.finditer(segment):
            _np_after(found, text, start + match.end(), end, "np:topic", boundaries)
        for match in _THEME.finditer(segment):
            rest = start + match.end()
            _add(found, text, rest, end, "clause:theme")
            _add(found, text, rest, _clause_end(text, rest, end), "clause:theme:cut")
        for match in _CONTENT_VERB.finditer(segment):
            verb = start + match.start("verb")
            _add(found, text, verb, end, "clause:verb")
            _add(found, text, verb, _clause_end(text, verb + len(match.group("verb")) + 1, end), "clause:verb:cut")
        for count, match in enumerate(_INNER_LEAD.finditer(segment)):
            if count >= 2:
                break
            rest = start + match.end()
            if end - rest >= 12:
                kind = "after:colon" if ":" in match.group(0) else "after:dash"
                _add(found, text, rest, end, kind)
                cut = _clause_end(text, rest, end)
                if cut < end:
                    _add(found, text, rest, cut, kind + ":cut")
        words = list(_WORD.finditer(segment))
        for index, word in enumerate(words):
            if not word.group(0).lower().endswith(_EVENT_ENDINGS):
                continue
            head_end = start + word.end()
            word_start = start + word.start()
            modifiers = [w for w in words[max(0, index - 2):index] if w.group(0)[:1].isalpha()]
            head_start = start + modifiers[0].start() if modifiers else word_start
            _add(found, text, word_start, head_end, "np:event:head")
            _add(found, text, head_start, head_end, "np:event:mod")
            tail = _EVENT_TAIL.match(text, head_end, end)
            if tail:
                ends = _np_after(found, text, tail.end(), end, "np:event:tail", boundaries)
                for a in (word_start, head_start):
                    for stop in ends:
                        _add(found, text, a, stop, "np:event")


def _np_after(found: dict[tuple[int, int], set[str]], text: str, start: int, limit: int, kind: str,
              boundaries: Iterable[int]) -> list[int]:
    """The phrase from `start`: to the first hard stop, the first comma, and the first soft stop.

    Returns the end offsets it proposed (before trimming)."""
    hard = _HARD_STOP.search(text, start, limit)
    stop = hard.start() if hard else limit
    for boundary in boundaries:
        if start < boundary < stop:
            stop = boundary
    if stop - start > 200:
        stop = start + 200
    ends = [stop]
    _add(found, text, start, stop, kind, max_chars=200)
    if kind == "np:audience":
        counted = _COUNT_WORD.match(text, start, stop)
        if counted:  # "fyra neurologer och …", "2 sykepleiere": the group with and without its number
            _add(found, text, counted.end(), stop, kind + ":nocount", max_chars=200)
            soft = _SOFT_STOP.search(text, counted.end(), stop)
            if soft:
                _add(found, text, counted.end(), soft.start(), kind + ":nocount:soft")
    comma = text.find(", ", start, stop)
    if comma > 0:
        _add(found, text, start, comma, kind + ":comma")
        ends.append(comma)
        second = text.find(", ", comma + 2, stop)
        if second > 0:
            _add(found, text, start, second, kind + ":comma2")
            ends.append(second)
    soft = _SOFT_STOP.search(text, start, stop)
    if soft:
        _add(found, text, start, soft.start(), kind + ":soft")
        ends.append(soft.start())
    for count, inner in enumerate(_INNER_PREP.finditer(text, start, stop)):
        if count >= 2:
            break
        _add(found, text, start, inner.start(), kind + ":prep")
        ends.append(inner.start())
    return ends


def subject_candidates(text: str, found: dict[tuple[int, int], set[str]]) -> None:
    """The subject without Fwd:/VS: and its parts between dashes, colons and commas."""
    prefix = _SUBJECT_PREFIX.match(text)
    start = prefix.end() if prefix else 0
    end = len(text.rstrip())
    _add(found, text, start, end, "subject")
    cuts = [start] + [m.end() for m in _SPLITTERS.finditer(text, start)]
    stops = [m.start() for m in _SPLITTERS.finditer(text, start)] + [end]
    for a in cuts:
        for b in stops:
            if b > a:
                _add(found, text, a, b, "subject:part")


_ITEM_SPLIT = re.compile(r"\s+·\s+|;\s+|\s+\|\s+|\t+|(?<=\S)[ \u00a0]{3,}(?=\S)")
_TIMED = re.compile(r"^(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[–-]\s*\d{1,2}[.:]\d{2})?(?:\s*\|)?\s+|^\d\)\s+|^\d+\.\s+")


def line_candidates(text: str, found: dict[tuple[int, int], set[str]], first_lines: int = 4) -> None:
    """Heading lines, short lines, and the items of programme lines ("13.15 Title – speaker")."""
    for index, (start, end) in enumerate(lines(text)):
        if index < first_lines:
            _add(found, text, start, end, f"line:first{index}")
        elif end - start <= 80:
            _add(found, text, start, end, "line:short")
        bullet = _BULLET.match(text, start, end)
        if bullet:
            _value_variants(found, text, bullet.end(), end, "item:bullet")
        cursor = start
        pieces = [(m.start(), m.end()) for m in _ITEM_SPLIT.finditer(text, start, end)]
        if len(pieces) >= 2 and end - start > 80 and _TIMED.match(text[start:end]):
            # "12.00 light lunch; 12.30 liquid vs tissue biopsy; 13.30 …": the whole timed programme line
            _add(found, text, start, end, "line:items", keep_stop=True)
        bounds = [(cursor, pieces[0][0])] if pieces else [(start, end)]
        for (a, b), nxt in zip(pieces, pieces[1:] + [(end, end)]):
            bounds.append((b, nxt[0]))
        for a, b in bounds:
            timed = _TIMED.match(text[a:b])
            if timed:
                _value_variants(found, text, a + timed.end(), b, "item:timed")
            elif pieces:
                _value_variants(found, text, a, b, "item")


def field_candidates(text: str, source: str, cues: Iterable[Cue], extra: Iterable[tuple[int, int, str]] = (),
                     boundaries: Iterable[int] = ()) -> dict[tuple[int, int], set[str]]:
    """Every candidate (start, end) of one section's text, with the kinds that proposed it."""
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    boundaries = sorted(boundaries)
    if source == "subject":
        subject_candidates(text, found)
        for match in _PLACE_LEAD.finditer(text):
            _np_after(found, text, match.end(), len(text), "np:place", boundaries)
        for start, end, kind in extra:
            _add(found, text, start, end, kind, keep_stop=True)
        return found
    cue_candidates(text, cues, found)
    if source != "signature":
        sentence_candidates(text, found, boundaries)
    line_candidates(text, found)
    for start, end, kind in extra:
        _add(found, text, start, end, kind, keep_stop=True)
    return found
