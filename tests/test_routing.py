"""Jurisdiction and Norwegian section routing."""

from __future__ import annotations

import pytest

from triage.classify.routing import JurisdictionRouter, no_section_for
from triage.message.envelope import Address, ParsedMessage
from triage.results import Classification


def message(language="sv", to=("samverkan@skane.se",), sender="a@pharma.se", text="Inbjudan") -> ParsedMessage:
    return ParsedMessage(
        raw_sha256="0" * 64, message_id="<x@y>", in_reply_to=None, references=(), subject="s",
        sender=Address("", sender), reply_to=(), to=tuple(Address("", t) for t in to), cc=(), date=None,
        date_raw=None, auto_submitted=None, precedence=None, list_id=None, return_path=None, headers=(),
        body_text=text, new_text=text, quoted_text="", signature="", html=None, forwarded=(), attachments=(),
        language=language,
    )


def test_swedish_mail_to_a_region_is_se():
    routing = JurisdictionRouter().route(message(), Classification(chapter="3.2"))
    assert (routing.jurisdiction, routing.rulebook, routing.no_section) == ("SE", "se-2026", None)


def test_english_mail_to_a_health_trust_is_no_with_section():
    routing = JurisdictionRouter().route(message("en", to=("postmottak@helse-bergen.no",)), Classification(chapter="3.2"))
    assert (routing.jurisdiction, routing.rulebook, routing.no_section) == ("NO", "no-2023", "Samarbeidsavtalen pkt. 5")


def test_norwegian_text_is_no_and_configured_mailbox_wins():
    assert JurisdictionRouter().jurisdiction_of(message("nb", to=("lege@gmail.com",))) == "NO"
    assert JurisdictionRouter("SE").jurisdiction_of(message("nb", to=("postmottak@ous-hf.no",))) == "SE"


def test_chapter_4_lecture_versus_advisory_board():
    assert no_section_for("4", "Vi ønsker at du holder et foredrag") == "Samarbeidsavtalen pkt. 6"
    assert no_section_for("4", "Invitasjon til advisory board") == "Samarbeidsavtalen pkt. 7"
    assert no_section_for("not_invitation", "x") is None


def test_private_address_but_a_norwegian_health_trust_named_is_no():
    """A consultancy request to a doctor's Gmail that names his health trust is judged by no-2023."""
    text = ("Since this is outside your hospital role, there is no need to clear it with Helse Stavanger; "
            "we pay NOK 2,000 per hour.")
    mail = message("en", to=("sigve.vatne@gmail.com",), sender="t.greaves@orchardlanetx.com", text=text)
    routing = JurisdictionRouter().route(mail, Classification(chapter="4"))
    assert (routing.jurisdiction, routing.rulebook) == ("NO", "no-2023")


@pytest.mark.parametrize("text", [
    "We would like to invite the ENT department at Oslo universitetssykehus to a course.",
    "Your department at Sykehuset Innlandet is welcome to our seminar.",
    "We are contacting several helseforetak about a pilot.",
    "Course for surgeons at Haukeland, Helse Bergen.",
])
def test_foreign_or_private_recipient_and_a_named_trust_is_no(text):
    for to in (("doctor@gmail.com",), ("someone@clinic.dk",), ()):
        assert JurisdictionRouter().jurisdiction_of(message("en", to=to, sender="a@pharma.com", text=text)) == "NO"


def test_norwegian_text_to_nobody_swedish_is_no():
    text = "Vi vil gjerne invitere deg til et fagmøte om astma."
    assert JurisdictionRouter().jurisdiction_of(message("nb", to=("lege@hotmail.com",), text=text)) == "NO"
    assert JurisdictionRouter().jurisdiction_of(message("nb", to=(), text=text)) == "NO"


def test_the_receiving_unit_decides_over_the_language():
    """LABELLING.md: a Swedish region's mailbox → SE, a health trust's postmottak → NO, whatever the language."""
    assert JurisdictionRouter().jurisdiction_of(message("nb", to=("samverkan@regionvarmland.se",))) == "SE"
    assert JurisdictionRouter().jurisdiction_of(message("sv", to=("postmottak@sthf.no",))) == "NO"
    # a private Norwegian address is not a unit: the Swedish region the text names decides
    text = "Välkommen till en kurs för Region Skåne på Skånes universitetssjukhus."
    assert JurisdictionRouter().jurisdiction_of(message("sv", to=("kari@online.no",), text=text)) == "SE"


def test_private_recipient_and_a_swedish_region_or_nothing_named_is_se():
    text = "Vi bjuder in läkare i Region Skåne till en föreläsning, kostnad 500 SEK."
    assert JurisdictionRouter().jurisdiction_of(message("sv", to=("dr.holm@gmail.com",), text=text)) == "SE"
    assert JurisdictionRouter().jurisdiction_of(message("en", to=("dr.holm@gmail.com",), text="Hello")) == "SE"
    # nothing named: a Norwegian sender still says where the mail belongs
    assert JurisdictionRouter().jurisdiction_of(
        message("en", to=("dr.holm@gmail.com",), sender="ola@firma.no", text="Hello")) == "NO"


@pytest.mark.parametrize("configured", ["SE", "NO"])
def test_a_mailbox_configured_jurisdiction_wins_over_every_signal(configured):
    text = "Helse Bergen, Oslo universitetssykehus og Region Skåne"
    for mail in (message("nb", to=("doctor@gmail.com",), text=text), message("sv", to=("samverkan@skane.se",)),
                 message("en", to=("postmottak@helse-bergen.no",))):
        assert JurisdictionRouter(configured).jurisdiction_of(mail) == configured
