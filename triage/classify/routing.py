"""Decide the jurisdiction, the rulebook and the Norwegian clause for a message.

A mailbox may be configured for one jurisdiction; otherwise the message decides: Norwegian text,
or a Norwegian sender or recipient domain, means the Norwegian agreements apply.
"""

from __future__ import annotations

import re

from triage.message.envelope import ParsedMessage
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


class JurisdictionRouter:
    """Routes by the mailbox's configured jurisdiction, else by language and domains."""

    def __init__(self, jurisdiction: str | None = None) -> None:
        self.jurisdiction = jurisdiction

    def jurisdiction_of(self, message: ParsedMessage) -> str:
        if self.jurisdiction:
            return self.jurisdiction
        if message.language == "nb":
            return "NO"
        people = [a for a in message.recipients if a.email]
        for fwd in message.forwarded:
            people.extend(fwd.to)
        if any(a.domain.endswith(".no") for a in people):
            return "NO"
        if not people and message.original_sender and message.original_sender.domain.endswith(".no"):
            return "NO"
        return "SE"

    def route(self, message: ParsedMessage, classification: Classification) -> Routing:
        jurisdiction = self.jurisdiction_of(message)
        section = no_section_for(classification.chapter, message.document_text) if jurisdiction == "NO" else None
        return Routing(jurisdiction=jurisdiction, rulebook=RULEBOOK_FOR_JURISDICTION[jurisdiction], no_section=section)
