"""Every word the digest and the replies say, in Swedish, Norwegian (bokmål) and English.

The templates hold the layout; this module holds the words, so a translator edits one file and
the three languages cannot drift apart unnoticed (`tests/test_outbound_texts.py` checks that
every key exists in every language). Dates are formatted here too, without the C library's
locale, so a server without sv_SE/nb_NO locales writes the same digest as a laptop.
"""

from __future__ import annotations

from datetime import date, datetime

from triage.vocabulary import COST_KINDS, MISSING_CODES, VIOLATION_CODES

LANGUAGES: tuple[str, ...] = ("sv", "nb", "en")


def language(value: str | None, default: str = "sv") -> str:
    """A language we write in: sv, nb or en (Norwegian variants become nb; anything else: default)."""
    if not value:
        return default if default in LANGUAGES else "sv"
    value = value.strip().lower().replace("_", "-").split("-")[0]
    if value in ("no", "nn", "nb"):
        return "nb"
    if value in LANGUAGES:
        return value
    return default if default in LANGUAGES else "sv"


# --- the digest -----------------------------------------------------------------------------------

DIGEST: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Sammanfattning av funktionsbrevlådan",
        "subject": "Triage {mailbox} {period}: {total} nya, {actions} att åtgärda",
        "subject_empty": "Triage {mailbox} {period}: inga nya meddelanden",
        "period": "Period",
        "since_start": "från början",
        "generated": "Skapad",
        "counts": "Nya meddelanden",
        "total": "Totalt",
        "none": "Inga nya meddelanden sedan förra sammanfattningen.",
        "deadlines": "Sista anmälningsdag inom 7 dagar",
        "from": "Från",
        "company": "Företag",
        "chapter": "Kapitel",
        "when": "Tid",
        "where": "Plats",
        "online": "digitalt",
        "target_group": "Målgrupp",
        "covers": "Företaget står för",
        "deadline": "Sista anmälningsdag",
        "findings": "Fynd",
        "action": "Rekommendation",
        "reply": "Svar",
        "review": "Granska",
        "error": "Fel",
        "received": "Mottaget",
        "provisional": "preliminär bedömning",
        "unknown": "–",
        "violation": "brott mot reglerna",
        "missing": "saknas",
        "days_left_0": "i dag",
        "days_left_1": "i morgon",
        "days_left_n": "om {n} dagar",
        "deadline_passed": "har passerat",
        "footer": "Skapad av triage. Bedömningen är ett förslag; beslutet fattas av chefen.",
        "collapsed": "Inte inbjudningar",
    },
    "nb": {
        "title": "Sammendrag av postmottaket",
        "subject": "Triage {mailbox} {period}: {total} nye, {actions} til oppfølging",
        "subject_empty": "Triage {mailbox} {period}: ingen nye meldinger",
        "period": "Periode",
        "since_start": "fra starten",
        "generated": "Laget",
        "counts": "Nye meldinger",
        "total": "Totalt",
        "none": "Ingen nye meldinger siden forrige sammendrag.",
        "deadlines": "Påmeldingsfrist innen 7 dager",
        "from": "Fra",
        "company": "Firma",
        "chapter": "Kapittel",
        "when": "Tid",
        "where": "Sted",
        "online": "digitalt",
        "target_group": "Målgruppe",
        "covers": "Firmaet dekker",
        "deadline": "Påmeldingsfrist",
        "findings": "Funn",
        "action": "Anbefaling",
        "reply": "Svar",
        "review": "Vurder",
        "error": "Feil",
        "received": "Mottatt",
        "provisional": "foreløpig vurdering",
        "unknown": "–",
        "violation": "brudd på regelverket",
        "missing": "mangler",
        "days_left_0": "i dag",
        "days_left_1": "i morgen",
        "days_left_n": "om {n} dager",
        "deadline_passed": "er passert",
        "footer": "Laget av triage. Vurderingen er et forslag; lederen tar beslutningen.",
        "collapsed": "Ikke invitasjoner",
    },
    "en": {
        "title": "Function mailbox digest",
        "subject": "Triage {mailbox} {period}: {total} new, {actions} to act on",
        "subject_empty": "Triage {mailbox} {period}: no new messages",
        "period": "Period",
        "since_start": "from the start",
        "generated": "Made",
        "counts": "New messages",
        "total": "Total",
        "none": "No new messages since the previous digest.",
        "deadlines": "Registration deadlines within 7 days",
        "from": "From",
        "company": "Company",
        "chapter": "Chapter",
        "when": "When",
        "where": "Where",
        "online": "online",
        "target_group": "Target group",
        "covers": "Company covers",
        "deadline": "Registration deadline",
        "findings": "Findings",
        "action": "Recommended action",
        "reply": "Reply",
        "review": "Review",
        "error": "Error",
        "received": "Received",
        "provisional": "provisional verdict",
        "unknown": "–",
        "violation": "violation",
        "missing": "missing",
        "days_left_0": "today",
        "days_left_1": "tomorrow",
        "days_left_n": "in {n} days",
        "deadline_passed": "has passed",
        "footer": "Made by triage. The verdict is a suggestion; the manager decides.",
        "collapsed": "Not invitations",
    },
}

#: Digest groups, in the order the digest shows them (not-invitations last, one line each).
GROUPS: tuple[str, ...] = ("non_compliant", "needs_info", "needs_review", "compliant", "failed", "not_applicable")

GROUP_NAMES: dict[str, dict[str, str]] = {
    "sv": {
        "non_compliant": "Följer inte reglerna", "needs_info": "Uppgifter saknas", "needs_review": "Behöver granskas",
        "compliant": "Följer reglerna", "failed": "Kunde inte läsas", "not_applicable": "Inte inbjudningar",
    },
    "nb": {
        "non_compliant": "Bryter regelverket", "needs_info": "Mangler opplysninger", "needs_review": "Må vurderes",
        "compliant": "Følger regelverket", "failed": "Kunne ikke leses", "not_applicable": "Ikke invitasjoner",
    },
    "en": {
        "non_compliant": "Non-compliant", "needs_info": "Information missing", "needs_review": "Needs review",
        "compliant": "Compliant", "failed": "Could not be read", "not_applicable": "Not invitations",
    },
}

#: The recommended action per group (issue 8: decline / ask for information / may attend).
ACTIONS: dict[str, dict[str, str]] = {
    "sv": {
        "non_compliant": "Tacka nej", "needs_info": "Begär kompletterande uppgifter", "needs_review": "Granska",
        "compliant": "Får delta – beslut av chefen", "failed": "Läs meddelandet själv", "not_applicable": "Ingen åtgärd",
    },
    "nb": {
        "non_compliant": "Takk nei", "needs_info": "Be om opplysninger", "needs_review": "Vurder",
        "compliant": "Kan delta – lederen avgjør", "failed": "Les meldingen selv", "not_applicable": "Ingen handling",
    },
    "en": {
        "non_compliant": "Decline", "needs_info": "Ask for information", "needs_review": "Review",
        "compliant": "May attend – the manager decides", "failed": "Read the message yourself",
        "not_applicable": "No action",
    },
}

REPLY_STATUS: dict[str, dict[str, str]] = {
    "sv": {
        "none": "Inget svar har skapats",
        "pending": "Svar förberett, väntar på att skickas",
        "pending_started": "Svaret började skickas {at}; utfallet är okänt",
        "drafted": "Svarsutkast väntar på granskning",
        "drafted_folder": "Svarsutkast sparat i {folder}",
        "sent": "Svar skickat {at}",
        "suppressed": "Inget svar skickas ({reason})",
        "failed": "Svaret kunde inte skickas ({error})",
    },
    "nb": {
        "none": "Ikke noe svar er laget",
        "pending": "Svar forberedt, venter på å bli sendt",
        "pending_started": "Sendingen av svaret startet {at}; utfallet er ukjent",
        "drafted": "Svarutkast venter på vurdering",
        "drafted_folder": "Svarutkast lagret i {folder}",
        "sent": "Svar sendt {at}",
        "suppressed": "Ikke noe svar sendes ({reason})",
        "failed": "Svaret kunne ikke sendes ({error})",
    },
    "en": {
        "none": "No reply was made",
        "pending": "Reply prepared, waiting to be sent",
        "pending_started": "Sending the reply started {at}; the outcome is unknown",
        "drafted": "Draft reply waiting for review",
        "drafted_folder": "Draft reply saved in {folder}",
        "sent": "Reply sent {at}",
        "suppressed": "No reply will be sent ({reason})",
        "failed": "The reply could not be sent ({error})",
    },
}

COSTS: dict[str, dict[str, str]] = {
    "sv": {"meal": "måltid", "travel": "resa", "lodging": "logi", "fee": "avgift", "venue": "lokal",
           "speaker": "föreläsare", "material": "material", "transfer": "transfer"},
    "nb": {"meal": "måltid", "travel": "reise", "lodging": "overnatting", "fee": "avgift", "venue": "lokale",
           "speaker": "foredragsholder", "material": "materiell", "transfer": "transport"},
    "en": {"meal": "meal", "travel": "travel", "lodging": "lodging", "fee": "fee", "venue": "venue",
           "speaker": "speaker", "material": "material", "transfer": "transfer"},
}

# --- the reply ------------------------------------------------------------------------------------

#: What to ask a company's event coordinator for, per missing element: plain words, no rule codes.
MISSING_REQUESTS: dict[str, dict[str, str]] = {
    "sv": {
        "purpose": "Syftet med mötet: vad deltagarna ska få ut av det och varför det är relevant för deras arbete i vården.",
        "content": "Programmet med tider: en agenda med klockslag för varje punkt – föreläsningar och föreläsare, "
                   "diskussioner, pauser och måltider – gärna som bifogat dokument.",
        "target_group": "Målgruppen: vilka yrkesgrupper och vilka verksamheter inbjudan riktar sig till.",
        "duration": "Tidsåtgången: datum samt start- och sluttid för hela arrangemanget.",
        "location": "Platsen: lokal och adress, eller vilken plattform som används om mötet är digitalt.",
        "costs_covered": "Vad deltagaravgiften och företagets bidrag täcker: varje måltid och aktivitet med form "
                         "(till exempel smörgåslunch, buffé eller middag) och plats, och om företaget betalar något "
                         "annat, som resa, logi eller avgifter.",
        "organizer": "Vem som arrangerar mötet: företaget, vården, en förening eller någon annan.",
        "payer": "Vem som betalar: vilka kostnader företaget står för och vilka som betalas av deltagarnas "
                 "arbetsgivare eller någon annan.",
        "budget": "En fullständig budget med alla intäkter och kostnader, även bidrag från andra sponsorer.",
        "project_plan": "En projektplan med syfte, mål, tidsplan och hur projektet ska utvärderas.",
        "agreement": "Ett utkast till skriftligt avtal, som tecknas med verksamheten (arbetsgivaren) och inte med "
                     "en enskild medarbetare.",
    },
    "nb": {
        "purpose": "Formålet med møtet: hva deltakerne skal få ut av det, og hvorfor det er relevant for arbeidet "
                   "deres i helsetjenesten.",
        "content": "Programmet med tider: en agenda med klokkeslett for hvert punkt – foredrag og foredragsholdere, "
                   "diskusjoner, pauser og måltider – gjerne som vedlagt dokument.",
        "target_group": "Målgruppen: hvilke yrkesgrupper og hvilke avdelinger invitasjonen retter seg mot.",
        "duration": "Tidsbruken: dato og start- og sluttid for hele arrangementet.",
        "location": "Stedet: lokale og adresse, eller hvilken plattform som brukes hvis møtet er digitalt.",
        "costs_covered": "Hva deltakeravgiften og firmaets bidrag dekker: hvert måltid og hver aktivitet med form "
                         "(for eksempel lunsj, buffet eller middag) og sted, og om firmaet betaler noe annet, som "
                         "reise, overnatting eller avgifter.",
        "organizer": "Hvem som arrangerer møtet: firmaet, helsetjenesten, en forening eller noen andre.",
        "payer": "Hvem som betaler: hvilke kostnader firmaet dekker, og hvilke som betales av deltakernes "
                 "arbeidsgiver eller andre.",
        "budget": "Et fullstendig budsjett med alle inntekter og kostnader, også bidrag fra andre sponsorer.",
        "project_plan": "En prosjektplan med formål, mål, tidsplan og hvordan prosjektet skal evalueres.",
        "agreement": "Et utkast til skriftlig avtale, som inngås med virksomheten (arbeidsgiveren) og ikke med en "
                     "enkelt ansatt.",
    },
    "en": {
        "purpose": "The purpose of the meeting: what participants will gain from it and why it is relevant to "
                   "their work in healthcare.",
        "content": "The programme with times: an agenda with the time of each item – talks and speakers, "
                   "discussions, breaks and meals – ideally as an attached document.",
        "target_group": "The target group: which professions and which units the invitation is meant for.",
        "duration": "The time required: the date and the start and end time of the whole event.",
        "location": "The venue: the room and address, or the platform used if the meeting is online.",
        "costs_covered": "What the participant fee and the company's contribution cover: every meal and activity "
                         "with its format (for example a sandwich lunch, buffet or dinner) and venue, and whether "
                         "the company pays for anything else, such as travel, accommodation or fees.",
        "organizer": "Who arranges the meeting: the company, healthcare, a professional society or someone else.",
        "payer": "Who pays: which costs the company covers and which are paid by the participants' employer or "
                 "anyone else.",
        "budget": "A complete budget with all income and costs, including contributions from other sponsors.",
        "project_plan": "A project plan with the aim, goals, timetable and how the project will be evaluated.",
        "agreement": "A draft written agreement, to be made with the unit (the employer), not with an individual "
                     "employee.",
    },
}

#: What a violation is, in words a supplier understands (the reply lists them when configured).
VIOLATIONS: dict[str, dict[str, str]] = {
    "sv": {
        "travel_paid_by_industry": "Företaget erbjuder sig att betala deltagarnas resor.",
        "lodging_paid_by_industry": "Företaget erbjuder sig att betala hotell eller annan logi.",
        "participant_compensation": "Deltagarna erbjuds arvode eller annan ersättning för att delta.",
        "meal_not_modest": "Måltiderna går utöver en måttlig nivå (till exempel flerrättersmiddag eller vinprovning).",
        "entertainment": "Programmet innehåller nöjes- eller fritidsaktiviteter (till exempel spa, golf, skidåkning "
                         "eller konsert).",
        "venue_not_near_workplace": "Mötet hålls långt från deltagarnas arbetsplats utan att det finns skäl till det.",
        "venue_inappropriate": "Platsen är en lyx-, fritids- eller semesteranläggning.",
        "hospitality_dominates": "Måltider och sociala inslag tar större plats än det fackliga programmet.",
        "gift": "Företaget erbjuder gåvor, priser eller pengar till medarbetare.",
        "meal_only_sponsorship": "Sponsringen gäller enbart måltider.",
        "internal_activity_sponsorship": "Sponsringen gäller interna eller sociala aktiviteter (till exempel "
                                         "personalfest eller kick-off).",
        "companion_invited": "Respektive eller annan gäst bjuds in eller betalas för.",
        "marketing_in_service_info": "Serviceinformationen används för marknadsföring.",
        "stipend_only_travel": "Stipendiet täcker bara resa, logi eller kursavgift.",
        "donation_tied_to_sales": "Donationen är kopplad till användning, inköp, rekommendation eller förskrivning "
                                  "av företagets produkter.",
        "donation_not_research": "Donationen går till ordinarie verksamhet eller sociala aktiviteter, inte till "
                                 "forskning och utveckling.",
        "funds_ordinary_operations": "Projektet eller sponsringen finansierar verksamhetens ordinarie drift.",
        "agreement_with_individual": "Uppdraget eller projektet avtalas med en enskild person i stället för med "
                                     "verksamheten.",
        "exclusivity": "Avtalet innehåller exklusivitet eller konkurrensförbud.",
        "advisory_board_too_broad": "Den rådgivande gruppen erbjuds en bred krets i stället för några få utvalda "
                                    "experter.",
        "recipient_chosen_by_company": "Företaget väljer själv vem som ska delta eller få ersättningen, i stället "
                                       "för arbetsgivaren.",
        "donation_to_individual": "Donationen går till en person i stället för till organisationen.",
        "no_employer_approval": "Uppdraget, arvodet eller stipendiet går förbi arbetsgivarens godkännande.",
        "psp_direct_to_patient": "Patientstödsprogrammet erbjuds av företaget direkt till patienter.",
        "market_research_influence": "Undersökningen styr den som svarar, eller ersättningen är mer än symbolisk.",
        "meeting_not_preagreed": "Besöket eller mötet är inte överenskommet i förväg med verksamheten.",
        "not_sent_to_function_mailbox": "Inbjudan har skickats till enskilda medarbetare utan kopia till "
                                        "funktionsbrevlådan och verksamhetschefen.",
    },
    "nb": {
        "travel_paid_by_industry": "Firmaet tilbyr å betale deltakernes reise.",
        "lodging_paid_by_industry": "Firmaet tilbyr å betale hotell eller annen overnatting.",
        "participant_compensation": "Deltakerne tilbys honorar eller annen godtgjørelse for å delta.",
        "meal_not_modest": "Måltidene går ut over et moderat nivå (for eksempel flerretters middag eller vinsmaking).",
        "entertainment": "Programmet inneholder underholdning eller fritidsaktiviteter (for eksempel spa, golf, "
                         "skikjøring eller konsert).",
        "venue_not_near_workplace": "Møtet holdes langt fra deltakernes arbeidssted uten at det er grunn til det.",
        "venue_inappropriate": "Stedet er et luksus-, fritids- eller feriested.",
        "hospitality_dominates": "Måltider og sosiale innslag tar større plass enn det faglige programmet.",
        "gift": "Firmaet tilbyr gaver, premier eller penger til ansatte.",
        "meal_only_sponsorship": "Sponsingen gjelder bare måltider.",
        "internal_activity_sponsorship": "Sponsingen gjelder interne eller sosiale aktiviteter (for eksempel "
                                         "personalfest eller kick-off).",
        "companion_invited": "Partner eller andre gjester inviteres eller betales for.",
        "marketing_in_service_info": "Serviceinformasjonen brukes til markedsføring.",
        "stipend_only_travel": "Stipendet dekker bare reise, overnatting eller kursavgift.",
        "donation_tied_to_sales": "Donasjonen er knyttet til bruk, innkjøp, anbefaling eller forskrivning av "
                                  "firmaets produkter.",
        "donation_not_research": "Donasjonen går til ordinær drift eller sosiale aktiviteter, ikke til forskning "
                                 "og utvikling.",
        "funds_ordinary_operations": "Prosjektet eller sponsingen finansierer virksomhetens ordinære drift.",
        "agreement_with_individual": "Oppdraget eller prosjektet avtales med en enkeltperson i stedet for med "
                                     "virksomheten.",
        "exclusivity": "Avtalen inneholder eksklusivitet eller konkurranseforbud.",
        "advisory_board_too_broad": "Rådgivningsgruppen tilbys en bred krets i stedet for noen få utvalgte eksperter.",
        "recipient_chosen_by_company": "Firmaet velger selv hvem som skal delta eller få godtgjørelsen, i stedet "
                                       "for arbeidsgiveren.",
        "donation_to_individual": "Donasjonen går til en person i stedet for til organisasjonen.",
        "no_employer_approval": "Oppdraget, honoraret eller stipendet går utenom arbeidsgiverens godkjenning.",
        "psp_direct_to_patient": "Pasientstøtteprogrammet tilbys av firmaet direkte til pasienter.",
        "market_research_influence": "Undersøkelsen styrer den som svarer, eller godtgjørelsen er mer enn symbolsk.",
        "meeting_not_preagreed": "Besøket eller møtet er ikke avtalt på forhånd med virksomheten.",
        "not_sent_to_function_mailbox": "Invitasjonen er sendt til enkeltansatte uten kopi til postmottaket og "
                                        "lederen.",
    },
    "en": {
        "travel_paid_by_industry": "The company offers to pay the participants' travel.",
        "lodging_paid_by_industry": "The company offers to pay for a hotel or other accommodation.",
        "participant_compensation": "Participants are offered a fee or other compensation for attending.",
        "meal_not_modest": "The meals go beyond a moderate level (for example a multi-course dinner or wine tasting).",
        "entertainment": "The programme includes entertainment or leisure activities (for example spa, golf, "
                         "skiing or a concert).",
        "venue_not_near_workplace": "The meeting is held far from the participants' workplace without a reason.",
        "venue_inappropriate": "The venue is a luxury, leisure or resort venue.",
        "hospitality_dominates": "Meals and social activities take up more room than the professional programme.",
        "gift": "The company offers gifts, prizes or money to staff.",
        "meal_only_sponsorship": "The sponsorship covers meals only.",
        "internal_activity_sponsorship": "The sponsorship is for internal or social activities (for example a staff "
                                         "party or kick-off).",
        "companion_invited": "A partner, spouse or other guest is invited or paid for.",
        "marketing_in_service_info": "The service information is used for marketing.",
        "stipend_only_travel": "The scholarship only covers travel, accommodation or a course fee.",
        "donation_tied_to_sales": "The donation is linked to the use, purchase, recommendation or prescription of "
                                  "the company's products.",
        "donation_not_research": "The donation goes to ordinary operations or social activities, not to research "
                                 "and development.",
        "funds_ordinary_operations": "The project or sponsorship funds the unit's ordinary operations.",
        "agreement_with_individual": "The assignment or project is agreed with an individual instead of the unit.",
        "exclusivity": "The agreement contains an exclusivity or non-compete clause.",
        "advisory_board_too_broad": "The advisory board is offered to a broad group instead of a few chosen experts.",
        "recipient_chosen_by_company": "The company itself chooses who attends or receives the payment, instead "
                                       "of the employer.",
        "donation_to_individual": "The donation goes to a person instead of the organisation.",
        "no_employer_approval": "The assignment, fee or scholarship bypasses the employer's approval.",
        "psp_direct_to_patient": "The company offers the patient support programme directly to patients.",
        "market_research_influence": "The survey steers the respondent, or the payment is more than a token.",
        "meeting_not_preagreed": "The visit or meeting has not been agreed with the unit in advance.",
        "not_sent_to_function_mailbox": "The invitation was sent to individual staff without a copy to the function "
                                        "mailbox and the head of unit.",
    },
}

#: The rulebooks by name, for a citation in plain words: (name, word for "section").
RULEBOOKS: dict[str, dict[str, tuple[str, str]]] = {
    "sv": {
        "se-2026": ("Samverkansreglerna för vård och industri 2026", "avsnitt"),
        "no-2023": ("Samarbetsavtalen mellan de norska regionala hälsoföretagen och LMI/Melanor 2023", "punkt"),
    },
    "nb": {
        "se-2026": ("De svenske samverkansreglene for helsetjeneste og industri 2026", "avsnitt"),
        "no-2023": ("Samarbeidsavtalene mellom de regionale helseforetakene og LMI/Melanor 2023", "punkt"),
    },
    "en": {
        "se-2026": ("the 2026 Swedish rules for collaboration between healthcare and industry", "section"),
        "no-2023": ("the 2023 agreements between the Norwegian regional health trusts and LMI/Melanor", "clause"),
    },
}

#: "and" for joining the last of several sections.
AND: dict[str, str] = {"sv": "och", "nb": "og", "en": "and"}

REPLY: dict[str, dict[str, str]] = {
    "sv": {
        "subject_prefix": "Sv:",
        "greeting_name": "Hej {name},",
        "greeting": "Hej,",
        "thanks": "Tack för ert meddelande ”{subject}”, som kom till {mailbox} den {date}.",
        "our_mailbox": "vår funktionsbrevlåda",
        "invitation": "inbjudan",
        "proposal": "förslaget",
        "need_intro": "För att verksamheten ska kunna ta ställning till {thing} behöver vi följande uppgifter, som "
                      "saknas i det vi har fått.",
        "need_rules": "Enligt {rules}, ska de framgå:",
        "you_wrote": "Ni skrev",
        "rule": "Regel",
        "need_outro": "Skicka gärna uppgifterna som svar på detta mejl, och programmet gärna som bifogat dokument.",
        "violations_intro": "{thing} innehåller sådant som reglerna inte tillåter, och vi kan därför inte tacka ja "
                            "i nuvarande form:",
        "violations_intro_also": "{thing} innehåller också sådant som reglerna inte tillåter, och vi kan därför inte "
                                 "tacka ja i nuvarande form:",
        "decline": "{thing} kan inte godtas i sin nuvarande form enligt samverkansreglerna mellan vården och "
                   "industrin.",
        "closing": "Med vänlig hälsning",
        "signature_default": "Funktionsbrevlådan",
        "quote_header": "Den {date} kl. {time} skrev {sender}:",
    },
    "nb": {
        "subject_prefix": "SV:",
        "greeting_name": "Hei {name},",
        "greeting": "Hei,",
        "thanks": "Takk for meldingen «{subject}», som kom til {mailbox} {date}.",
        "our_mailbox": "vårt postmottak",
        "invitation": "invitasjonen",
        "proposal": "forslaget",
        "need_intro": "For at virksomheten skal kunne ta stilling til {thing}, trenger vi følgende opplysninger, "
                      "som mangler i det vi har fått.",
        "need_rules": "Etter {rules}, skal de gå fram:",
        "you_wrote": "Dere skrev",
        "rule": "Regel",
        "need_outro": "Send gjerne opplysningene som svar på denne e-posten, og programmet gjerne som vedlagt "
                      "dokument.",
        "violations_intro": "{thing} inneholder forhold som regelverket ikke tillater, og vi kan derfor ikke takke "
                            "ja i nåværende form:",
        "violations_intro_also": "{thing} inneholder også forhold som regelverket ikke tillater, og vi kan derfor "
                                 "ikke takke ja i nåværende form:",
        "decline": "{thing} kan ikke godtas i nåværende form etter samarbeidsavtalene mellom helsetjenesten og "
                   "industrien.",
        "closing": "Med vennlig hilsen",
        "signature_default": "Postmottaket",
        "quote_header": "Den {date} kl. {time} skrev {sender}:",
    },
    "en": {
        "subject_prefix": "Re:",
        "greeting_name": "Dear {name},",
        "greeting": "Hello,",
        "thanks": "Thank you for your message “{subject}”, which reached {mailbox} on {date}.",
        "our_mailbox": "our function mailbox",
        "invitation": "the invitation",
        "proposal": "the proposal",
        "need_intro": "Before the unit can decide on {thing}, we need the following information, which is missing "
                      "from what we received.",
        "need_rules": "Under {rules}, it must be stated:",
        "you_wrote": "You wrote",
        "rule": "Rule",
        "need_outro": "Please send the information as a reply to this e-mail, ideally with the programme as an "
                      "attached document.",
        "violations_intro": "{thing} contains things the rules do not allow, so we cannot accept it in its present "
                            "form:",
        "violations_intro_also": "{thing} also contains things the rules do not allow, so we cannot accept it in its "
                                 "present form:",
        "decline": "{thing} cannot be accepted in its present form under the rules for collaboration between "
                   "healthcare and industry.",
        "closing": "Kind regards",
        "signature_default": "The function mailbox",
        "quote_header": "On {date} at {time}, {sender} wrote:",
    },
}


# --- dates ----------------------------------------------------------------------------------------

MONTHS: dict[str, tuple[str, ...]] = {
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "nb": ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "sv": ("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
    "nb": ("man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def format_date(value: date, lang: str, *, weekday: bool = True) -> str:
    """"tis 3 mars 2026" / "tir. 3. mars 2026" / "Tue 3 March 2026"."""
    lang = language(lang)
    day = f"{value.day}." if lang == "nb" else str(value.day)
    text = f"{day} {MONTHS[lang][value.month - 1]} {value.year}"
    return f"{WEEKDAYS[lang][value.weekday()]} {text}" if weekday else text


def format_time(value: datetime, lang: str) -> str:
    """"12.00" in Swedish and Norwegian, "12:00" in English."""
    sep = ":" if language(lang) == "en" else "."
    return f"{value.hour:02d}{sep}{value.minute:02d}"


def format_datetime(value: datetime, lang: str, *, weekday: bool = False) -> str:
    """A date with its time: "3 mars 2026 12.00"."""
    return f"{format_date(value.date(), lang, weekday=weekday)} {format_time(value, lang)}"


def format_span(start: datetime | None, end: datetime | None, lang: str) -> str | None:
    """An event's time: "tis 3 mars 2026 12.00–13.00", or both ends when it spans days; None if unknown.

    A start at midnight with no end is taken as a date without a time (extraction found a day only).
    """
    if start is None:
        return None
    has_time = (start.hour, start.minute) != (0, 0) or end is not None
    first = format_date(start.date(), lang)
    if not has_time:
        return first
    if end is None:
        return f"{first} {format_time(start, lang)}"
    if end.date() == start.date():
        return f"{first} {format_time(start, lang)}–{format_time(end, lang)}"
    return f"{first} {format_time(start, lang)} – {format_date(end.date(), lang)} {format_time(end, lang)}"


def missing_text_keys_complete() -> list[str]:
    """Every (language, key) that a table lacks; empty when the three languages are complete."""
    problems: list[str] = []
    tables: dict[str, tuple[dict[str, dict], tuple[str, ...] | None]] = {
        "DIGEST": (DIGEST, None), "GROUP_NAMES": (GROUP_NAMES, GROUPS), "ACTIONS": (ACTIONS, GROUPS),
        "REPLY_STATUS": (REPLY_STATUS, None), "COSTS": (COSTS, COST_KINDS),
        "MISSING_REQUESTS": (MISSING_REQUESTS, MISSING_CODES), "VIOLATIONS": (VIOLATIONS, VIOLATION_CODES),
        "RULEBOOKS": (RULEBOOKS, None), "REPLY": (REPLY, None), "MONTHS": (MONTHS, None),
    }
    for name, (table, required) in tables.items():
        keys = set(required) if required is not None else set(table["en"]) if isinstance(table["en"], dict) else None
        for lang in LANGUAGES:
            if lang not in table:
                problems.append(f"{name}: no {lang}")
                continue
            if keys is not None:
                problems.extend(f"{name}[{lang}]: no {key}" for key in sorted(keys - set(table[lang])))
    return problems
