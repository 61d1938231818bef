"""The exact vocabulary of SPEC §3: chapters, missing elements, violations, verdicts.

Every stage, the training data and the JSON output use these strings; nothing else in the
code base spells them out, so a typo is an import error rather than a silent mismatch.
"""

from __future__ import annotations

CHAPTERS: tuple[str, ...] = (
    "1.1", "1.2", "2", "3.2", "3.3", "3.4", "4", "5", "6", "7", "8", "9", "10", "not_invitation",
)
NOT_INVITATION = "not_invitation"

MISSING_CODES: tuple[str, ...] = (
    "purpose", "content", "target_group", "duration", "location", "costs_covered",
    "organizer", "payer", "budget", "project_plan", "agreement",
)

VIOLATION_CODES: tuple[str, ...] = (
    "travel_paid_by_industry", "lodging_paid_by_industry", "participant_compensation",
    "meal_not_modest", "entertainment", "venue_not_near_workplace", "venue_inappropriate",
    "hospitality_dominates", "gift", "meal_only_sponsorship", "internal_activity_sponsorship",
    "companion_invited", "marketing_in_service_info", "stipend_only_travel",
    "donation_tied_to_sales", "donation_not_research", "funds_ordinary_operations",
    "agreement_with_individual", "exclusivity", "advisory_board_too_broad",
    "recipient_chosen_by_company", "donation_to_individual", "no_employer_approval",
    "psp_direct_to_patient", "market_research_influence", "meeting_not_preagreed",
    "not_sent_to_function_mailbox",
)

VERDICTS: tuple[str, ...] = ("compliant", "needs_info", "non_compliant", "not_applicable")
ARRANGERS: tuple[str, ...] = ("industry", "healthcare", "third_party", "joint")
COST_KINDS: tuple[str, ...] = ("meal", "travel", "lodging", "fee", "venue", "speaker", "material", "transfer")
LANGUAGES: tuple[str, ...] = ("sv", "nb", "en")
JURISDICTIONS: tuple[str, ...] = ("SE", "NO")
RULEBOOK_FOR_JURISDICTION: dict[str, str] = {"SE": "se-2026", "NO": "no-2023"}
FINDING_KINDS: tuple[str, ...] = ("missing", "violation")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high")

#: Chapter titles in the languages a digest or reply can be written in.
CHAPTER_TITLES: dict[str, dict[str, str]] = {
    "sv": {
        "1.1": "Serviceinformation (medicinteknik/IVD)",
        "1.2": "Riskminimeringsinformation (läkemedel)",
        "2": "Produktinformation",
        "3.2": "Sammankomst arrangerad av företag",
        "3.3": "Sammankomst arrangerad gemensamt av vården och företag",
        "3.4": "Sammankomst arrangerad av vården eller tredje part, företag som sponsor",
        "4": "Konsultuppdrag",
        "5": "Stipendium",
        "6": "Donation",
        "7": "Utvecklingsprojekt",
        "8": "Patientstödsprogram",
        "9": "Referenskund",
        "10": "Marknadsundersökning",
        "not_invitation": "Ingen inbjudan",
    },
    "nb": {
        "1.1": "Serviceinformasjon (medisinsk utstyr/IVD)",
        "1.2": "Risikominimeringsinformasjon (legemidler)",
        "2": "Produktinformasjon",
        "3.2": "Møte arrangert av firma",
        "3.3": "Møte arrangert i fellesskap av helsetjenesten og firma",
        "3.4": "Møte arrangert av helsetjenesten eller tredjepart, firma som sponsor",
        "4": "Konsulentoppdrag",
        "5": "Stipend",
        "6": "Donasjon",
        "7": "Utviklingsprosjekt",
        "8": "Pasientstøtteprogram",
        "9": "Referansekunde",
        "10": "Markedsundersøkelse",
        "not_invitation": "Ingen invitasjon",
    },
    "en": {
        "1.1": "Service information (medtech/IVD)",
        "1.2": "Risk minimisation information (pharma)",
        "2": "Product information",
        "3.2": "Meeting arranged by the company",
        "3.3": "Meeting arranged jointly by healthcare and the company",
        "3.4": "Meeting arranged by healthcare or a third party, company as sponsor",
        "4": "Consultancy assignment",
        "5": "Scholarship",
        "6": "Donation",
        "7": "Development project",
        "8": "Patient support programme",
        "9": "Reference customer",
        "10": "Market research",
        "not_invitation": "Not an invitation",
    },
}


def chapter_title(chapter: str | None, language: str = "sv") -> str:
    """Return "3.2 Sammankomst arrangerad av företag" style text for a chapter code."""
    if chapter is None:
        return "?"
    titles = CHAPTER_TITLES.get(language, CHAPTER_TITLES["sv"])
    return f"{chapter} {titles.get(chapter, '')}".strip() if chapter != NOT_INVITATION else titles[chapter]


def verdict_for(chapter: str | None, missing: list[str] | tuple[str, ...], violations: list[str] | tuple[str, ...]) -> str | None:
    """Apply SPEC §3 convention 7: violation beats missing beats compliant; non-invitations are n/a."""
    if chapter is None:
        return None
    if chapter == NOT_INVITATION:
        return "not_applicable"
    if violations:
        return "non_compliant"
    if missing:
        return "needs_info"
    return "compliant"
