"""Quoted replies and signatures are separated from the new text, conservatively."""

from __future__ import annotations

import pytest

from tests.support.mail import lines, parsed
from triage.message.body import split_body
from triage.message.envelope import Address
from triage.message.quotes import split_quotes, split_signature


def test_swedish_gmail_reply_with_quote_and_delimited_signature() -> None:
    message = parsed("reply_quoted_sv.eml")
    assert message.sender == Address("Karin Berg", "karin.berg@region-syd.se")
    assert message.new_text == (
        "Hej Anna,\n\nTack för inbjudan. Kan ni komplettera med syftet med föreläsningen och hur lång den är?\n"
        "Vi behöver också veta vilka kostnader Nordpharma står för."
    )
    assert message.quoted_text.startswith(
        "Den tis 3 mars 2026 kl 09:12 skrev Anna Lindqvist <anna.lindqvist@nordpharma.se>:\n\n> Hej!"
    )
    assert "> lunchföreläsning om hjärtsvikt." in message.quoted_text
    assert message.signature == "Karin Berg\nVerksamhetschef, Kardiologiska kliniken\nRegion Syd\n046-17 10 00"
    assert message.forwarded == ()
    assert message.language == "sv"
    assert "Nordpharma AB vill bjuda in" not in message.new_text
    assert "Nordpharma AB vill bjuda in" not in message.document_text  # quotes are no section


def test_norwegian_outlook_reply_block_is_quoted_text_not_a_forward() -> None:
    message = parsed("reply_outlook_nb.eml")
    assert message.new_text == (
        "Hei Ola,\n\nTakk for invitasjonen. Vi mangler opplysninger om hvem som betaler frokosten og\n"
        "hvilke deltakere som er tenkt invitert. Kan dere sende dette?"
    )
    assert lines(message.signature) == ["Vennlig hilsen", "Ingrid Dahl", "Avdelingsleder", "Vestfjord HF",
                                        "Tlf. 75 00 00 00"]
    assert message.quoted_text.startswith("Fra: Ola Hansen <ola.hansen@nordmed.no>\nSendt: tirsdag 3. mars 2026 10:12")
    assert "Nordmed AS ønsker å invitere legene" in message.quoted_text
    assert message.forwarded == ()
    assert message.language == "nb"


def test_a_long_block_after_a_greeting_is_not_a_signature() -> None:
    message = parsed("signature_long_block.eml")
    assert message.signature == ""
    assert "Kursen om hjärtsvikt hålls den 14 april 2026 kl. 12.00–13.00" in message.new_text
    assert message.new_text.endswith("Välkommen!")
    assert message.language == "sv"


@pytest.mark.parametrize(
    "attribution",
    [
        "Den 3 mars 2026 kl. 10:00 skrev Anna <a@b.se>:",
        "tir. 3. mar. 2026 kl. 10:00 skrev Kari Nordmann <kari@nordmed.no>:",
        "On Tue, 3 Mar 2026 at 10:00, John Smith <john@x.com> wrote:",
        "Am 03.03.2026 um 10:00 schrieb Jonas Weber:",
        "3 mars 2026 kl. 10:00 skrev Anna Svensson <anna@x.se>:",
    ],
)
def test_attribution_lines_start_the_quote(attribution: str) -> None:
    text = f"Tack, vi återkommer.\n\n{attribution}\n\n> Gammal text\n> mer gammal text"
    new, quoted = split_quotes(text)
    assert new == "Tack, vi återkommer."
    assert quoted.startswith(attribution) and quoted.endswith("> mer gammal text")


def test_a_wrapped_gmail_attribution_is_joined() -> None:
    text = "Thanks!\n\nOn Tue, 3 Mar 2026 at 10:00, John Smith <\njohn.smith@cardiogen.co.uk> wrote:\n\n> Old text"
    new, quoted = split_quotes(text)
    assert new == "Thanks!"
    assert quoted.startswith("On Tue, 3 Mar 2026 at 10:00, John Smith <")


def test_an_unmarked_quote_takes_the_rest_of_the_body() -> None:
    text = "Tack!\n\nDen 3 mars 2026 kl. 10:00 skrev Anna <a@b.se>:\nGammal text utan citattecken.\nMer."
    new, quoted = split_quotes(text)
    assert new == "Tack!"
    assert quoted.endswith("Gammal text utan citattecken.\nMer.")


def test_interleaved_answers_stay_new_text() -> None:
    text = "> Kan ni komma?\nJa, vi kommer.\n> Hur många?\nTre personer."
    new, quoted = split_quotes(text)
    assert new == "Ja, vi kommer.\nTre personer."
    assert quoted == "> Kan ni komma?\n> Hur många?"


def test_a_sentence_mentioning_skrev_is_not_an_attribution() -> None:
    text = "Som vi skrev i inbjudan den 3 mars:\nMötet hålls i Lund."
    assert split_quotes(text) == (text, "")


@pytest.mark.parametrize(
    ("text", "body", "signature"),
    [
        ("Välkommen!\n\nMed vänlig hälsning\nAnna Lindqvist\nNordpharma AB\n070-123 45 67",
         "Välkommen!", "Med vänlig hälsning\nAnna Lindqvist\nNordpharma AB\n070-123 45 67"),
        ("Velkommen!\n\nMed vennlig hilsen\nKari Nordmann", "Velkommen!", "Med vennlig hilsen\nKari Nordmann"),
        ("Velkommen!\n\nVennlig hilsen Kari", "Velkommen!", "Vennlig hilsen Kari"),
        ("Welcome!\n\nKind regards,\nJohn", "Welcome!", "Kind regards,\nJohn"),
        ("Välkommen!\n\nMvh Anna Svensson", "Välkommen!", "Mvh Anna Svensson"),
        ("Välkommen!\n\nVänliga hälsningar\nAnna", "Välkommen!", "Vänliga hälsningar\nAnna"),
        ("Välkommen!\n\n/Anna", "Välkommen!", "/Anna"),
        ("Välkommen!\n-- \nAnna Lindqvist\nNordpharma AB", "Välkommen!", "Anna Lindqvist\nNordpharma AB"),
        ("Välkommen!\n\nSkickat från min iPhone", "Välkommen!", "Skickat från min iPhone"),
    ],
)
def test_signatures(text: str, body: str, signature: str) -> None:
    assert split_signature(text) == (body, signature)


@pytest.mark.parametrize(
    "text",
    [
        # A closing followed by the invitation itself: prose, long lines.
        "Hälsningar\nVi bjuder in till en kurs om hjärtsvikt den 14 april 2026 i Lund för alla läkare på kliniken.\n"
        "Syftet är att ge en uppdatering om de nya riktlinjerna för behandling av hjärtsvikt.",
        # A closing with too many lines after it.
        "Mvh\n" + "\n".join(f"Rad {n}" for n in range(15)),
        # "Best" opening a sentence is no closing.
        "Best practice for heart failure\nDate: 3 March\nPlace: Lund",
    ],
)
def test_no_signature_when_unsure(text: str) -> None:
    assert split_signature(text) == (text, "")


def test_a_legal_footer_may_follow_a_signature() -> None:
    text = ("Välkommen!\n\nMed vänlig hälsning\nAnna\nNordpharma AB\n"
            "Detta e-postmeddelande kan innehålla konfidentiell information och är endast avsett för adressaten. "
            "Om du fått det av misstag, radera det.")
    body, signature = split_signature(text)
    assert body == "Välkommen!"
    assert signature.startswith("Med vänlig hälsning\nAnna")


def test_a_forward_inside_an_old_quote_stays_quoted() -> None:
    text = ("Tack, vi tittar på det.\n\nDen 3 mars 2026 kl. 10:00 skrev Anna <a@b.se>:\nSe nedan.\n\n"
            "---------- Forwarded message ---------\nFrom: X <x@y.com>\nSubject: Inbjudan\nDate: 2026-03-03 10:00\n\nText")
    split = split_body(text, "SV: Inbjudan")
    assert split.new_text == "Tack, vi tittar på det."
    assert split.forwards == ()
    assert split.quoted_text.startswith("Den 3 mars 2026 kl. 10:00 skrev Anna <a@b.se>:")
    assert split.quoted_text.endswith("Text")
