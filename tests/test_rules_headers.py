"""Was the invitation sent to the function mailbox (SE) or postmottak (NO)? From the headers, as the company sent it."""

from __future__ import annotations

from email.message import EmailMessage

from triage.config import RulesConfig
from triage.message.parse import parse_message
from triage.results import Classification, EventDetails, Routing
from triage.rules.checker import RulebookChecker
from triage.rules.lexicons import load_lexicons
from triage.rules.loading import load_rulebooks

LEXICONS = load_lexicons()
BOOKS = load_rulebooks(lexicons=LEXICONS)
EVENT = EventDetails(purpose="p", content="c", target_group="t", duration_minutes=60, location="l",
                     costs_covered=["meal"], organizer="Exempel AB")


def mail(body: str, *, sender: str, to: str, cc: str | None = None):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = "Inbjudan till kvällsseminarium"
    message["Message-ID"] = "<h@example.invalid>"
    message.set_content(body)
    return parse_message(message.as_bytes())


def mailbox_findings(message, jurisdiction="SE", settings=None):
    routing = Routing(jurisdiction=jurisdiction, rulebook="se-2026" if jurisdiction == "SE" else "no-2023")
    outcome = RulebookChecker(BOOKS, LEXICONS, settings or RulesConfig()).check(
        message, EVENT, Classification(chapter="3.2"), routing)
    return [f for f in outcome.findings if f.code == "not_sent_to_function_mailbox"]


def test_sent_only_to_a_person_is_a_breach_quoting_the_to_header():
    found = mailbox_findings(mail("Välkommen!", sender="Niklas <niklas@cerebrio.se>",
                                  to="Kristina Björk <kristina.bjork@regionuppsala.se>"))
    assert len(found) == 1
    assert found[0].evidence.source == "header" and "kristina.bjork@regionuppsala.se" in found[0].evidence.text


def test_a_copy_to_the_function_mailbox_or_head_of_unit_is_enough():
    for cc in ("Funktionsbrevlåda Psykiatri <funktionsbrevlada.psykiatri@regionuppsala.se>",
               "samverkan.psykiatri@regionuppsala.se",
               "Verksamhetschef Psykiatri <eva.ek@regionuppsala.se>"):
        assert not mailbox_findings(mail("Välkommen!", sender="niklas@cerebrio.se",
                                         to="kristina.bjork@regionuppsala.se", cc=cc)), cc


FORWARD = """Hej, den här kom direkt till mig. Skickar den enligt rutinen.

Kristina

-----Ursprungligt meddelande-----
Från: Niklas Ahl <niklas.ahl@cerebrio.se>
Skickat: den 17 mars 2026 18:22
Till: {to}
Ämne: Inbjudan – ADHD hos vuxna

Välkommen på vårt kvällsseminarium om ADHD hos vuxna onsdag 15 april kl. 17.00–19.30.
"""


def test_a_colleagues_forward_is_judged_by_the_originals_recipients():
    forwarded = mail(FORWARD.format(to="Kristina Björk <kristina.bjork@regionuppsala.se>"),
                     sender="Kristina Björk <kristina.bjork@regionuppsala.se>", to="samverkan.psykiatri@regionuppsala.se")
    found = mailbox_findings(forwarded)
    assert len(found) == 1
    assert found[0].evidence.source in {"forwarded", "body"}
    assert "kristina.bjork" in found[0].evidence.text or "direkt till mig" in found[0].evidence.text


def test_a_forward_of_an_invitation_that_reached_the_mailbox_is_fine():
    forwarded = mail(FORWARD.format(to="Samverkan Psykiatri <samverkan.psykiatri@regionuppsala.se>").replace(
        "den här kom direkt till mig", "för kännedom"),
        sender="Kristina Björk <kristina.bjork@regionuppsala.se>", to="lakare.psykiatri@regionuppsala.se")
    assert not mailbox_findings(forwarded)


def test_norway_wants_postmottak():
    assert mailbox_findings(mail("Velkommen!", sender="kari@firma.no", to="hanne.moe@ous-hf.no"), "NO")
    assert not mailbox_findings(mail("Velkommen!", sender="kari@firma.no", to="postmottak@ous-hf.no",
                                     cc="hanne.moe@ous-hf.no"), "NO")
    # a Swedish-style "samverkan" address is not a Norwegian postmottak
    assert mailbox_findings(mail("Velkommen!", sender="kari@firma.no", to="samverkan@ous-hf.no"), "NO")


def test_a_site_can_name_its_own_mailbox_words():
    message = mail("Välkommen!", sender="niklas@cerebrio.se", to="inbjudningar.kardiologi@regionexempel.se")
    assert mailbox_findings(message)
    settings = RulesConfig(function_mailbox_words=["inbjudningar"])
    assert not mailbox_findings(message, settings=settings)


def test_a_colleague_on_another_regional_domain_is_still_a_colleague():
    forwarded = mail(FORWARD.format(to="Kristina Björk <kristina.bjork@regionuppsala.se>"),
                     sender="Kristina Björk <kristina.bjork@akademiska.regionuppsala.se>",
                     to="Samverkan Psykiatri <samverkan.psykiatri@regionuppsala.se>")
    assert mailbox_findings(forwarded)


def test_a_company_that_forwards_a_third_partys_invitation_to_the_mailbox_sent_it_right():
    forwarded = mail(FORWARD.format(to="Per Ek <per.ek@cerebrio.se>").replace("den här kom direkt till mig", "för kännedom"),
                     sender="Niklas Ahl <niklas.ahl@cerebrio.se>", to="samverkan.psykiatri@regionuppsala.se")
    assert not mailbox_findings(forwarded)
