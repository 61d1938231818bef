"""Jurisdiction and Norwegian section routing."""

from __future__ import annotations

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
    assert JurisdictionRouter().jurisdiction_of(message("nb")) == "NO"
    assert JurisdictionRouter("SE").jurisdiction_of(message("nb", to=("postmottak@ous-hf.no",))) == "SE"


def test_chapter_4_lecture_versus_advisory_board():
    assert no_section_for("4", "Vi ønsker at du holder et foredrag") == "Samarbeidsavtalen pkt. 6"
    assert no_section_for("4", "Invitasjon til advisory board") == "Samarbeidsavtalen pkt. 7"
    assert no_section_for("not_invitation", "x") is None
