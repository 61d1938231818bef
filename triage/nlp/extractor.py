"""The extraction stage: every SPEC §4 event field of a parsed mail, each with its evidence.

`EventExtractor.extract(message)` runs the language's spaCy pipeline over each section of the
mail (subject, new body text, forwarded originals, attachments, signature), then decides each
field from what the components found: the trained field scorer for title, organizer, location,
target group, purpose, content and products; the date component for start/end/duration and the
registration deadline (an ICS attachment's own times first); the costs component for
costs_covered and amounts; contacts, online words, organisation names and the trained arranger
categorizer for the rest. A field nothing supports stays null: no default is ever filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta, tzinfo
from typing import Any

import numpy
from spacy.attrs import IDX, LENGTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc

from triage.classify.routing import JurisdictionRouter
from triage.message.envelope import ParsedMessage, Section
from triage.nlp.components.costs import COSTS, JURISDICTION
from triage.nlp.components.dates import ANCHOR, MENTIONS
from triage.nlp.components.structure import TEXT, doc_text
from triage.nlp.components.fields import (CUES, FIELD_LABELS, FIELDS_KEY, MESSAGE, MESSAGE_FLAGS, MESSAGE_WORDS, ORGS_KEY,
                                          SECTION, SENDER_DOMAIN, message_flags)
from triage.nlp.costs import COST_LABELS, CostItem
from triage.nlp.dates import WEEKDAYS, Mention, parse_date_phrase, to_datetime, zone_for
from triage.nlp.pipeline import MESSAGE_LEVEL
from triage.nlp.text import line_bounds
from triage.results import EventDetails, Evidence

#: Score a field's best candidate must reach, per label (model.json may override; tuned on dev).
DEFAULT_THRESHOLDS: dict[str, float] = {label: 0.5 for label in FIELD_LABELS}
#: Sections whose text may hold the event; the signature only for organizer and contact.
EVENT_SOURCES = ("subject", "body", "forwarded", "attachment")

_DEADLINE_BEFORE = re.compile(
    r"(?:senast|innan|före|innen|seinast|by|before|no later than|deadline|frist|sista\s+\w+dag|anmäl\w*|påmeld\w*|"
    r"registr\w*|register|svar\w*|osa|rsvp|apply|ansök\w*|søk\w*|sign up|reply|respond|meld\w* (?:deg|dere) på|"
    r"ge besked|gi beskjed|si fra|säg till|återkom\w*|tilbakemelding)\b[^\n]{0,50}$",
    re.IGNORECASE,
)
_FUNCTION_MAILBOX = re.compile(r"^(?:samverkan|funktionsbrevlada|funktionsbrevlåda|industrikontakt|postmottak|noreply|no-reply|donotreply|registrator|registratur)", re.IGNORECASE)
_CONTACT_BEFORE = re.compile(
    r"(?:anmäl\w*|påmeld\w*|registr\w*|register|kontakt\w*|contact|frågor|spørsmål|questions|svara|svar|reply|osa|rsvp|"
    r"mejla|maila|e-post|e-mail|email|mail|skriv|write|send|skicka|ansök\w*|søk\w*|apply|hör av|ta kontakt|reach)\b[^\n]{0,70}$",
    re.IGNORECASE,
)
_DURATION_SKIP = re.compile(r"(?:per|/|i|à|a|each)\s*$|\bpaus\w*|\bpause\b|\bbreak\b", re.IGNORECASE)
_PROGRAMME_LINE = re.compile(r"^\s*(?:kl\.?\s*)?\d{1,2}[.:]\d{2}")
#: A programme line led by a weekday ("Friday 09.00–13.00: …", "Thursday: arrival").
_WEEKDAY_HEAD = re.compile(r"^(\w+)\b[\s:,]")
#: "Från 19.00 …", "kl. 13.00 …" at the head of a programme line.
_TIMED_HEAD = re.compile(r"(?i)^(?:från|fra|from)\s+(?:kl\.?\s*)?\d{1,2}[.:]\d{2}")


@dataclass
class SectionDoc:
    """One section of the mail and its processed Doc."""

    section: Section
    doc: Doc

    @property
    def source(self) -> str:
        return self.section.source

    def evidence(self, start: int, end: int) -> Evidence:
        return Evidence(self.section.text[start:end], self.section.source, self.section.name, start, end)


@dataclass
class _Candidate:
    label: str
    score: float
    where: SectionDoc
    start: int
    end: int
    kinds: tuple[str, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return self.where.section.text[self.start:self.end]


class EventExtractor:
    """The Extractor stage (triage.pipeline.stages.Extractor) built on the spaCy pipelines."""

    def __init__(self, pipelines: Mapping[str, Language], thresholds: Mapping[str, float] | None = None,
                 arranger_threshold: float = 0.4, model_version: str | None = None) -> None:
        if not pipelines:
            raise ValueError("EventExtractor needs at least one pipeline")
        self.pipelines = dict(pipelines)
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
        self.arranger_threshold = arranger_threshold
        self.model_version = model_version
        self._router = JurisdictionRouter(None)

    # --- running the pipeline ------------------------------------------------------------

    def language_of(self, message: ParsedMessage) -> str:
        if message.language in self.pipelines:
            return message.language
        jurisdiction = self._router.jurisdiction_of(message)
        for lang in (("nb",) if jurisdiction == "NO" else ()) + ("sv", "en", "nb"):
            if lang in self.pipelines:
                return lang
        return next(iter(self.pipelines))

    def process(self, message: ParsedMessage, *, trained: bool = True) -> list[SectionDoc]:
        """Each non-empty section of the mail through the language's pipeline."""
        lang = self.language_of(message)
        nlp = self.pipelines[lang]
        jurisdiction = self._router.jurisdiction_of(message)
        sender = message.original_sender
        disable = list(MESSAGE_LEVEL) + ([] if trained else ["triage_fields"])
        docs: list[Doc] = []
        sections: list[Section] = []
        subject_words = [w for w in re.findall(r"[^\W\d_]{3,}", message.subject.lower())][:12]
        flags = message_flags([section.text for section in message.sections])
        for section in message.sections:
            if not section.text.strip():
                continue
            doc = nlp.make_doc(section.text)
            doc.user_data[TEXT] = section.text  # the doc's text is the section's: no need to rebuild it
            doc.user_data[SECTION] = section.source
            doc.user_data[ANCHOR] = message.date
            doc.user_data[JURISDICTION] = jurisdiction
            doc.user_data[SENDER_DOMAIN] = sender.domain if sender else None
            doc.user_data[MESSAGE_WORDS] = subject_words
            doc.user_data[MESSAGE_FLAGS] = flags
            doc.user_data[MESSAGE] = message.raw_sha256
            docs.append(doc)
            sections.append(section)
        # One batch per message: the field scorer ranks candidates across all its sections.
        processed = nlp.pipe(docs, disable=disable, batch_size=max(1, len(docs))) if docs else []
        return [SectionDoc(section, doc) for section, doc in zip(sections, processed)]

    def arranger_doc(self, message: ParsedMessage, section_docs: list[SectionDoc]) -> Doc | None:
        """All sections but the signature as one Doc, for the arranger categorizer."""
        docs = [sd.doc for sd in section_docs if sd.source != "signature"]
        if not docs:
            return None
        words: list[str] = []
        spaces: list[bool] = []
        for doc in docs:
            if not len(doc):
                continue
            text = doc_text(doc)
            rows = doc.to_array([IDX, LENGTH, SPACY]).tolist()  # plain ints: no numpy scalar per token
            words.extend([text[start:start + length] for start, length, _ in rows])
            spaces.extend([bool(space) for _, _, space in rows])
            spaces[-1] = True
        return Doc(docs[0].vocab, words=words, spaces=spaces) if words else None

    # --- the stage -----------------------------------------------------------------------

    def extract(self, message: ParsedMessage) -> EventDetails:
        """The event of one mail; every value with the span it was read from.

        Runs in the pipeline's memory zone: the strings a mail adds to the vocabulary are freed
        afterwards, so a worker that reads mail for months does not grow (the result holds no Doc).
        """
        nlp = self.pipelines[self.language_of(message)]
        with nlp.memory_zone():
            return self._extract(message)

    def _extract(self, message: ParsedMessage) -> EventDetails:
        section_docs = self.process(message)
        lang = self.language_of(message)
        jurisdiction = self._router.jurisdiction_of(message)
        zone = zone_for(lang, jurisdiction)
        event = EventDetails()
        candidates = self._field_candidates(section_docs)

        for name in ("title", "organizer", "location", "target_group", "purpose", "content"):
            best = candidates.get(name)
            if best:
                setattr(event, name, best[0].text)
                event.add_evidence(name, best[0].where.evidence(best[0].start, best[0].end))
        self._products(event, candidates.get("product", []))
        self._calendar(event, message, section_docs, zone)
        if event.start is None:
            self._dates(event, candidates.get("start", []), zone, section_docs)
        if event.start is None:
            self._date_cue_fallback(event, message, section_docs, zone)
        self._duration(event, section_docs)
        self._deadline(event, candidates.get("deadline", []))
        self._costs(event, section_docs)
        self._contact(event, message, section_docs)
        self._online(event, section_docs)
        self._sponsors(event, section_docs)
        self._arranger(event, message, section_docs)
        return event

    # --- trained fields ------------------------------------------------------------------

    def _field_candidates(self, section_docs: list[SectionDoc]) -> dict[str, list[_Candidate]]:
        """Per label, the candidates above its threshold, best first."""
        found: dict[str, list[_Candidate]] = {}
        for sd in section_docs:
            group = sd.doc.spans.get(FIELDS_KEY)
            if group is None or len(group) == 0:
                continue
            scores = group.attrs.get("scores")
            for index, span in enumerate(group):
                label = span.label_
                score = float(scores[index]) if scores is not None else 0.0
                if score < self.thresholds.get(label, 0.5):
                    continue
                if sd.source == "signature" and label != "organizer":
                    continue
                found.setdefault(label, []).append(_Candidate(label, score, sd, span.start_char, span.end_char))
        for label in found:
            found[label].sort(key=lambda c: -c.score)
        return found

    def _products(self, event: EventDetails, candidates: list[_Candidate]) -> None:
        seen: set[str] = set()
        for candidate in candidates:
            key = candidate.text.lower()
            if key in seen or any(key in other or other in key for other in seen):
                continue
            if event.organizer and key in event.organizer.lower():
                continue
            seen.add(key)
            event.products.append(candidate.text)
            event.add_evidence("products", candidate.where.evidence(candidate.start, candidate.end))
            if len(event.products) >= 5:
                break

    # --- dates ---------------------------------------------------------------------------

    def _calendar(self, event: EventDetails, message: ParsedMessage, section_docs: list[SectionDoc], zone: tzinfo) -> None:
        """An iCalendar attachment states the event's time (and often its place) outright."""
        for attachment in message.attachments:
            calendar = attachment.calendar
            if calendar is None or calendar.start is None:
                continue
            sd = next((s for s in section_docs if s.section.source == "attachment" and s.section.name == attachment.filename), None)
            start = calendar.start if calendar.start.tzinfo else calendar.start.replace(tzinfo=zone)
            event.start = start.astimezone(zone)
            if calendar.end is not None:
                end = calendar.end if calendar.end.tzinfo else calendar.end.replace(tzinfo=zone)
                event.end = end.astimezone(zone)
            for label, prefix in (("start", "Start:"), ("end", "End:")):
                if sd is not None:
                    at = sd.section.text.find(prefix)
                    if at >= 0:
                        line_start, line_end = line_bounds(sd.section.text, at)
                        target = "start" if label == "start" else "end"
                        event.add_evidence(target, sd.evidence(line_start, line_end))
            if calendar.location and event.location is None and sd is not None:
                at = sd.section.text.find(calendar.location)
                if at >= 0:
                    event.location = calendar.location
                    event.add_evidence("location", sd.evidence(at, at + len(calendar.location)))
            return

    def _time_near(self, sd: SectionDoc, mention: Mention) -> Mention | None:
        """A clock time that belongs to a date written without one: same line, or the next lines."""
        text = sd.section.text
        mentions: list[Mention] = sd.doc.user_data.get(MENTIONS, [])
        _, line_end = line_bounds(text, mention.start)
        limit = line_end
        for _ in range(3):  # the next lines, as long as they are a time line ("Tid: 13.15–13.45")
            next_end = text.find("\n", limit + 1)
            next_end = len(text) if next_end < 0 else next_end
            next_line = text[limit:next_end].strip()
            if not next_line:
                limit = next_end
                continue
            if re.match(r"(?i)^(?:tid|time|klockan|kl\.?|klokken|tidspunkt|when|när|når)\b|^(?:fra |från |from )?(?:kl\.?\s*)?\d{1,2}[.:]\d{2}", next_line) and not _PROGRAMME_ITEM.match(next_line):
                limit = next_end
                continue
            break
        for other in mentions:
            if other.kind == "time" and mention.end <= other.start <= limit:
                between = text[mention.end:other.start]
                if _DEADLINE_BEFORE.search(between):
                    return None
                return other
        # "22. april 2026 … \n\nForedraget er på 45 minutter, kl. 10.15–11.00": a clock time with "kl."
        # or a range in the next paragraph, when no other date comes first.
        horizon = min(len(text), line_end + 300)
        for other in mentions:
            if other.start <= line_end or other.start > horizon:
                continue
            if other.kind in ("date", "relative", "week"):
                return None
            if other.kind == "time" and (other.end_time is not None or re.match(r"(?i)kl|klockan|klokken", other.text)):
                line_start, _ = line_bounds(text, other.start)
                if _DEADLINE_BEFORE.search(text[line_start:other.start]) or _PROGRAMME_LINE.match(text[line_start:other.end]):
                    return None
                head = _WEEKDAY_HEAD.match(text[line_start:other.start].strip() + " ")
                if head and mention.first is not None and \
                        WEEKDAYS.get(head.group(1).lower()) not in (None, mention.first.weekday()):
                    return None  # "Saturday 09.00–12.00 workshop" is a later day's time, not the start
                return other
        return None

    @staticmethod
    def _same_day_time(section_docs: list[SectionDoc], mention: Mention) -> tuple[SectionDoc, Mention] | None:
        """The same day written elsewhere in the mail with its time ("Wednesday 10 June 2026, 12:00")."""
        for sd in section_docs:
            if sd.source == "signature":
                continue
            for other in sd.doc.user_data.get(MENTIONS, []):
                if other.kind in ("date", "relative") and other.has_time and other.first == mention.first:
                    text = sd.section.text
                    line_start, _ = line_bounds(text, other.start)
                    if not _DEADLINE_BEFORE.search(text[line_start:other.start]):
                        return sd, replace(other, end_time=other.end_time if other.first == other.last else None)
        return None

    @staticmethod
    def _programme_time(section_docs: list[SectionDoc], where: SectionDoc,
                        mention: Mention) -> tuple[SectionDoc, Mention] | None:
        """The time of the first timed programme line of the event's first day.

        "Datum: torsdag 8 oktober 2026 / Plats: … / Program / 18.00–20.30 Middag": the event starts at
        18.00. The lines after the date are read (at most 12) until a line starts with a time; a line
        that names another day ("Friday 09.00–13.00" after "Thursday: arrival") stops the search, so
        a multi-day event whose first day has no timed item keeps its date alone. A date in the
        subject is looked for in the body, where its programme is.
        """
        places: list[tuple[SectionDoc, int]] = []
        if where.source != "subject":
            places.append((where, mention.end))
        else:
            for sd in section_docs:
                if sd.source in ("body", "forwarded", "attachment"):
                    for other in sd.doc.user_data.get(MENTIONS, []):
                        if other.kind == "date" and other.first == mention.first:
                            places.append((sd, other.end))
                            break
        for sd, position in places:
            text = sd.section.text
            mentions = sd.doc.user_data.get(MENTIONS, [])
            _, cursor = line_bounds(text, position)
            for _ in range(12):
                if cursor >= len(text):
                    break
                next_end = text.find("\n", cursor + 1)
                next_end = len(text) if next_end < 0 else next_end
                line_start = cursor + 1 if text[cursor:cursor + 1] == "\n" else cursor
                line = text[line_start:next_end]
                cursor = next_end
                stripped = line.strip()
                if not stripped:
                    continue
                other_day = [m for m in mentions if line_start <= m.start < next_end and m.kind in ("date", "relative", "week")]
                if any(m.first != mention.first for m in other_day):
                    break
                head = _WEEKDAY_HEAD.match(stripped)
                if head and not other_day and mention.first is not None and \
                        WEEKDAYS.get(head.group(1).lower()) not in (None, mention.first.weekday()):
                    break  # "Friday 09.00–13.00" after "Thursday: arrival"
                if _PROGRAMME_LINE.match(line) or _TIMED_HEAD.match(stripped):
                    if _DEADLINE_BEFORE.search(line):
                        break
                    clock = next((m for m in mentions if m.kind == "time" and line_start <= m.start < next_end), None)
                    if clock is None:  # "… torsdag 15 oktober\n10.00 Välkommen": the day took the time along
                        clock = next((m for m in mentions if m.kind == "date" and m.has_time and m.first == mention.first
                                      and m.start < line_start < m.end), None)
                    if clock is None:
                        break
                    return sd, replace(clock, end_time=None)
        return None

    @staticmethod
    def _mention_at(candidate: _Candidate) -> Mention | None:
        """The date mention a scorer candidate stands for (same span, or the one it overlaps most)."""
        best: tuple[int, Mention] | None = None
        for mention in candidate.where.doc.user_data.get(MENTIONS, []):
            if mention.kind not in ("date", "relative"):
                continue
            shared = min(mention.end, candidate.end) - max(mention.start, candidate.start)
            if shared > 0 and (best is None or shared > best[0]):
                best = (shared, mention)
        return best[1] if best else None

    def _dates(self, event: EventDetails, candidates: list[_Candidate], zone: tzinfo,
               section_docs: list[SectionDoc] = ()) -> None:
        """The event's day from the scorer's best "start" candidate; its time from the same phrase or nearby."""
        for candidate in candidates:
            mention = self._mention_at(candidate)
            if mention is None or mention.first is None:
                continue
            sd = candidate.where
            break
        else:
            return
        clock = mention
        clock_sd = sd  # the section the time was read from: its offsets are that section's
        if not mention.has_time:
            near = self._time_near(sd, mention)
            found = (sd, near) if near is not None else (
                self._same_day_time(section_docs, mention) or self._programme_time(section_docs, sd, mention))
            if found is not None:
                clock_sd, clock = found
        event.start = to_datetime(mention.first, clock.start_time, zone)
        event.add_evidence("start", sd.evidence(mention.start, mention.end))
        if clock is not mention:
            event.add_evidence("start", clock_sd.evidence(clock.start, clock.end))
        if clock.end_time is not None:
            last = mention.first
            if mention.last and mention.last != mention.first:
                # "17–18 mars, 08.30–16.00 båda dagarna": the end is the last day's closing time.
                last = mention.last
            end = to_datetime(last, clock.end_time, zone)
            if end <= event.start and last == mention.first:
                end += timedelta(days=1)  # "19.00–01.00"
            event.end = end
            event.add_evidence("end", clock_sd.evidence(clock.start, clock.end))

    def _date_cue_fallback(self, event: EventDetails, message: ParsedMessage, section_docs: list[SectionDoc],
                           zone: tzinfo) -> None:
        """A "Datum:" line whose value our patterns could not read: ask dateparser, restricted to the language."""
        if message.date is None:
            return
        lang = self.language_of(message)
        for sd in section_docs:
            if sd.source not in ("body", "forwarded", "attachment"):
                continue
            mentions = sd.doc.user_data.get(MENTIONS, [])
            for cue in sd.doc.user_data.get(CUES, []):
                if cue.label != "date" or not cue.has_inline_value:
                    continue
                if any(cue.value_start <= m.start < cue.value_end for m in mentions if m.kind in ("date", "relative", "week")):
                    continue
                day = parse_date_phrase(sd.section.text[cue.value_start:cue.value_end], lang, message.date)
                if day is not None:
                    event.start = to_datetime(day, None, zone)
                    event.add_evidence("start", sd.evidence(cue.value_start, cue.value_end))
                    return

    def _duration(self, event: EventDetails, section_docs: list[SectionDoc]) -> None:
        if event.start is not None and event.end is not None:
            event.duration_minutes = int((event.end - event.start).total_seconds() // 60)
            return
        for sd in section_docs:
            if sd.source not in EVENT_SOURCES:
                continue
            text = sd.section.text
            for mention in sd.doc.user_data.get(MENTIONS, []):
                if mention.kind != "duration" or not mention.minutes:
                    continue
                line_start, _ = line_bounds(text, mention.start)
                before = text[max(line_start, mention.start - 12):mention.start]
                if _DURATION_SKIP.search(before) or _PROGRAMME_LINE.match(text[line_start:mention.start]):
                    continue
                if re.match(r"\s*(?:per|/|i veckan|a week|om dagen|per dag)", text[mention.end:mention.end + 12], re.IGNORECASE):
                    continue
                if mention.minutes > 12 * 60:
                    continue  # "60 timmar" of consulting, "6-hour" drive: not the length of a meeting
                event.duration_minutes = mention.minutes
                event.add_evidence("duration_minutes", sd.evidence(mention.start, mention.end))
                return

    def _deadline(self, event: EventDetails, candidates: list[_Candidate]) -> None:
        """The registration deadline from the scorer's best "deadline" candidate (a date, never a time)."""
        for candidate in candidates:
            mention = self._mention_at(candidate)
            if mention is None or mention.first is None or mention.kind != "date":
                continue
            if event.start is not None and mention.first > event.start.date():
                continue  # a "deadline" after the event is something else (a report, an application round)
            event.registration_deadline = mention.first
            text = candidate.where.section.text
            line_start, _ = line_bounds(text, mention.start)
            lead = _DEADLINE_BEFORE.search(text[line_start:mention.start])
            start = line_start + lead.start() if lead else mention.start
            event.add_evidence("registration_deadline", candidate.where.evidence(start, mention.end))
            return

    # --- costs ---------------------------------------------------------------------------

    def _costs(self, event: EventDetails, section_docs: list[SectionDoc]) -> None:
        covered: dict[str, tuple[SectionDoc, CostItem]] = {}
        for sd in section_docs:
            if sd.source not in EVENT_SOURCES:
                continue
            items, amounts = sd.doc.user_data.get(COSTS, ([], []))
            for item in items:
                if item.payer == "company" and item.label not in covered:
                    covered[item.label] = (sd, item)
            for amount in amounts:
                event.amounts.append({**amount.to_dict(), "source": sd.source, "part": sd.section.name,
                                      "start": amount.start, "end": amount.end})
        for label in COST_LABELS:
            if label in covered:
                sd, item = covered[label]
                event.costs_covered.append(label)
                event.add_evidence("costs_covered", sd.evidence(item.clause_start, item.clause_end))

    # --- contact, online, sponsors, arranger ---------------------------------------------

    def _contact(self, event: EventDetails, message: ParsedMessage, section_docs: list[SectionDoc]) -> None:
        own = {a.email for a in message.recipients}
        sender = message.original_sender
        best: tuple[float, SectionDoc, int, int] | None = None
        order = 0
        for sd in section_docs:
            group = sd.doc.spans.get("contacts")
            if group is None:
                continue
            text = sd.section.text
            for span in group:
                order += 1
                value = span.text
                if span.label_ == "email" and (value.lower() in own or _FUNCTION_MAILBOX.match(value)):
                    continue
                score = {"body": 2.0, "forwarded": 2.2, "attachment": 1.5, "signature": 1.0, "subject": 0.5}.get(sd.source, 1.0)
                if span.label_ == "phone":
                    score -= 1.5
                line_start, _ = line_bounds(text, span.start_char)
                if _CONTACT_BEFORE.search(text[max(0, span.start_char - 90):span.start_char]):
                    score += 2.0
                if sender and span.label_ == "email" and value.lower().endswith("@" + sender.domain):
                    score += 0.5
                score -= order * 0.01
                if best is None or score > best[0]:
                    best = (score, sd, span.start_char, span.end_char)
        if best is not None:
            _, sd, start, end = best
            event.contact = sd.section.text[start:end]
            event.add_evidence("contact", sd.evidence(start, end))

    def _online(self, event: EventDetails, section_docs: list[SectionDoc]) -> None:
        online: tuple[SectionDoc, int, int] | None = None
        hybrid = negated = False
        for sd in section_docs:
            if sd.source not in EVENT_SOURCES:
                continue
            for span in sd.doc.spans.get("online", []):
                if span.label_ == "online" and online is None:
                    online = (sd, span.start_char, span.end_char)
                elif span.label_ == "hybrid":
                    hybrid = True
                elif span.label_ == "not_online":
                    negated = True
        if online is not None and not hybrid and not negated:
            event.online = True
            event.add_evidence("online", online[0].evidence(online[1], online[2]))
        elif event.location is not None and not hybrid:
            event.online = False
            for evidence in event.evidence.get("location", [])[:1]:
                event.add_evidence("online", evidence)

    def _sponsors(self, event: EventDetails, section_docs: list[SectionDoc]) -> None:
        """Companies named as paying (the subject of a pay phrase) or as sponsors."""
        names: list[tuple[str, Evidence]] = []
        for sd in section_docs:
            if sd.source not in EVENT_SOURCES:
                continue
            orgs = [s for s in sd.doc.spans.get(ORGS_KEY, []) if s.label_ == "company"]
            if not orgs:
                continue
            text = sd.section.text
            items, _ = sd.doc.user_data.get(COSTS, ([], []))
            paid_clauses = {(i.clause_start, i.clause_end) for i in items if i.payer == "company"}
            for span in orgs:
                in_paid = any(a <= span.start_char < b for a, b in paid_clauses)
                sponsor_word = re.search(r"(?i)(?:sponsr\w*|sponsor\w*|sponse[dt]\w*|huvudsponsor|hovedsponsor|med stöd av|støttet av|supported by|funded by)",
                                         text[max(0, span.start_char - 40):span.end_char + 25])
                if in_paid or sponsor_word:
                    names.append((span.text, sd.evidence(span.start_char, span.end_char)))
        seen: set[str] = set()
        for name, evidence in names:
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            event.sponsors.append(name)
            event.add_evidence("sponsors", evidence)

    def _arranger(self, event: EventDetails, message: ParsedMessage, section_docs: list[SectionDoc]) -> None:
        """industry / healthcare / third_party / joint: the categorizer, corrected by who the organizer is."""
        lang = self.language_of(message)
        nlp = self.pipelines[lang]
        if "arranger" not in nlp.pipe_names:
            return
        pipe = nlp.get_pipe("arranger")
        docs = [sd.doc for sd in section_docs if sd.source != "signature" and len(sd.doc)]
        if not docs:
            return
        if _UNIGRAM_BOW.get(id(pipe)) is None:
            _UNIGRAM_BOW[id(pipe)] = _is_unigram_bow(pipe)
        if _UNIGRAM_BOW[id(pipe)]:
            # A bag of single words sees the same counts in the sections as in one joined Doc:
            # score a view of their tokens instead of building that Doc (same scores, far cheaper).
            scores = pipe.predict([_TokenView(docs)])
            cats = {label: float(scores[0, column]) for column, label in enumerate(pipe.labels)}
        else:
            doc = self.arranger_doc(message, section_docs)
            if doc is None:
                return
            cats = pipe(doc).cats
        label, score = max(cats.items(), key=lambda item: item[1])
        if label == "none" or score < self.arranger_threshold:
            return
        kinds = _org_kinds(event.organizer or "")
        if "company" in kinds and "healthcare" in kinds:
            label = "joint"
        elif label == "industry" and kinds == {"healthcare"}:
            label = "healthcare"
        elif label == "industry" and kinds == {"third_party"}:
            label = "third_party"
        event.arranger = label


class _TokenView:
    """The tokens of several docs as one, for a model that only reads `to_array` (a unigram bag)."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs

    def __len__(self) -> int:
        return sum(len(doc) for doc in self.docs)

    def to_array(self, attrs: Any) -> Any:
        return numpy.concatenate([doc.to_array(attrs) for doc in self.docs])


#: Per arranger pipe: is its model spaCy's bag of words over single words (ngram_size 1)?
_UNIGRAM_BOW: dict[int, bool] = {}


def _is_unigram_bow(pipe: Any) -> bool:
    """True when the only layer that reads the Doc is `extract_ngrams` with single words."""
    extract = [node for node in pipe.model.walk() if node.name == "extract_ngrams"]
    return len(extract) == 1 and extract[0].attrs.get("ngram_size") == 1


_COMPANY = re.compile(r"(?<![\w])(?:AB|AS|ASA|A/S|ApS|Ltd|GmbH|Inc|Oy|AG|Pharma|Medical|Diagnostics|Medtech|Biotech)(?![\w])")
_HEALTHCARE = re.compile(
    r"(?i)(?:klinik|sjukhus|sykehus|sjukehus|lasarett|region(?:en)?\b|avdelning|avdeling|vårdcentral|mottagning|poliklinikk|"
    r"\bhf\b|helse\s|hospital|department|unit\b|teamet|centrum|senter|universitetssjukhus|ahus|ous|unn|sus\b|kommun)"
)
_THIRD_PARTY = re.compile(
    r"(?i)(?:förening|forening|society|association|nätverk|nettverk|network|forum|kongress|congress|sällskap|selskap|akademi|"
    r"academy|institut|agency|byrå|byrå|konferanseservice|kongressbyrå|enkätbolaget|research\b|fokusrådet|partners)"
)


def _org_kinds(name: str) -> set[str]:
    """Which kinds of organisation a name mentions: company, healthcare, third_party."""
    kinds: set[str] = set()
    if not name:
        return kinds
    if _COMPANY.search(name):
        kinds.add("company")
    if _HEALTHCARE.search(name):
        kinds.add("healthcare")
    if _THIRD_PARTY.search(name) and "company" not in kinds:
        kinds.add("third_party")
    return kinds


_PROGRAMME_ITEM = re.compile(r"^(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[–-]\s*\d{1,2}[.:]\d{2})?\s+[A-ZÅÄÖÆØa-zåäöæø]{3,}")
