"""Language detection in low-accuracy mode: short and mixed-language texts keep their answers."""

from __future__ import annotations

import pytest

from triage.message.language import detect_language, language_of_parts

#: Short texts (subject lines, one-line notes) of 20–70 letters: where low accuracy would show first.
SHORT = [
    ("Inbjudan till lunchföreläsning om astma", "sv"),
    ("Invitasjon til kurs i diabetesbehandling", "nb"),
    ("Invitation to a lunch lecture on asthma", "en"),
    ("Vidarebefordrar för kännedom", "sv"),
    ("Videresender til orientering", "nb"),
    ("Påminnelse: anmälan senast fredag", "sv"),
    ("Påminnelse: påmelding innen fredag", "nb"),  # the same first word in both languages
    ("Reminder: registration closes Friday", "en"),
    ("Middag och övernattning ingår", "sv"),
    ("Middag og overnatting er inkludert", "nb"),
    ("Kurs: Hjärtsvikt i allmänpraxis", "sv"),
    ("Kurs: Hjertesvikt i allmennpraksis", "nb"),
    ("Save the date: Nordic Diabetes Summit, Oslo", "en"),  # a Norwegian place name in English
    ("Program: 12.00 lunch, 13.00 föreläsning, 14.30 kaffe", "sv"),
    ("Program: 12.00 lunsj, 13.00 foredrag, 14.30 kaffe", "nb"),
    ("Agenda: 12.00 lunch, 13.00 lecture, 14.30 coffee", "en"),
]


@pytest.mark.parametrize(("text", "expected"), SHORT)
def test_short_texts(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_a_line_that_mixes_languages_word_by_word_goes_to_the_one_with_more_of_it() -> None:
    # One Swedish compound beside five English words. The high-accuracy models said "sv" here (the
    # only disagreement with low accuracy we found); low accuracy weighs the English majority.
    assert detect_language("Lunchföreläsning – Lunch lecture – new treatment options") == "en"


@pytest.mark.parametrize(("note", "invitation", "expected"), [
    ("Vidarebefordrar för kännedom, hälsningar Åsa",
     "You are invited to a dinner symposium on heart failure in Oslo on 12 March.", "en"),
    ("Videresender til orientering, hilsen Øystein",
     "Välkommen till en utbildningsdag om hjärtsvikt den 12 mars i Göteborg.", "sv"),
    ("FYI, see the invitation below",
     "Velkommen til kurs i hjertesvikt for fastleger på Legenes hus i Oslo 12. mars.", "nb"),
])
def test_a_short_forwarding_note_does_not_outvote_the_invitation(note: str, invitation: str, expected: str) -> None:
    assert language_of_parts([note, invitation]) == expected


def test_too_few_letters_borrow_the_fallback_or_claim_nothing() -> None:
    assert detect_language("Hej!") is None
    assert detect_language("Hej!", fallback="Inbjudan till lunchföreläsning om astma") == "sv"
    assert language_of_parts(["OK", "12.00"], fallback="Invitasjon til kurs i diabetesbehandling") == "nb"
