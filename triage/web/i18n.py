"""The words of the review UI in Swedish (the default) and English.

Templates call `t("key")`; a key missing in a language falls back to Swedish, then to the key
itself, so a forgotten translation shows up as a readable word rather than an error. Codes of the
vocabulary (missing elements, violations, verdicts) get short names here; chapter titles come
from `triage.vocabulary.CHAPTER_TITLES`.
"""

from __future__ import annotations

from collections.abc import Callable

from triage.vocabulary import CHAPTER_TITLES, NOT_INVITATION

LANGUAGES: tuple[str, ...] = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

_WORDS: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("Triage – granskning", "Triage – review"),
    "skip_to_content": ("Hoppa till innehållet", "Skip to content"),
    "nav_inbox": ("Inkorg", "Inbox"),
    "nav_agreement": ("Överensstämmelse", "Agreement"),
    "nav_users": ("Användare", "Users"),
    "logout": ("Logga ut", "Log out"),
    "language": ("Språk", "Language"),
    "change_language": ("Byt språk", "Change language"),
    "signed_in_as": ("Inloggad som", "Signed in as"),
    "role_reviewer": ("granskare", "reviewer"),
    "role_manager": ("chef", "manager"),
    # login
    "login_title": ("Logga in", "Log in"),
    "username": ("Användarnamn", "User name"),
    "password": ("Lösenord", "Password"),
    "login_button": ("Logga in", "Log in"),
    "login_failed": ("Fel användarnamn eller lösenord.", "Wrong user name or password."),
    "login_rate_limited": (
        "För många inloggningsförsök. Vänta en minut och försök igen.",
        "Too many login attempts. Wait a minute and try again.",
    ),
    "csrf_failed": (
        "Formuläret hade gått ut eller kom inte från den här sidan. Ladda om sidan och försök igen.",
        "The form had expired or did not come from this page. Reload the page and try again.",
    ),
    "forbidden": ("Din roll får inte göra detta.", "Your role may not do this."),
    "not_found": ("Finns inte.", "Not found."),
    # inbox
    "inbox_title": ("Inkorg", "Inbox"),
    "counts_title": ("Sammanställning", "Summary"),
    "filters": ("Filter", "Filters"),
    "mailbox": ("Brevlåda", "Mailbox"),
    "verdict": ("Bedömning", "Verdict"),
    "chapter": ("Kapitel", "Chapter"),
    "needs_review": ("Behöver granskas", "Needs review"),
    "date_from": ("Behandlad från", "Processed from"),
    "date_to": ("Behandlad till och med", "Processed up to and including"),
    "any": ("Alla", "Any"),
    "yes": ("Ja", "Yes"),
    "no": ("Nej", "No"),
    "apply_filters": ("Filtrera", "Filter"),
    "clear_filters": ("Rensa filter", "Clear filters"),
    "received": ("Mottaget", "Received"),
    "processed": ("Behandlat", "Processed"),
    "subject": ("Ämne", "Subject"),
    "sender": ("Avsändare", "Sender"),
    "confidence": ("Säkerhet", "Confidence"),
    "reviewed": ("Granskad", "Reviewed"),
    "reply": ("Svar", "Reply"),
    "no_messages": ("Inga meddelanden matchar filtret.", "No messages match the filter."),
    "total": ("Totalt", "Total"),
    "failed": ("Misslyckade", "Failed"),
    "page": ("Sida", "Page"),
    "previous": ("Föregående", "Previous"),
    "next": ("Nästa", "Next"),
    "no_subject": ("(inget ämne)", "(no subject)"),
    "corrected_to": ("ändrat till", "corrected to"),
    # message
    "message_title": ("Meddelande", "Message"),
    "back_to_inbox": ("Tillbaka till inkorgen", "Back to the inbox"),
    "judgement": ("Triagens bedömning", "Triage's judgement"),
    "current_state": ("Gällande efter granskning", "In force after review"),
    "jurisdiction": ("Jurisdiktion", "Jurisdiction"),
    "rulebook": ("Regelverk", "Rulebook"),
    "no_section": ("Norsk paragraf", "Norwegian clause"),
    "model": ("Modell", "Model"),
    "review_reasons": ("Skäl till granskning", "Why review"),
    "error": ("Fel", "Error"),
    "findings": ("Fynd", "Findings"),
    "no_findings": ("Inga fynd.", "No findings."),
    "rule": ("Regel", "Rule"),
    "citation": ("Hänvisning", "Citation"),
    "description": ("Beskrivning", "Description"),
    "severity": ("Allvarlighet", "Severity"),
    "evidence": ("Belägg", "Evidence"),
    "no_evidence": ("inget belägg i texten", "no evidence in the text"),
    "evidence_not_located": ("belägget hittades inte i texten", "evidence not found in the text"),
    "show_in_text": ("Visa i texten", "Show in the text"),
    "kind_missing": ("Saknas", "Missing"),
    "kind_violation": ("Överträdelse", "Violation"),
    "event_details": ("Uppgifter om evenemanget", "Event details"),
    "field": ("Fält", "Field"),
    "value": ("Värde", "Value"),
    "no_event": ("Inga uppgifter extraherade.", "No details extracted."),
    "original_text": ("Originaltext", "Original text"),
    "highlight_legend": (
        "Markerad text är belägg för ett fynd eller ett extraherat fält.",
        "Highlighted text is evidence for a finding or an extracted field.",
    ),
    "html_version": ("HTML-version (utan skript och externa resurser)", "HTML version (no scripts, no remote content)"),
    "headers": ("Brevhuvud", "Headers"),
    "to": ("Till", "To"),
    "cc": ("Kopia", "Cc"),
    "date": ("Datum", "Date"),
    "attachments": ("Bilagor", "Attachments"),
    "section_subject": ("Ämnesrad", "Subject line"),
    "section_body": ("Brödtext", "Body"),
    "section_forwarded": ("Vidarebefordrat meddelande", "Forwarded message"),
    "section_attachment": ("Bilaga", "Attachment"),
    "section_signature": ("Signatur", "Signature"),
    "raw_unreadable": ("Meddelandet kunde inte tolkas:", "The message could not be parsed:"),
    # corrections
    "correct_title": ("Rätta bedömningen", "Correct the judgement"),
    "new_chapter": ("Kapitel", "Chapter"),
    "set_verdict": ("Bedömning", "Verdict"),
    "verdict_auto": ("Automatiskt (enligt reglerna för bedömning)", "Automatic (by the verdict convention)"),
    "missing_elements": ("Saknade uppgifter", "Missing elements"),
    "violations": ("Överträdelser", "Violations"),
    "violation_quote": ("Citat ur mejlet som visar överträdelsen", "Quote from the mail that shows the violation"),
    "violation_quote_help": (
        "Krävs för en överträdelse som läggs till, så att rättelsen kan bli träningsdata.",
        "Needed for a violation you add, so the correction can become training data.",
    ),
    "comment": ("Kommentar (valfri)", "Comment (optional)"),
    "save_review": ("Spara rättelse", "Save correction"),
    "review_saved": ("Rättelsen är sparad.", "The correction is saved."),
    "review_unchanged": ("Inget ändrades; ingen rättelse sparades.", "Nothing changed; no correction saved."),
    "review_history": ("Granskningar", "Reviews"),
    "no_reviews": ("Inga granskningar ännu.", "No reviews yet."),
    "before": ("Före", "Before"),
    "after": ("Efter", "After"),
    "by": ("av", "by"),
    "invalid_choice": ("Ogiltigt val.", "Invalid choice."),
    # reply
    "reply_title": ("Svar till avsändaren", "Reply to the sender"),
    "reply_none": ("Inget svar är förberett för detta meddelande.", "No reply is prepared for this message."),
    "reply_to": ("Mottagare", "Recipient"),
    "reply_subject": ("Ämne", "Subject"),
    "reply_body": ("Text", "Text"),
    "reply_status": ("Status", "Status"),
    "send_reply": ("Skicka svaret", "Send the reply"),
    "reply_sent": ("Svaret är skickat.", "The reply is sent."),
    "reply_sent_at": ("Skickat", "Sent"),
    "reply_already_sent": ("Svaret har redan skickats; det skickas bara en gång.", "The reply was already sent; it is sent only once."),
    "reply_send_failed": ("Svaret kunde inte skickas:", "The reply could not be sent:"),
    "reply_not_sendable": ("Svaret kan inte skickas i sitt nuvarande läge.", "The reply cannot be sent in its current state."),
    "reply_no_smtp": ("Ingen SMTP-server är konfigurerad.", "No SMTP server is configured."),
    "status_pending": ("under arbete", "in progress"),
    "status_drafted": ("utkast", "draft"),
    "status_sent": ("skickat", "sent"),
    "status_suppressed": ("ej skickat (spärrat)", "not sent (suppressed)"),
    "status_failed": ("misslyckades", "failed"),
    "status_processed": ("behandlat", "processed"),
    "status_received": ("väntar", "waiting"),
    # reports
    "agreement_title": ("Överensstämmelse mellan triage och granskare", "Agreement between triage and reviewers"),
    "agreement_intro": (
        "Andel granskade meddelanden där triagens bedömning stod sig, per fält.",
        "Share of reviewed messages where triage's judgement stood, by field.",
    ),
    "reviewed_messages": ("Granskade meddelanden", "Reviewed messages"),
    "agreed": ("Överens", "Agreed"),
    "code": ("Kod", "Code"),
    "kept": ("Behölls", "Kept"),
    "removed": ("Togs bort", "Removed"),
    "added": ("Lades till", "Added"),
    "share": ("Andel", "Share"),
    "users_title": ("Användare", "Users"),
    "role": ("Roll", "Role"),
    "source": ("Källa", "Source"),
    "last_login": ("Senaste inloggning", "Last login"),
    "active": ("Aktiv", "Active"),
    # verdicts
    "verdict_compliant": ("Följer reglerna", "Compliant"),
    "verdict_needs_info": ("Uppgifter saknas", "Needs information"),
    "verdict_non_compliant": ("Bryter mot reglerna", "Non-compliant"),
    "verdict_not_applicable": ("Ingen inbjudan", "Not applicable"),
    "verdict_none": ("Ingen bedömning", "No verdict"),
    "verdict_failed": ("Misslyckades", "Failed"),
    # missing elements
    "missing_purpose": ("Syfte", "Purpose"),
    "missing_content": ("Innehåll/program", "Content/agenda"),
    "missing_target_group": ("Målgrupp", "Target group"),
    "missing_duration": ("Tidsåtgång", "Duration"),
    "missing_location": ("Plats", "Location"),
    "missing_costs_covered": ("Vilka kostnader företaget står för", "Costs the company covers"),
    "missing_organizer": ("Arrangör", "Organizer"),
    "missing_payer": ("Vem som betalar", "Who pays"),
    "missing_budget": ("Budget", "Budget"),
    "missing_project_plan": ("Projektplan", "Project plan"),
    "missing_agreement": ("Skriftligt avtal", "Written agreement"),
    # violations
    "violation_travel_paid_by_industry": ("Företaget betalar resa", "Company pays travel"),
    "violation_lodging_paid_by_industry": ("Företaget betalar logi", "Company pays lodging"),
    "violation_participant_compensation": ("Ersättning för att delta", "Compensation for attending"),
    "violation_meal_not_modest": ("Måltid inte måttlig", "Meal not modest"),
    "violation_entertainment": ("Underhållning/fritidsprogram", "Entertainment or leisure"),
    "violation_venue_not_near_workplace": ("Plats långt från arbetsplatsen", "Venue far from the workplace"),
    "violation_venue_inappropriate": ("Olämplig lokal (lyx/fritid)", "Inappropriate venue (luxury/leisure)"),
    "violation_hospitality_dominates": ("Gästfrihet dominerar", "Hospitality dominates"),
    "violation_gift": ("Gåva", "Gift"),
    "violation_meal_only_sponsorship": ("Sponsring av enbart måltid", "Sponsorship of meals only"),
    "violation_internal_activity_sponsorship": ("Sponsring av intern/social aktivitet", "Sponsorship of internal or social activity"),
    "violation_companion_invited": ("Medföljande bjuds", "Companion invited"),
    "violation_marketing_in_service_info": ("Marknadsföring i serviceinformation", "Marketing in service information"),
    "violation_stipend_only_travel": ("Stipendium bara för resa/logi/avgift", "Stipend only for travel, lodging or fee"),
    "violation_donation_tied_to_sales": ("Donation kopplad till försäljning", "Donation tied to sales"),
    "violation_donation_not_research": ("Donation inte till forskning", "Donation not for research"),
    "violation_funds_ordinary_operations": ("Finansierar ordinarie verksamhet", "Funds ordinary operations"),
    "violation_agreement_with_individual": ("Avtal med en person, inte enheten", "Agreement with a person, not the unit"),
    "violation_exclusivity": ("Exklusivitet/konkurrensklausul", "Exclusivity or non-compete"),
    "violation_advisory_board_too_broad": ("Rådgivande grupp för bred", "Advisory board too broad"),
    "violation_recipient_chosen_by_company": ("Företaget väljer deltagare/mottagare", "Company chooses attendees or recipient"),
    "violation_donation_to_individual": ("Donation till en person", "Donation to a person"),
    "violation_no_employer_approval": ("Utan arbetsgivarens godkännande", "Without the employer's approval"),
    "violation_psp_direct_to_patient": ("Patientstödsprogram direkt till patient", "Patient support directly to patients"),
    "violation_market_research_influence": ("Marknadsundersökning påverkar/ersätter för mycket", "Market research that steers or overpays"),
    "violation_meeting_not_preagreed": ("Möte inte avtalat i förväg", "Meeting not agreed in advance"),
    "violation_not_sent_to_function_mailbox": ("Inte skickat till funktionsbrevlådan", "Not sent to the function mailbox"),
    # event fields
    "field_title": ("Titel", "Title"),
    "field_organizer": ("Arrangör", "Organizer"),
    "field_sponsors": ("Sponsorer", "Sponsors"),
    "field_arranger": ("Typ av arrangör", "Arranger type"),
    "field_start": ("Start", "Start"),
    "field_end": ("Slut", "End"),
    "field_duration_minutes": ("Längd (minuter)", "Duration (minutes)"),
    "field_location": ("Plats", "Location"),
    "field_online": ("Digitalt", "Online"),
    "field_target_group": ("Målgrupp", "Target group"),
    "field_purpose": ("Syfte", "Purpose"),
    "field_content": ("Innehåll", "Content"),
    "field_costs_covered": ("Kostnader som företaget står för", "Costs the company covers"),
    "field_registration_deadline": ("Sista anmälningsdag", "Registration deadline"),
    "field_contact": ("Kontakt", "Contact"),
    "field_products": ("Produkter", "Products"),
}


def normalize_language(value: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A UI language we have ("sv" or "en"); anything else (nb too) falls back to `default`."""
    if value in LANGUAGES:
        return value  # type: ignore[return-value]
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, language: str) -> str:
    """The word for `key` in `language`, else in Swedish, else the key."""
    words = _WORDS.get(key)
    if words is None:
        return key
    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    return words[index] or words[0]


def translator(language: str) -> Callable[[str], str]:
    """`t(key)` for templates, bound to one language."""
    return lambda key: translate(key, language)


def code_label(kind: str, code: str | None, language: str) -> str:
    """A readable name for a vocabulary code: `kind` is missing, violation, verdict or field."""
    if code is None:
        return translate(f"{kind}_none", language) if kind == "verdict" else ""
    word = translate(f"{kind}_{code}", language)
    return code if word == f"{kind}_{code}" else word


def chapter_label(chapter: str | None, language: str) -> str:
    """"3.2 Sammankomst arrangerad av företag", in the UI language."""
    if chapter is None:
        return "?"
    titles = CHAPTER_TITLES.get(language, CHAPTER_TITLES["sv"])
    if chapter == NOT_INVITATION:
        return titles[chapter]
    return f"{chapter} {titles.get(chapter, '')}".strip()
