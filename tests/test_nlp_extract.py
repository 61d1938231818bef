"""End to end: the shipped extraction model reads the event of real-looking invitations, with evidence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from triage.config import Settings
from triage.message.envelope import ParsedMessage
from triage.message.parse import parse_message
from triage.nlp.loader import load_extractor, load_from
from triage.nlp.pipeline import ModelMissingError
from triage.results import EventDetails

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def extractor():  # noqa: ANN201
    return load_extractor(Settings())


def read(name: str) -> ParsedMessage:
    return parse_message((SAMPLES / name).read_bytes())


def assert_evidence_points_into_sections(message: ParsedMessage, event: EventDetails) -> None:
    sections = {(s.source, s.name): s.text for s in message.sections}
    for field_name, items in event.evidence.items():
        for evidence in items:
            if evidence.start is None:
                continue
            text = sections[(evidence.source, evidence.part)]
            assert text[evidence.start:evidence.end] == evidence.text, field_name


def test_symposium_with_a_pdf_programme(extractor) -> None:  # noqa: ANN001
    message = read("06-symposium-pdf-sv.eml")
    event = extractor.extract(message)
    pdf = next(s for s in message.sections if s.source == "attachment")

    assert event.start == datetime.fromisoformat("2026-04-22T09:00:00+02:00")
    assert event.end == datetime.fromisoformat("2026-04-22T16:00:00+02:00")
    assert event.duration_minutes == 420
    assert event.start.isoformat() == "2026-04-22T09:00:00+02:00"
    assert event.location and "Malmo Live" in event.location
    assert event.organizer == "Sydmed Neuro AB"
    assert event.registration_deadline is not None and event.registration_deadline.isoformat() == "2026-04-01"
    assert "meal" in event.costs_covered
    assert event.contact == "sara.lund@sydmed-neuro.se"
    # The time and the place come from the PDF programme, and the evidence says so.
    start = event.evidence["start"][0]
    assert (start.source, start.part) == ("attachment", pdf.name)
    assert "22 april 2026" in start.text
    assert event.evidence["location"][0].part == pdf.name
    assert_evidence_points_into_sections(message, event)


def test_service_training_with_an_ics_takes_time_and_place_from_the_calendar(extractor) -> None:  # noqa: ANN001
    message = read("05-service-info-ics-sv.eml")
    calendar = next(a.calendar for a in message.attachments if a.calendar)
    event = extractor.extract(message)
    assert event.start == calendar.start
    assert event.end == calendar.end
    assert event.duration_minutes == int((calendar.end - calendar.start).total_seconds() // 60)
    assert event.location == calendar.location
    assert event.evidence["start"][0].text.startswith("Start:")
    assert_evidence_points_into_sections(message, event)


def test_lunch_lecture_fields_and_json(extractor) -> None:  # noqa: ANN001
    message = read("01-lunch-lecture-sv.eml")
    event = extractor.extract(message)
    out = event.to_json()
    assert out["start"] == "2026-03-03T12:00:00+01:00"
    assert out["end"] == "2026-03-03T13:00:00+01:00"
    assert out["duration_minutes"] == 60
    assert out["costs_covered"] == ["meal"]
    assert out["target_group"] and "sjuksköterskor" in out["target_group"]
    assert out["purpose"] and out["purpose"].startswith("att ")
    assert out["online"] is False
    assert out["arranger"] == "industry"
    assert_evidence_points_into_sections(message, event)


def test_norwegian_course_uses_oslo_time_and_nok(extractor) -> None:  # noqa: ANN001
    message = read("03-kurs-no.eml")
    event = extractor.extract(message)
    assert event.start is not None and str(event.start.tzinfo) == "Europe/Oslo"
    assert event.start.isoformat() == "2026-03-12T08:30:00+01:00"
    assert event.location == "Scandic Ørnen, Bergen"


def test_an_invoice_has_no_event(extractor) -> None:  # noqa: ANN001
    event = extractor.extract(read("14-invoice-en.eml"))
    assert event.start is None and event.end is None and event.duration_minutes is None
    assert event.costs_covered == []
    assert event.location is None and event.purpose is None


def test_every_sample_extracts_without_error_and_every_value_has_evidence(extractor) -> None:  # noqa: ANN001
    for path in sorted(SAMPLES.glob("*.eml")):
        try:
            message = parse_message(path.read_bytes())
        except Exception:  # noqa: BLE001 - the malformed sample may not parse; that is the parser's job
            continue
        event = extractor.extract(message)
        for name in ("title", "organizer", "location", "target_group", "purpose", "content", "start", "contact"):
            if getattr(event, name) is not None:
                assert event.evidence.get(name), f"{path.name}: {name} has no evidence"
        assert_evidence_points_into_sections(message, event)


def test_a_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="triage train"):
        load_from(tmp_path / "extract")


def _invitation(body: str, subject: str = "Inbjudan", date_header: str = "Mon, 31 Aug 2026 16:05:12 +0200") -> ParsedMessage:
    raw = (f"From: Jonas Kvist <jonas.kvist@neurafix.se>\nTo: neuro@regionostergotland.se\nSubject: {subject}\n"
           f"Date: {date_header}\nMessage-ID: <t-programme@neurafix.se>\nMIME-Version: 1.0\n"
           f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n")
    return parse_message(raw.encode("utf-8"))


def _programme_time_of(extractor, message: ParsedMessage, day_text: str):  # noqa: ANN001, ANN202
    from triage.nlp.components.dates import MENTIONS
    from triage.nlp.extractor import EventExtractor

    docs = extractor.process(message)
    for sd in docs:
        for mention in sd.doc.user_data.get(MENTIONS, []):
            if mention.kind == "date" and mention.text.startswith(day_text):
                found = EventExtractor._programme_time(docs, sd, mention)
                return found[1] if found else None
    raise AssertionError(f"no date mention {day_text!r}")


def test_a_day_without_a_time_starts_with_its_first_programme_item(extractor) -> None:  # noqa: ANN001
    message = _invitation("Höstträff om Parkinsons sjukdom\nDatum: torsdag 8 oktober 2026\n"
                          "Plats: Restaurang Kajen, Hamngatan 3, Norrköping\nProgram\n18.00–20.30  Middag i matsalen\n"
                          "20.30–20.50  Föreläsning: Nytt om avancerad behandling\n")
    clock = _programme_time_of(extractor, message, "torsdag 8 oktober")
    assert clock is not None and clock.start_time.hour == 18 and clock.end_time is None


def test_a_programme_of_a_later_day_gives_the_first_day_no_time(extractor) -> None:  # noqa: ANN001
    message = _invitation("Dates: Thursday 4 June – Sunday 7 June 2026\nVenue: Hôtel Belle Rive, Nice\n\n"
                          "Thursday: arrival, welcome dinner\nFriday 09.00–13.00: ablation strategies\n")
    assert _programme_time_of(extractor, message, "Thursday 4 June") is None


def test_a_numbered_programme_day_with_its_date_leads_to_its_items(extractor) -> None:  # noqa: ANN001
    message = _invitation("Datum: 15–16 oktober 2026\nPlats: Konferens Vinkeln, Örebro\n"
                          "Program dag 1 – torsdag 15 oktober\n10.00 Välkommen och introduktion\n10.30 Glukosmätning\n")
    clock = _programme_time_of(extractor, message, "15–16 oktober")
    assert clock is not None and (clock.start_time.hour, clock.start_time.minute) == (10, 0)


def test_a_later_days_session_time_does_not_start_a_multi_day_event(extractor) -> None:  # noqa: ANN001
    from triage.nlp.components.dates import MENTIONS

    message = _invitation("This year's Academy takes place on the Skåne coast, Friday 11 – Sunday 13 September 2026.\n\n"
                          "Friday\tArrival, golf clinic, dinner\n\nSaturday 09.00–12.00\tTreatment algorithm workshop\n",
                          date_header="Mon, 30 Mar 2026 07:30:23 +0200")
    docs = extractor.process(message)
    sd = next(d for d in docs if d.source == "body")
    mention = next(m for m in sd.doc.user_data[MENTIONS] if m.kind == "date")
    assert mention.text.startswith("Friday 11")
    assert extractor._time_near(sd, mention) is None


def test_a_time_read_from_another_section_keeps_that_sections_evidence(extractor) -> None:  # noqa: ANN001
    message = _invitation("Välkommen till vårmötet i fjällen.\n\nTorsdag 26 mars\n\n15.00\tAnkomst, incheckning\n\n"
                          "19.00\tVälkomstmiddag\n\nFredag 27 mars\n\n09.00–10.30\tFöreläsning\n",
                          subject="Inbjudan: Reumatologiskt vårmöte i fjällen 26–28 mars 2026",
                          date_header="Wed, 14 Jan 2026 08:05:29 +0100")
    event = extractor.extract(message)
    assert_evidence_points_into_sections(message, event)
