"""Decide the jurisdiction, the rulebook and the Norwegian clause for a message.

A mailbox may be configured for one jurisdiction, and then that wins. Otherwise the message decides,
by where the receiving unit is (LABELLING.md: "a Swedish region's mailbox → SE, a Norwegian health
trust's postmottak → NO, whatever the language"):

1. a recipient at a Norwegian organisation's domain (also in a forwarded original) → NO;
   one at a Swedish organisation's domain → SE;
2. no organisation among the recipients (a private address such as a doctor's Gmail, a foreign
   address, none at all): Norwegian text → NO; else the units the text names (a Norwegian health
   trust, "helseforetak", NOK against a Swedish region, SEK) decide; else a `.no` address among
   sender and recipients → NO;
3. otherwise SE.
"""

from __future__ import annotations

import re

from triage.classify.features import FREE_MAIL_DOMAINS
from triage.message.envelope import Address, ParsedMessage
from triage.results import Classification, Routing
from triage.vocabulary import RULEBOOK_FOR_JURISDICTION

#: The clause of the Norwegian agreements (brochure numbering, 2023) that decides each chapter.
NO_SECTION_FOR_CHAPTER: dict[str, str | None] = {
    "1.1": "Samarbeidsavtalen pkt. 8",
    "1.2": None,
    "2": "Samarbeidsavtalen pkt. 5",
    "3.2": "Samarbeidsavtalen pkt. 5",
    "3.3": "Samarbeidsavtalen pkt. 5",
    "3.4": "Samarbeidsavtalen pkt. 5",
    "4": "Samarbeidsavtalen pkt. 7",
    "5": None,
    "6": "Samarbeidsavtalen pkt. 10",
    "7": "Samarbeidsavtalen pkt. 10",
    "8": "Samarbeidsavtalen pkt. 12",
    "9": "Samarbeidsavtalen pkt. 9",
    "10": None,
    "not_invitation": None,
}

#: A lecture for the supplier is pkt. 6; other assignments (advisory boards, consulting) pkt. 7.
_LECTURE = re.compile(r"\b(foredrag\w*|forelesning\w*|lecture\w*|föreläsning\w*|talk|speaker)\b", re.IGNORECASE)
_ADVISORY = re.compile(r"\b(advisory|rådgiv\w*|konsulent\w*|consult\w*)\b", re.IGNORECASE)


def no_section_for(chapter: str | None, text: str) -> str | None:
    """The Norwegian clause for a chapter; chapter 4 looks at whether it is a lecture."""
    if chapter is None:
        return None
    if chapter == "4" and _LECTURE.search(text) and not _ADVISORY.search(text):
        return "Samarbeidsavtalen pkt. 6"
    return NO_SECTION_FOR_CHAPTER.get(chapter)


#: Norwegian health trusts, their hospitals and the words for them: a mail naming one is meant for
#: a Norwegian unit even when it reached a person's private address.
_NORWEGIAN_CARE = re.compile(
    r"(?<![\w-])(helse[ -](?:bergen|stavanger|fonna|førde|forde|møre og romsdal|more og romsdal|nord-trøndelag|"
    r"nord|vest|midt-norge|midt|sør-øst|sor-ost|finnmark|helgeland)|helseforetak\w*|health trusts?|"
    r"regionale? helseforetak\w*|oslo universitetssykehus|universitetssykehuset\w*|\w+ universitetssykehus|"
    r"sykehuset \w+|\w*sykehus(?:et)?|st\.? olavs?|haukeland|rikshospitalet|ullevål|ahus|unn|ous|"
    r"[a-zæøå-]+ hf|legemiddelverket|samarbeidsavtalen|lmi|melanor|nok)(?![\w-])", re.IGNORECASE)
#: Swedish regions and hospitals: the same for Sweden.
_SWEDISH_CARE = re.compile(
    r"(?<![\w-])(region (?:skåne|stockholm|uppsala|östergötland|jönköpings län|kronoberg|kalmar län|blekinge|"
    r"halland|västra götaland|värmland|örebro län|västmanland|dalarna|gävleborg|västernorrland|jämtland härjedalen|"
    r"västerbotten|norrbotten|gotland|sörmland)|västra götalandsregionen|landsting\w*|\w*sjukhus(?:et)?|"
    r"karolinska|sahlgrenska|akademiska|vårdcentral\w*|läkemedelsverket|samverkansregler\w*|lif|swedish medtech|"
    r"sek|kronor)(?![\w-])", re.IGNORECASE)


def _organisation_domain(address: Address) -> str | None:
    """ "no" / "se" for an address at a Norwegian / Swedish organisation, None for others (private, foreign)."""
    domain = address.domain.lower()
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    tld = domain.rpartition(".")[2]
    return tld if tld in ("no", "se") else None


def jurisdiction_from_text(text: str) -> str | None:
    """NO or SE when the text names more Norwegian than Swedish units (or the reverse), else None."""
    norwegian, swedish = len(_NORWEGIAN_CARE.findall(text)), len(_SWEDISH_CARE.findall(text))
    if norwegian > swedish:
        return "NO"
    if swedish > norwegian:
        return "SE"
    return None


class JurisdictionRouter:
    """Routes by the mailbox's configured jurisdiction, else by the recipients, the language and the text."""

    def __init__(self, jurisdiction: str | None = None) -> None:
        self.jurisdiction = jurisdiction

    def jurisdiction_of(self, message: ParsedMessage) -> str:
        if self.jurisdiction:
            return self.jurisdiction
        people = [a for a in message.recipients if a.email]
        for fwd in message.forwarded:
            people.extend(a for a in fwd.to if a.email)
        units = {_organisation_domain(a) for a in people} - {None}
        if "no" in units:
            return "NO"
        if "se" in units:
            return "SE"
        # Nobody at a Swedish or Norwegian organisation: a private, foreign or missing recipient.
        if message.language == "nb":
            return "NO"
        named = jurisdiction_from_text(message.document_text[:20_000])
        if named:
            return named
        senders = [message.sender, message.original_sender]
        if any(a is not None and a.domain.lower().endswith(".no") for a in people + senders):
            return "NO"
        return "SE"

    def route(self, message: ParsedMessage, classification: Classification) -> Routing:
        jurisdiction = self.jurisdiction_of(message)
        section = no_section_for(classification.chapter, message.document_text) if jurisdiction == "NO" else None
        return Routing(jurisdiction=jurisdiction, rulebook=RULEBOOK_FOR_JURISDICTION[jurisdiction], no_section=section)
