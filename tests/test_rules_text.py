"""How the checks read a mail: units that point back into the sections, amounts, negation."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.message.envelope import Section
from triage.message.parse import parse_message
from triage.rules.text import find_amounts, message_units, negated, split_section


def test_units_are_sentences_and_lines_with_offsets_into_their_section():
    section = Section("body", None, "Hej!\n\nVi ses kl. 12.00 i Aulan. Dr. Berg talar om KOL.\nLunch ingår.")
    units = split_section(section)
    assert [u.text for u in units] == ["Hej!", "Vi ses kl. 12.00 i Aulan.", "Dr. Berg talar om KOL.", "Lunch ingår."]
    for unit in units:
        assert section.text[unit.start:unit.end] == unit.text


def test_a_line_wrapped_inside_a_sentence_is_one_unit():
    section = Section("attachment", "program.pdf", "Resor och eventuell övernattning\nbekostas av arbetsgivaren.\nAnmälan senast 1 mars")
    units = split_section(section)
    assert units[0].text == "Resor och eventuell övernattning\nbekostas av arbetsgivaren."
    assert len(units) == 2


def test_evidence_points_into_the_section_even_for_long_sentences():
    long = "Inledning " * 40 + "vi betalar flyg tur och retur" + " avslutning" * 40
    section = Section("body", None, long)
    unit = split_section(section)[0]
    start = unit.text.index("vi betalar")
    evidence = unit.evidence(start, start + len("vi betalar flyg"))
    assert "vi betalar flyg" in evidence.text and len(evidence.text) <= 260
    assert section.text[evidence.start:evidence.end] == evidence.text


def test_message_units_cover_every_section_in_reading_order():
    mail = EmailMessage()
    mail["From"] = "a@b.se"
    mail["To"] = "samverkan@region.se"
    mail["Subject"] = "Inbjudan till lunchmöte"
    mail.set_content("Välkommen på lunch.\n\nMvh\n-- \nAnna")
    units = message_units(parse_message(mail.as_bytes()))
    assert units[0].source == "subject" and units[0].text == "Inbjudan till lunchmöte"
    assert units[1].source == "body"
    assert [u.index for u in units] == list(range(len(units)))


@pytest.mark.parametrize(("text", "value", "currency", "per_person"), [
    ("Middag 650 kr per person", 650, "SEK", True),
    ("a donation of SEK 30,000", 30000, "SEK", False),
    ("Honorarium: EUR 300, paid by bank transfer", 300, "EUR", False),
    ("cirka 1 200 kr/person", 1200, "SEK", True),
    ("we will pay USD 250 upon completion", 250, "USD", False),
    ("gavekort på 200 kroner", 200, "NOK", False),
])
def test_amounts(text, value, currency, per_person):
    (amount,) = find_amounts(text, "SEK")
    assert (amount.value, amount.currency, amount.per_person) == (value, currency, per_person)
    assert text[amount.start:amount.end].strip()


def test_kr_means_the_jurisdictions_currency():
    assert find_amounts("lunsj til 180 kr", "NOK")[0].currency == "NOK"
    assert find_amounts("lunch för 180 kr", "SEK")[0].currency == "SEK"


@pytest.mark.parametrize(("text", "word", "expected"), [
    ("Donationen betalas inte till dig personligen.", "till dig", True),
    ("Donationen betalas till dig personligen.", "till dig", False),
    ("Vi betalar inte resan, men vi står för flyg till föreläsaren.", "flyg", False),
    ("The donation is not linked to purchases of our products.", "purchases", True),
    ("Ingen koppling till upphandling.", "upphandling", True),
    ("Donasjonen er ikke knyttet til salg.", "salg", True),
])
def test_negation_reaches_only_its_own_clause(text, word, expected):
    assert negated(text, text.index(word)) is expected
