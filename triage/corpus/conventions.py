"""The labelling conventions of LABELLING.md that a machine can check.

Which `missing` codes a jurisdiction's rulebook can require per chapter, and which violation codes
the Norwegian agreements name. The rulebooks are the authority at run time; these tables keep the
corpus from teaching the models something the rulebooks would never say.
"""

from __future__ import annotations

ALLOWED_MISSING: dict[tuple[str, str], frozenset[str]] = {
    ("SE", "2"): frozenset({"purpose", "content", "target_group", "duration", "location"}),
    ("SE", "3.2"): frozenset({"purpose", "content", "target_group", "duration", "location", "costs_covered"}),
    ("SE", "3.3"): frozenset({"purpose", "content", "target_group", "duration", "location", "costs_covered"}),
    ("SE", "3.4"): frozenset({"budget"}),
    ("SE", "4"): frozenset({"agreement"}),
    ("SE", "9"): frozenset({"agreement"}),
    ("SE", "7"): frozenset({"budget", "project_plan", "agreement"}),
    ("NO", "2"): frozenset({"organizer", "payer"}),
    ("NO", "3.2"): frozenset({"organizer", "payer"}),
    ("NO", "3.3"): frozenset({"organizer", "payer"}),
    ("NO", "3.4"): frozenset({"organizer", "payer"}),
}

NO_VIOLATIONS: frozenset[str] = frozenset({
    "recipient_chosen_by_company", "no_employer_approval", "meeting_not_preagreed", "not_sent_to_function_mailbox",
})

#: Least number of mails per chapter over all splits (issue 4).
MIN_PER_CHAPTER = 30
MIN_NOT_INVITATION = 120
#: Least number of mails carrying each missing and each violation code over all splits.
MIN_PER_CODE = 8


def allowed_missing(jurisdiction: str, chapter: str) -> frozenset[str]:
    """The missing codes a label may carry for this jurisdiction and chapter."""
    return ALLOWED_MISSING.get((jurisdiction, chapter), frozenset())
