"""Best text body, HTML to text, multipart/alternative and language, on real-looking fixtures."""

from __future__ import annotations

import pytest

from tests.support.mail import lines, parsed
from triage.message.envelope import Address
from triage.message.html_text import html_to_text
from triage.message.language import detect_language, language_of_parts
from triage.message.text import clean_text, unflow


def test_plain_swedish_invitation() -> None:
    message = parsed("plain_sv.eml")
    assert message.sender == Address("Anna Lindqvist", "anna.lindqvist@nordpharma.se")
    assert message.subject == "Inbjudan till lunchföreläsning om hjärtsvikt"
    assert message.language == "sv"
    assert message.new_text.startswith("Hej!\n\nNordpharma AB vill bjuda in läkare och sjuksköterskor")
    assert "Plats: Konferensrum 3, Universitetssjukhuset, Lund" in lines(message.new_text)
    assert "Tid: tisdag 14 april 2026 kl. 12.00–13.00" in lines(message.new_text)
    assert message.new_text.endswith("Anmälan senast den 7 april till anna.lindqvist@nordpharma.se.")
    assert lines(message.signature) == [
        "Med vänlig hälsning", "Anna Lindqvist", "Medicinsk rådgivare", "Nordpharma AB", "Tel 070-123 45 67",
        "anna.lindqvist@nordpharma.se",
    ]
    assert message.quoted_text == ""
    assert message.forwarded == ()
    assert message.attachments == ()
    assert message.html is None
    assert message.defects == ()
    # body_text is the whole body: the new text and the signature.
    assert message.body_text.startswith(message.new_text)
    assert message.body_text.endswith("anna.lindqvist@nordpharma.se")


def test_plain_norwegian_latin1_label_with_cp1252_dash() -> None:
    message = parsed("plain_nb.eml")
    assert message.sender == Address("Kari Nordmann", "kari.nordmann@nordmed.no")
    assert message.subject == "Invitasjon til frokostmøte om diabetes"
    assert message.language == "nb"
    assert "Tidspunkt: torsdag 16. april 2026 kl. 08.00–09.00" in lines(message.new_text)
    assert "Sted: Møterom Fjorden, Vestfjord sykehus" in lines(message.new_text)
    assert lines(message.signature)[:2] == ["Med vennlig hilsen", "Kari Nordmann"]
    assert message.attachments == ()
    assert message.defects == ()


def test_plain_english_invitation() -> None:
    message = parsed("plain_en.eml")
    assert message.sender == Address("Smith, John", "john.smith@cardiogen.co.uk")
    assert message.reply_to == (Address("", "events@cardiogen.co.uk"),)
    assert message.to == (Address("", "fb-kardiologi@region-syd.se"),)
    assert message.language == "en"
    assert "Target group: cardiologists and specialist nurses" in lines(message.new_text)
    assert message.new_text.endswith("Please register by 16 April 2026 with john.smith@cardiogen.co.uk.")
    assert lines(message.signature) == [
        "Best regards,", "John Smith", "Medical Affairs Manager", "CardioGen Ltd", "+44 20 7946 0000",
    ]


def test_html_only_keeps_table_rows_and_list_items_as_lines() -> None:
    message = parsed("html_only_table_list.eml")
    assert message.sender == Address("Erik Holm", "erik.holm@kardiomed.se")
    assert message.subject == "Inbjudan till utbildningseftermiddag om förmaksflimmer"
    assert message.language == "sv"
    text_lines = lines(message.new_text)
    # Each table row is one line, its cells in order.
    rows = [line.split() for line in text_lines if line[:2].isdigit()]
    assert [" ".join(row) for row in rows] == [
        "13:00 Välkommen och introduktion",
        "13:15 Antikoagulation i praktiken",
        "14:30 Kaffe",
        "15:00 Fallbeskrivningar och diskussion",
    ]
    assert text_lines[text_lines.index("Program") + 1].split() == ["Tid", "Programpunkt"]
    # Each list item is its own line, after the paragraph that introduces the list.
    start = text_lines.index("Målgrupp:")
    assert text_lines[start + 1:start + 4] == [
        "* Specialistläkare i kardiologi", "* ST-läkare", "* Sjuksköterskor på AK-mottagningen",
    ]
    # Paragraphs stay apart; entities are decoded; <br> breaks lines.
    assert "Hej!\n\nKardiomed AB har nöjet att bjuda in" in message.new_text
    assert "Plats: Hotell Kungsgården, konferenssal B, Malmö." in text_lines
    assert lines(message.signature) == ["Vänliga hälsningar", "Erik Holm", "Kardiomed AB"]
    # The raw HTML is kept for whatever needs markup or links.
    assert message.html is not None and "<table border=\"1\">" in message.html
    assert "kardiomed.se/anmalan" in message.html
    assert "display:none" not in message.body_text


def test_multipart_alternative_prefers_plain_and_keeps_html() -> None:
    message = parsed("alternative.eml")
    assert message.sender == Address("Lars Ström", "lars.strom@medtechnorden.se")
    assert message.language == "sv"
    assert lines(message.new_text)[-3:] == [
        "Datum: onsdag 22 april 2026, kl. 14.00–15.00",
        "Plats: Diabetesmottagningen, Universitetssjukhuset, Lund",
        "Innehåll: Produktgenomgång och praktisk demonstration av pumpen.",
    ]
    assert "&ouml;" not in message.body_text
    assert message.html is not None and message.html.startswith("<html><body><div>Hej,</div>")
    assert lines(message.signature) == ["Hälsningar", "Lars Ström", "MedTech Norden AB"]
    assert message.attachments == ()


def test_alternative_with_a_stub_plain_part_uses_the_html() -> None:
    message = parsed("newsletter.eml")
    assert message.new_text.startswith("Nyhet 1\n\nKardiomed lanserar en uppdaterad version")
    assert "Visa i webbläsaren" not in message.body_text
    assert "text/plain alternative is a stub of the HTML one; HTML used" in message.defects
    assert message.list_id == "Kardiomed nyhetsbrev <nyhetsbrev.kardiomed.se>"
    assert message.precedence == "list"


def test_html_to_text_handles_broken_and_empty_markup() -> None:
    assert html_to_text("") == ("", [])
    text, defects = html_to_text("<p>Hej<p>V&auml;lkommen <b>till<i> kursen</table></div>\x00\x01")
    assert lines(text) == ["Hej", "Välkommen till kursen"]
    assert defects == []


def test_format_flowed_is_joined_but_signature_separator_is_not() -> None:
    flowed = "Det här är en lång rad som \nfortsätter här.\n> citerad \n> rad\n-- \nAnna"
    assert unflow(flowed) == "Det här är en lång rad som fortsätter här.\n> citerad rad\n-- \nAnna"
    assert unflow("ett \ntvå", delsp=True) == "etttvå"


def test_clean_text_normalises_spaces_and_blank_lines() -> None:
    assert clean_text("a\r\nb\u00a0c\u200b\n\n\n\nd  \n") == "a\nb c\n\nd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vi bjuder in till en lunchföreläsning om hjärtsvikt på kliniken.", "sv"),
        ("Vi inviterer til et frokostmøte om hjertesvikt på sykehuset.", "nb"),
        ("We are pleased to invite you to a lunch symposium on heart failure.", "en"),
        ("Hej!", None),
        ("", None),
        ("12:00 – 13:00, 2026-04-14, +46 70 123 45 67", None),
    ],
)
def test_language_detection(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_a_swedish_comment_above_an_english_invitation_is_english_mail() -> None:
    comment = "Hej, vidarebefordrar för kännedom. Anmäl er inte förrän ni hört från oss."
    invitation = ("Dear colleagues, Kestrel Biopharma is organising an evening meeting on gout management at "
                  "Konferens Norr, Storgatan 62, Umeå, and we would be glad to see colleagues from your clinic there. "
                  "The programme covers diagnosis, imaging and a nurse-led follow-up model.")
    assert detect_language(f"{comment}\n\n{invitation}") == "sv"  # å, ä, ö sway one joined detection
    assert language_of_parts([comment, invitation]) == "en"
    assert language_of_parts(["Se nedan.", "Kort."], fallback="Inbjudan till lunchföreläsning om hjärtsvikt") == "sv"
    assert language_of_parts([], fallback="") is None


def test_language_falls_back_to_the_subject_for_a_short_body() -> None:
    assert detect_language("Se bilaga.", fallback="Inbjudan till lunchföreläsning om hjärtsvikt") == "sv"
    assert detect_language("See attached.", fallback="Kort") is None
