"""Forwarded originals: every client's header block and separator, attached mails, nesting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support.mail import lines, parsed
from triage.message.dates import MAILBOX_TZ
from triage.message.envelope import Address
from triage.message.forwards import split_inline
from triage.message.markers import subject_action


def test_outlook_swedish_forward() -> None:
    message = parsed("fwd_outlook_sv.eml")
    assert message.sender == Address("Karin Berg", "karin.berg@region-syd.se")
    assert message.new_text == "Hej,\n\nVidarebefordrar inbjudan nedan för bedömning enligt samverkansreglerna."
    assert lines(message.signature) == [
        "Mvh", "Karin Berg", "Verksamhetschef, Kardiologiska kliniken", "Region Syd",
    ]
    assert len(message.forwarded) == 1
    original = message.forwarded[0]
    assert original.how == "inline"
    assert original.sender == Address("Erik Holm", "erik.holm@kardiomed.se")
    assert original.subject == "Inbjudan till satellitsymposium om förmaksflimmer"
    assert original.date_raw == "den 2 mars 2026 09:15"
    assert original.date == datetime(2026, 3, 2, 9, 15, tzinfo=MAILBOX_TZ)
    assert original.to == (Address("Karin Berg", "karin.berg@region-syd.se"),)
    assert original.text.startswith("Hej Karin!\n\nKardiomed AB bjuder in läkare på Kardiologiska kliniken")
    assert "Plats: Malmö Live, sal C" in lines(original.text)
    assert original.text.endswith("Vänliga hälsningar\nErik Holm\nKardiomed AB")
    assert message.original_sender == original.sender
    assert message.language == "sv"
    assert message.attachments == ()
    # The forwarded original is a section of its own, so evidence can cite it.
    labels = [section.label for section in message.sections]
    assert labels == ["subject", "body", "forwarded:forwarded[0]", "signature"]
    assert "Malmö Live, sal C" in message.document_text


def test_outlook_norwegian_forward() -> None:
    message = parsed("fwd_outlook_nb.eml")
    assert message.new_text == "Hei,\n\nVideresender denne til vurdering, jf. samarbeidsavtalen."
    assert lines(message.signature)[:2] == ["Hilsen", "Ingrid Dahl"]
    [original] = message.forwarded
    assert original.sender == Address("Ola Hansen", "ola.hansen@nordmed.no")
    assert original.subject == "Invitasjon til frokostmøte om diabetes"
    assert original.date == datetime(2026, 3, 3, 10, 12, tzinfo=MAILBOX_TZ)
    assert original.to == (Address("Ingrid Dahl", "ingrid.dahl@vestfjord-hf.no"),)
    assert "Tid: torsdag 16. april 2026 kl. 08.00–09.00" in lines(original.text)
    assert message.language == "nb"
    assert message.original_sender == Address("Ola Hansen", "ola.hansen@nordmed.no")


def test_outlook_english_forward_with_mailto_and_wrapped_to() -> None:
    message = parsed("fwd_outlook_en.eml")
    assert message.new_text == "Please see below."
    assert lines(message.signature) == ["Regards,", "Per"]
    [original] = message.forwarded
    assert original.sender == Address("Sarah Jones", "sarah.jones@cardiogen.com")
    assert original.to == (
        Address("Per Ekström", "per.ekstrom@region-syd.se"),
        Address("Karin Berg", "karin.berg@region-syd.se"),
    )
    assert original.date == datetime(2026, 3, 3, 10, 0, tzinfo=MAILBOX_TZ)
    assert original.text.startswith("Dear colleagues,")
    assert message.language == "en"


def test_outlook_german_forward_in_html_only_mail() -> None:
    message = parsed("fwd_outlook_de_html.eml")
    assert message.new_text == "Zur Kenntnisnahme."
    assert lines(message.signature) == ["Gruß", "Jonas Weber"]
    [original] = message.forwarded
    assert original.sender == Address("Sarah Jones", "sarah.jones@cardiogen.com")
    assert original.subject == "Invitation: advisory board on heart failure care"
    assert original.date == datetime(2026, 3, 3, 10, 0, tzinfo=MAILBOX_TZ)
    assert original.text.startswith("Dear colleagues,\n\nCardioGen Ltd is setting up an advisory board")


def test_gmail_english_forward() -> None:
    message = parsed("fwd_gmail_en.eml")
    assert message.sender == Address("Per Ekström", "per.ekstrom@region-syd.se")
    assert message.new_text == "FYI - see the invitation below. Can the committee take a look?\n\nThanks\nPer"
    [original] = message.forwarded
    assert original.sender == Address("Sarah Jones", "sarah.jones@cardiogen.com")
    assert original.subject == "Invitation: advisory board on heart failure care"
    assert original.date_raw == "Tue, 3 Mar 2026 at 10:00"
    assert original.date == datetime(2026, 3, 3, 10, 0, tzinfo=MAILBOX_TZ)
    assert original.to == (Address("Per Ekström", "per.ekstrom@region-syd.se"),)
    assert original.text.startswith("Dear colleagues,")
    assert original.text.endswith("Medical Director Nordics, CardioGen Ltd")
    assert message.language == "en"
    assert message.html is not None  # the HTML alternative is kept raw


def test_gmail_swedish_forward() -> None:
    message = parsed("fwd_gmail_sv.eml")
    assert message.new_text == "Till funktionsbrevlådan för granskning."
    [original] = message.forwarded
    assert original.sender == Address("Erik Holm", "erik.holm@kardiomed.se")
    assert original.subject == "Inbjudan till satellitsymposium om förmaksflimmer"
    assert original.date == datetime(2026, 3, 3, 10, 0, tzinfo=MAILBOX_TZ)
    assert original.to == (Address("", "karin.berg@region-syd.se"),)
    assert original.text.startswith("Hej Karin!")
    assert message.language == "sv"


def test_gmail_norwegian_forward() -> None:
    message = parsed("fwd_gmail_nb.eml")
    assert message.subject == "Fwd: Invitasjon til frokostmøte om diabetes"
    assert message.new_text == "Til vurdering."
    [original] = message.forwarded
    assert original.sender == Address("Ola Hansen", "ola.hansen@nordmed.no")
    assert original.date_raw == "tir. 3. mar. 2026 kl. 10:00"
    assert original.date == datetime(2026, 3, 3, 10, 0, tzinfo=MAILBOX_TZ)
    assert original.subject == "Invitasjon til frokostmøte om diabetes"
    assert original.text.startswith("Hei,\n\nNordmed AS ønsker å invitere legene")
    assert message.language == "nb"


def test_apple_mail_swedish_forward_with_flowed_text() -> None:
    message = parsed("fwd_apple_sv.eml")
    assert message.new_text == "Hej, skickar vidare den här inbjudan."
    assert message.signature == "Skickat från min iPhone"
    [original] = message.forwarded
    assert original.sender == Address("Lena Ek", "lena.ek@medilab.se")
    assert original.subject == "Inbjudan till utbildning i provtagning för blodgas"
    assert original.date == datetime(2026, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # "CET"
    assert original.to == (Address("", "fb-lab@region-syd.se"),)
    # The soft line break of format=flowed is joined into one line.
    assert ("Hej! Medilab AB erbjuder en utbildning i korrekt provtagning för blodgasanalys för biomedicinska "
            "analytiker och sjuksköterskor som redan använder våra analysinstrument.") in lines(original.text)
    assert message.language == "sv"


def test_attached_rfc822_message_is_parsed_recursively() -> None:
    message = parsed("fwd_rfc822.eml")
    assert message.sender == Address("Karin Berg", "karin.berg@region-syd.se")
    assert message.new_text == "Vidarebefordrar inbjudan som bilaga."
    assert message.signature == "/Karin"
    [original] = message.forwarded
    assert original.how == "rfc822"
    assert original.sender == Address("Erik Holm", "erik.holm@kardiomed.se")
    assert original.subject == "Inbjudan till satellitsymposium"
    assert original.date == datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=1)))
    assert original.to == (Address("Karin Berg", "karin.berg@region-syd.se"),)
    assert original.text.startswith("Hej,\n\nVälkommen till ett satellitsymposium om förmaksflimmer")
    # The attached mail and the attachments inside it are attachments of the outer mail.
    assert [(a.filename, a.kind) for a in message.attachments] == [
        ("Inbjudan till satellitsymposium.eml", "message"),
        ("program.pdf", "pdf"),
    ]
    pdf = message.attachments[1]
    assert pdf.error is None
    assert "17.45 Nya data om antikoagulation – prof. Maria Olsson" in lines(pdf.text)
    assert message.original_sender == original.sender
    assert message.language == "sv"


def test_nested_inline_forwards_are_listed_outer_to_inner() -> None:
    message = parsed("fwd_nested.eml")
    assert message.new_text == "Hej,\n\nDetta kom till mig via en kollega i Lund. Kan ni granska?"
    assert lines(message.signature) == ["Mvh", "Sara"]
    outer, inner = message.forwarded
    assert outer.sender == Address("Per Ekström", "per.ekstrom@region-syd.se")
    assert outer.subject == "Fwd: Invitation: advisory board on heart failure care"
    assert outer.text == "Sara, this one is for you."
    assert inner.sender == Address("Sarah Jones", "sarah.jones@cardiogen.com")
    assert inner.subject == "Invitation: advisory board on heart failure care"
    assert inner.text.startswith("Dear colleagues,")
    assert message.original_sender == inner.sender
    assert [s.label for s in message.sections][:4] == ["subject", "body", "forwarded:forwarded[0]", "forwarded:forwarded[1]"]


@pytest.mark.parametrize(
    ("block", "sender", "subject"),
    [
        # Danish Outlook
        ("Fra: Mette Jensen <mette@pharma.dk>\nSendt: 3. marts 2026 10:00\nTil: Postmottak <post@hf.no>\n"
         "Emne: Invitation til møde", Address("Mette Jensen", "mette@pharma.dk"), "Invitation til møde"),
        # German Outlook with a separator
        ("-----Ursprüngliche Nachricht-----\nVon: Jonas Weber <jonas@pharma.de>\nGesendet: Dienstag, 3. März 2026 10:00\n"
         "An: fb@region.se\nBetreff: Einladung", Address("Jonas Weber", "jonas@pharma.de"), "Einladung"),
        # Outlook on the web: a rule of underscores, bold labels
        ("________________________________\n*From:* Sarah Jones <sarah@x.com>\n*Sent:* Tuesday, March 3, 2026 10:00\n"
         "*To:* fb@region.se\n*Subject:* Invitation", Address("Sarah Jones", "sarah@x.com"), "Invitation"),
        # Danish Gmail, German Apple Mail
        ("---------- Videresendt besked ----------\nFra: Mette <mette@pharma.dk>\nDato: 3. mar. 2026 kl. 10.00\n"
         "Emne: Invitation\nTil: post@hf.no", Address("Mette", "mette@pharma.dk"), "Invitation"),
        ("Anfang der weitergeleiteten Nachricht:\n\nVon: Jonas <jonas@pharma.de>\nBetreff: Einladung\n"
         "Datum: 3. März 2026 um 10:00:00 MEZ\nAn: fb@region.se", Address("Jonas", "jonas@pharma.de"), "Einladung"),
        # Outlook with only a display name for the sender
        ("Från: Svensson Anna\nSkickat: den 3 mars 2026 10:00\nTill: Funktionsbrevlåda\nÄmne: Möte",
         Address("Svensson Anna", ""), "Möte"),
    ],
)
def test_header_blocks_in_other_languages(block: str, sender: Address, subject: str) -> None:
    text = f"Se nedan.\n\n{block}\n\nDet ursprungliga meddelandet.\n"
    split = split_inline(text, reply=False)
    assert split.top.strip() == "Se nedan."
    [forward] = split.forwards
    assert forward.text.strip() == "Det ursprungliga meddelandet."
    assert forward.fields["subject"] == subject
    from triage.message.headers import parse_addresses

    assert parse_addresses(forward.fields["from"])[0][0] == sender


def test_a_name_only_sender_prints_as_the_name() -> None:
    assert str(Address("Svensson Anna", "")) == "Svensson Anna"
    assert str(Address("", "anna@x.se")) == "anna@x.se"
    assert str(Address("Anna", "anna@x.se")) == "Anna <anna@x.se>"


def test_a_memo_like_line_is_not_a_header_block() -> None:
    text = "Från: kl. 12.00\nTill: kl. 13.00\n\nVälkommen!"
    assert split_inline(text, reply=False).forwards == []


def test_a_forward_marker_without_headers_still_splits() -> None:
    split = split_inline("FYI\n\nBegin forwarded message:\n\nThe text.", reply=False)
    assert split.top.strip() == "FYI"
    assert split.forwards[0].fields == {} and split.forwards[0].text == "The text."


def test_a_fully_quoted_forward_is_unquoted() -> None:
    text = "FYI\n\n-------- Forwarded Message --------\nFrom: a@b.se\nSubject: X\nDate: 2026-03-03 10:00\n\n> line one\n> line two\n"
    [forward] = split_inline(text, reply=False).forwards
    assert forward.text == "line one\nline two"


@pytest.mark.parametrize(
    ("subject", "action"),
    [("VS: x", "forward"), ("VB: x", "forward"), ("Fwd: x", "forward"), ("FW: x", "forward"), ("WG: x", "forward"),
     ("SV: VS: x", "reply"), ("RE: x", "reply"), ("AW: x", "reply"), ("[EXTERN] Sv: x", "reply"),
     ("Inbjudan: x", None), ("", None)],
)
def test_subject_action(subject: str, action: str | None) -> None:
    assert subject_action(subject) == action
