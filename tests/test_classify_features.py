"""What the chapter classifier reads from a mail: texts by origin and the cheap signals."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.classify.features import domain_kind, mail_features
from triage.message.envelope import Address
from triage.message.parse import parse_message


def make_mail(body: str, *, subject: str = "Hej", sender: str = "anna@nordavia-pharma.se",
              to: str = "samverkan.kardiologi@regionskane.se", headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Tue, 03 Feb 2026 09:00:00 +0100"
    msg["Message-ID"] = "<features@test>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def features(body: str, **kwargs):
    return mail_features(parse_message(make_mail(body, **kwargs)))


@pytest.mark.parametrize(("email", "kind"), [
    ("lena@regionskane.se", "healthcare"),
    ("post@vgregion.se", "healthcare"),
    ("postmottak@helse-bergen.no", "healthcare"),
    ("kari@sykehuset-innlandet.no", "healthcare"),
    ("per@ahus.no", "healthcare"),
    ("anna@nordavia-pharma.se", "company"),
    ("ola@helsevia.no", "company"),  # a company whose name starts with "helse" is still a company
    ("someone@gmail.com", "free_mail"),
    ("news@mail.mailchimp.com", "marketing"),
    ("info@nnf2026.org", "association"),
    ("kansli@svenskaforeningen.se", "association"),
])
def test_sender_domains_are_sorted_into_kinds(email, kind):
    assert domain_kind(Address("", email)) == kind


def test_no_address_is_its_own_kind():
    assert domain_kind(None) == "none"
    assert domain_kind(Address("Only a name", "")) == "none"


def test_texts_keep_their_origin_and_the_subject_leads():
    f = features("Välkomna på lunchföreläsning om hjärtsvikt.", subject="Inbjudan: hjärtsvikt")
    assert f.subject == "Inbjudan: hjärtsvikt"
    assert "lunchföreläsning" in f.body
    assert f.forwarded == "" and f.attachments == ""
    assert f.text.startswith("Inbjudan: hjärtsvikt\n")


def test_dates_prices_and_meals_are_noticed():
    f = features("Tisdag 3 mars kl. 12.00–13.00 bjuder vi på lunch (värde 250 kr per person).")
    assert {"has_date", "has_time", "has_price", "has_meal"} <= set(f.signals)
    plain = features("Tack för igår, vi hörs.")
    assert not {"has_date", "has_price", "has_meal"} & set(plain.signals)


def test_auto_replies_and_lists_are_noticed_from_their_headers():
    auto = features("Jag är på semester till 10 augusti.", subject="Automatiskt svar: Inbjudan",
                    headers={"Auto-Submitted": "auto-replied"})
    assert {"auto_submitted", "autoreply_subject"} <= set(auto.signals)
    bulk = features("Nyheter från oss.", headers={"List-Unsubscribe": "<https://x.example/u>", "Precedence": "bulk"})
    assert {"list_unsubscribe", "precedence_bulk"} <= set(bulk.signals)
    assert "auto_submitted" not in bulk.signals


def test_sender_kind_and_language_become_signals():
    f = features("Hei! Vi inviterer til fagdag om diabetes på sykehuset i april, med lunsj og foredrag.",
                 sender="kari@sykehuset-innlandet.no", to="postmottak@sykehuset-innlandet.no")
    assert "sender=healthcare" in f.signals
    assert "lang=nb" in f.signals
    assert "to=function_mailbox" in f.signals


def test_a_mail_only_to_persons_is_told_apart_from_one_to_the_function_mailbox():
    assert "to=persons_only" in features("Hej Anna", to="anna.svensson@regionskane.se").signals
    assert "to=function_mailbox" in features("Hej", to="funktionsbrevlada.ortopedi@regionhalland.se").signals


@pytest.mark.parametrize(("body", "cue"), [
    ("Vi söker sökande till vårt stipendium för forskning.", "cue=stipend"),
    ("Vi vill gärna intervjua er i en fokusgrupp om inhalatorer.", "cue=survey"),
    ("Gastria AS and the clinic organise the day jointly and share the costs.", "cue=joint"),
    ("Would your clinic act as a reference site for the new pump?", "cue=reference"),
    ("Brådskande säkerhetsmeddelande (FSN) – återkallelse av batch 42.", "cue=safety_notice"),
    ("Ledig stilling: spesialsykepleier, 100 % fast stilling, søk via jobbportalen.", "cue=job"),
    ("Vi rekryterar en produktspecialist. Tillträde enligt överenskommelse.", "cue=job"),
    ("Denna information kräver ingen åtgärd.", "cue=no_action"),
    ("No further action is required on your part.", "cue=no_action"),
    ("Vi bekräftar att följande personer är anmälda till föreläsningen.", "cue=already_booked"),
    ("Takk for påmeldingen! Du er påmeldt til kurset.", "cue=already_booked"),
    ("Kvällsmötet den 4 mars är inställt.", "cue=finished"),
    ("Tack till alla som deltog i enkäten!", "cue=finished"),
    ("Kan vi komma förbi och visa den nya pumpen? Återkom gärna.", "cue=ask"),
])
def test_concept_cues_are_read_in_each_language(body, cue):
    assert cue in features(body).signals


def test_who_hosts_is_read_from_the_sentence_that_says_so():
    joint = features("Lungepoliklinikken ved Sykehuset Namsos og Lungevia AS arrangerer sammen KOLS-skole.")
    assert "host=both" in joint.signals
    company = features("Arrangör: Ossaria Pharma AB\nMålgrupp: sjuksköterskor i Region Jämtland Härjedalen")
    assert "host=company" in company.signals and "host=both" not in company.signals


def test_features_depend_on_the_mail_only():
    raw = make_mail("Samma text.", subject="Samma ämne")
    assert mail_features(parse_message(raw)) == mail_features(parse_message(raw))


def test_a_huge_mail_is_read_only_up_to_the_cap():
    from triage.classify.features import MAX_PART_CHARS

    f = features("Nyheter om lunch och kurs. " * 20_000)
    assert len(f.body) == MAX_PART_CHARS
    assert "has_meal" in f.signals


def test_every_cue_is_written_in_lowercase():
    """mail_features matches the cues on lowercased text without IGNORECASE, where an uppercase letter
    in a cue would never match (the check also refuses uppercase escapes such as \\W: harmless, but
    simplest kept out)."""
    from triage.classify.features import CUES

    assert [name for name, pattern in CUES.items() if pattern.pattern != pattern.pattern.lower()] == []


@pytest.mark.parametrize("body", [
    "Ledig stilling: intensivsykepleier. Søknadsfrist 31. mai, søk via jobbportalen.",
    "Du er påmeldt til kurset 12. mars. Ingen handling nødvendig.",
    "I'm out of the office until Monday. Automatic reply.",
])
def test_mails_that_propose_nothing_share_one_pooled_cue(body):
    """Each kind is rare in the corpus; the pooled `cue=no_proposal` lets them learn from each other."""
    assert "cue=no_proposal" in features(body).signals


@pytest.mark.parametrize("body", [
    "Vi vill gärna bjuda in er till en lunchföreläsning om astma den 12 maj. Anmälan till mig.",
    "Vi söker en klinik som vill delta i ett utvecklingsprojekt; ansökan senast 1 mars.",
    "Stipendiet söks senast 1 mars; bifoga CV och personligt brev.",
])
def test_an_invitation_or_a_call_for_applicants_is_not_read_as_a_mail_that_proposes_nothing(body):
    assert "cue=no_proposal" not in features(body).signals
