"""What the chapter classifier reads from a parsed mail: its texts and a few cheap signals.

A `MailFeatures` is built once per message from the ParsedMessage alone (never from the gold
labels, never from other stages), so training and the running service see exactly the same thing.
The texts keep their origin (subject, new text, forwarded originals, attachments) because the same
words weigh differently in a subject than in a forwarded programme; the cheap signals are short
tokens ("sender=healthcare", "has_price") that a linear model can weigh next to the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.message.envelope import Address, ParsedMessage

#: Each text is read up to this many characters: what decides a chapter stands early, and a
#: 500 kB newsletter must not cost seconds (the longest corpus mail is far below this).
MAX_PART_CHARS = 30_000

#: Free-mail providers: a private person, or a company too small for its own domain.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.se", "hotmail.no", "outlook.com", "outlook.se",
    "live.com", "live.se", "live.no", "msn.com", "yahoo.com", "yahoo.se", "yahoo.no", "icloud.com", "me.com",
    "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.net", "mail.com", "telia.com",
    "bredband.net", "spray.se", "comhem.se", "bahnhof.se", "online.no", "getmail.no", "start.no", "frisurf.no",
})

#: Domains of newsletter and marketing platforms, which send on behalf of a company.
MARKETING_DOMAINS = (
    "mailchimp", "mcsv.net", "mcdlv.net", "mandrillapp", "sendgrid", "hubspot", "hs-email", "hsmsdd",
    "mailgun", "sendinblue", "brevo", "apsis", "anpdm", "getanewsletter", "cmail", "createsend",
    "campaign-archive", "marketo", "mktomail", "eloqua", "pardot", "salesforce", "exacttarget",
    "klaviyo", "rule.io", "rulemailer", "ungapped", "mailjet", "constantcontact", "cleverreach",
    "makeweb", "mailerlite", "sparkpost", "amazonses", "veeva", "newsletter", "nyhetsbrev",
)

#: Swedish regions, municipalities' care, Norwegian health trusts and hospitals.
_HEALTHCARE_DOMAIN = re.compile(
    r"(^|\.)("
    r"region[a-z]*\.se|vgregion\.se|skane\.se|sll\.se|norrbotten\.se|kronoberg\.se|rjl\.se|lio\.se|"
    r"ltdalarna\.se|lvn\.se|jll\.se|1177\.se|[a-z-]*kommun\.se|karolinska\.se|sahlgrenska\.se|"
    r"helse-?(?:bergen|stavanger|fonna|forde|førde|more|møre|nord|vest|sorost|sør-øst|midt|nordtrondelag|"
    r"finnmark|helgeland)\.no|[a-z-]*-hf\.no|sykehuset-?[a-z-]*\.no|[a-z-]*sykehuset\.no|ahus\.no|"
    r"stolav\.no|vestreviken\.no|unn\.no|sus\.no|ous-hf\.no|oslo-universitetssykehus\.no|nlsh\.no|"
    r"finnmarkssykehuset\.no|sthf\.no|lds\.no|diakonsyk\.no|[a-z-]*\.kommune\.no|[a-z-]*kommune\.no"
    r")$"
)
#: Societies, congresses, associations and universities: organisers that are neither company nor care.
_ASSOCIATION_DOMAIN = re.compile(
    r"(\.org$|\.edu$|forening|förening|foreningen|sallskap|sällskap|selskap|society|association|"
    r"congress|kongress|kongres|konferanse|konferens|conference|20\d\d|(^|\.)(ki|lu|uu|gu|umu|liu|uio|uib|ntnu|uit)\.(se|no)$)"
)

_DATE = re.compile(
    r"\b\d{1,2}(?:\.|:e|:a)?\s+(?:jan|feb|mar|apr|maj|mai|may|jun|jul|aug|sep|okt|oct|nov|dec)[a-zé]*\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\b",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b(?:kl\.?|klockan|klokken|at)?\s*\d{1,2}[.:]\d{2}\s*(?:[-–]\s*\d{1,2}[.:]\d{2})?", re.IGNORECASE)
_PRICE = re.compile(
    r"\b\d[\d  .,]*\s*(?:kr|kronor|sek|nok|eur|euro|usd|\$|€|:-)(?!\w)|(?:sek|nok|eur|€|\$)\s*\d", re.IGNORECASE
)
_MEAL = re.compile(
    r"\b(lunch\w*|middag\w*|dinner\w*|frukost\w*|breakfast|fika|kaffe|kaffi|coffee|smörgås\w*|smørbrød\w*|"
    r"sandwich\w*|buffé\w*|buffet\w*|måltid\w*|meal\w*|mat|food|lunsj\w*|bevertning|förtäring|servering|"
    r"refreshments|vin|wine|middagen|aperitif)\b",
    re.IGNORECASE,
)
#: "Anna, see how …": a marketing platform's personalised subject line.
_FIRST_NAME_SUBJECT = re.compile(r"^[A-ZÅÄÖÆØ][a-zåäöæøé]+, ")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^(automatic reply|auto(matic)?[- ]?reply|autosvar|automatiskt svar|fr[aå]nvaro|out of (the )?office|"
    r"abwesenheit|fraværsmelding|automatisk svar|ikke til stede)", re.IGNORECASE
)


def _cue(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(patterns) + r")", re.IGNORECASE)


def _lowercase_cue(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same cue for text lowercased beforehand: without IGNORECASE, about twice as fast.
    (Every cue is written in lowercase; the corpus gives the same signals either way.)"""
    return re.compile(pattern.pattern)


#: Concepts that decide a chapter, each spelt in Swedish, Norwegian and English, so that a word seen
#: in one language in training helps in the others. Written from the rules' notions and the kinds of
#: mail SPEC §3 lists, refined on train/dev errors (never on test).
CUES: dict[str, re.Pattern[str]] = {
    "joint": _cue(r"gemensam(?:t|ma)? (?:arrang\w*|utbildning\w*|seminari\w*|kurs\w*|dag\w*)", r"samarrang\w*",
                  r"arrangerar tillsammans", r"arrangerer sammen", r"bjuder tillsammans", r"inviterer sammen",
                  r"together with", r"arrangörer", r"arrangører", r"organi[sz]ers",
                  r"tillsammans med", r"i samarbete med", r"i samverkan med", r"medarrangör\w*", r"felles\w*",
                  r"i samarbeid med", r"sammen med", r"jointly", r"joint", r"co-?host\w*", r"co-?organi[sz]\w*",
                  r"dela[rs]? (?:på )?kostnad\w*", r"deler (?:på )?kostnad\w*", r"share[ds]? (?:the )?costs?",
                  r"split (?:the )?costs?", r"hälften var", r"halvparten"),
    "sponsor": _cue(r"sponsor\w*", r"utställ\w*", r"utstill\w*", r"exhibit\w*", r"monter\w*", r"stand\b",
                    r"standplass\w*", r"booth\w*", r"partnerpaket\w*", r"partnerpakke\w*", r"samarbetspartner\w*"),
    "society": _cue(r"\w*förening\w*", r"\w*forening\w*", r"\w*sällskap\w*", r"\w*selskap\w*", r"society",
                    r"association", r"kongress\w*", r"congress\w*", r"årsmöte\w*", r"årsmøte\w*", r"riksstämma\w*",
                    r"landsmöte\w*", r"konferanse\w*"),
    "assignment": _cue(r"advisory\w*", r"rådgivande", r"rådgivende", r"expertpanel\w*", r"ekspertpanel\w*",
                       r"konsult\w*", r"konsulent\w*", r"consult\w*", r"arvode\w*", r"honorar\w*", r"honorarium",
                       r"uppdrag\w*", r"oppdrag\w*", r"assignment\w*", r"föreläsare\w*", r"foredragsholder\w*",
                       r"speaker\w*"),
    "stipend": _cue(r"stipend\w*", r"scholarship\w*", r"fellowship\w*", r"grant\w*", r"nominer\w*",
                    r"nominat\w*", r"sökande", r"søker\w*", r"applicants?", r"bedömningskommitt\w*", r"committee"),
    "donation": _cue(r"donation\w*", r"donasjon\w*", r"donat\w*", r"gåva\w*", r"skänk\w*", r"gave\b",
                     r"forskningsmedel", r"forskningsmidler", r"research fund\w*", r"bidrag till forskning\w*"),
    "project": _cue(r"utvecklingsprojekt\w*", r"utviklingsprosjekt\w*", r"development project\w*",
                    r"samarbetsprojekt\w*", r"samarbeidsprosjekt\w*", r"projektplan\w*", r"prosjektplan\w*",
                    r"project plan\w*", r"pilotprojekt\w*", r"pilotprosjekt\w*", r"pilot project\w*",
                    r"innovationsprojekt\w*", r"innovasjonsprosjekt\w*"),
    "patient_support": _cue(r"patientstöd\w*", r"pasientstøtte\w*", r"patient support\w*", r"patientprogram\w*",
                            r"pasientprogram\w*", r"support programme\w*", r"support program\w*",
                            r"stödprogram\w*", r"støtteprogram\w*", r"adherence", r"följsamhet\w*", r"etterlevelse"),
    "reference": _cue(r"referens\w*", r"referanse\w*", r"reference (?:site|customer|centre|center|clinic|hospital)\w*",
                      r"showcase\w*", r"studiebesök\w*", r"studiebesøk\w*", r"visningssted\w*",
                      r"demonstrationsklinik\w*", r"besök av kunder", r"potentiella kunder", r"potensielle kunder",
                      r"prospective customers", r"visitors?"),
    "survey": _cue(r"enkät\w*", r"undersökning\w*", r"undersøkelse\w*", r"survey\w*", r"questionnaire\w*",
                   r"spørreskjema\w*", r"frågeformulär\w*", r"intervju\w*", r"interview\w*", r"fokusgrupp\w*",
                   r"focus group\w*", r"marknadsundersökning\w*", r"markedsundersøkelse\w*", r"market research",
                   r"panel\w*", r"presentkort\w*", r"gavekort\w*", r"gift card\w*", r"respondent\w*"),
    "service": _cue(r"service\w*", r"underhåll\w*", r"vedlikehold\w*", r"maintenance", r"firmware",
                    r"programvar\w*", r"software", r"bruksanvisning\w*", r"instructions? for use", r"ifu",
                    r"handhavande", r"håndtering", r"handling", r"kalibrer\w*", r"calibrat\w*", r"uppgradering\w*",
                    r"oppgradering\w*", r"upgrade\w*", r"befintlig\w*", r"eksisterende", r"installed",
                    r"installerad\w*", r"installert\w*", r"rengöring\w*", r"rengjøring\w*", r"cleaning"),
    "risk_minimisation": _cue(r"riskminimer\w*", r"risikominimer\w*", r"risk minimi[sz]ation\w*", r"rmi",
                              r"rmm", r"utbildningsmaterial\w*", r"opplæringsmateriell\w*", r"educational material\w*",
                              r"patientkort\w*", r"pasientkort\w*", r"patient card\w*", r"läkemedelsverket",
                              r"legemiddelverket", r"statens legemiddelverk", r"dmp", r"ema", r"prac",
                              r"förskrivarguide\w*", r"forskriverveiledning\w*", r"prescriber guide\w*",
                              r"checklista\w*", r"sjekkliste\w*", r"checklist\w*", r"godkänd av", r"godkjent av"),
    "product": _cue(r"produkt\w*", r"product\w*", r"lansering\w*", r"launch\w*", r"demonstr\w*", r"demo\b",
                    r"visning\w*", r"nyhet\w*", r"new (?:device|system|generation)", r"ny(?:a|e)? (?:generation|generasjon)",
                    r"prova på", r"prøve ut", r"hands-on", r"fabrik\w*", r"factory", r"sortiment\w*"),
    "drug_or_device": _cue(r"®", r"™", r"mg\b", r"tablett\w*", r"kapsl\w*", r"kapsel\w*", r"injektion\w*",
                           r"injeksjon\w*", r"injection\w*", r"förfylld\w*", r"ferdigfylt\w*", r"pre-?filled",
                           r"dosering\w*", r"indikation\w*", r"indikasjon\w*", r"indication\w*", r"förskriv\w*",
                           r"forskriv\w*", r"prescri\w*", r"upphandla\w*", r"anskaff\w*", r"procure\w*"),
    "gathering": _cue(r"föreläsning\w*", r"forelesning\w*", r"lecture\w*", r"seminari\w*", r"seminar\w*",
                      r"symposi\w*", r"kurs\w*", r"course\w*", r"utbildningsdag\w*", r"fagdag\w*", r"fagmøte\w*",
                      r"workshop\w*", r"webinar\w*", r"kvällsmöte\w*", r"kveldsmøte\w*", r"möte\b", r"møte\b",
                      r"meeting", r"inbjudan", r"invitasjon", r"invitation", r"anmäl\w*", r"påmelding\w*",
                      r"register\w*", r"program\w*", r"agenda"),
    "newsletter": _cue(r"nyhetsbrev\w*", r"newsletter\w*", r"unsubscribe", r"avregistrer\w*", r"avsluta prenumeration\w*",
                       r"avslutt abonnement\w*", r"meld deg av", r"prenumer\w*", r"abonn\w*", r"view in browser",
                       r"visa i webbläsare\w*", r"vis i nettleser\w*", r"inspelning\w*", r"recording\w*",
                       r"opptak\w*", r"on[- ]demand", r"save my seat", r"reserve your (?:seat|spot)",
                       r"reservera din plats", r"sikre deg plass"),
    "commerce": _cue(r"faktura\w*", r"invoice\w*", r"orderbekräftelse\w*", r"ordrebekreftelse\w*",
                     r"order confirmation\w*", r"ordernummer\w*", r"ordrenummer\w*", r"order number", r"leverans\w*",
                     r"levering\w*", r"delivery", r"offert\w*", r"tilbud\w*", r"quotation", r"betalningsvillkor\w*",
                     r"förfallodag\w*", r"forfallsdato", r"due date", r"kundnummer\w*", r"kundenummer\w*",
                     r"avtalspris\w*", r"upphandling\w*", r"anbud\w*", r"tender"),
    "absence": _cue(r"frånvar\w*", r"fravær\w*", r"out of (?:the )?office", r"semester", r"ferie", r"tjänstledig\w*",
                    r"permisjon", r"tillbaka (?:den|på|igen)", r"tilbake (?:den|på|igjen)", r"back (?:on|in the office)",
                    r"automatiskt svar", r"automatisk svar", r"automatic reply", r"autosvar"),
    # A job ad, not a stipend or an assignment: words for a post and its terms, never "ansökan"/"søknad" alone.
    "job": _cue(r"platsannons\w*", r"stillingsannonse\w*", r"ledig(?:a)? (?:stilling|tjänst|tjänster|jobb)\w*",
                r"we are hiring", r"vi rekryterar", r"vi rekrutterer", r"rekryteringskonsult\w*", r"rekrutteringskonsulent\w*",
                r"recruit(?:er|ers|ment consultant)", r"job\b", r"jobbet\b", r"jobbannons\w*", r"tjänst som", r"stilling som",
                r"position as", r"job opening\w*", r"vacanc\w*", r"karriär\w*", r"karriere\w*", r"career\w*",
                r"fast (?:stilling|tjänst|anställning)", r"tillsvidareanställning\w*", r"vikariat\w*", r"tillträde\w*",
                r"tiltredelse\w*", r"salary", r"lønn\b", r"lønnsvilkår", r"lön enligt", r"månadslön\w*",
                r"sök tjänsten", r"søk (?:via|på) (?:stillingen|jobbportalen)", r"headhunt\w*",
                r"søknadsfrist for stillingen", r"turnus",
                r"helgevakter", r"helgtjänstgöring", r"heltidstjänst\w*", r"100 ?% (?:fast )?(?:stilling|tjänst)"),
    "patient_mail": _cue(r"min (?:mamma|pappa|man|fru|son|dotter)", r"mitt barn", r"jeg er pasient", r"jag är patient",
                         r"min behandling", r"mine? time\w*", r"min tid", r"journal\w*", r"remiss\w*", r"henvisning\w*",
                         r"symptom\w*", r"my (?:appointment|treatment|mother|father)", r"klagomål\w*", r"klage\w*"),
    "internal": _cue(r"apt\b", r"arbetsplatsträff\w*", r"personalmöte\w*", r"personalmøte\w*", r"avdelingsmøte\w*",
                     r"ledningsgrupp\w*", r"ledergruppe\w*", r"schema\w*", r"turnus\w*", r"vaktlista\w*",
                     r"kollegor", r"kolleger", r"colleagues", r"internt?\b", r"intern\w*", r"staff meeting"),
    "safety_notice": _cue(r"säkerhetsmeddelande\w*", r"sikkerhetsmelding\w*", r"field safety\w*", r"fsn\b", r"fsca",
                          r"återkall\w*", r"tilbakekall\w*", r"recall\w*", r"korrigerande åtgärd\w*",
                          r"korrigerende tiltak", r"corrective action\w*", r"action required", r"åtgärd krävs"),
    "product_news": _cue(r"ny indikation\w*", r"utvidgad indikation\w*", r"ny indikasjon\w*", r"new indication\w*",
                         r"utvidet indikasjon\w*", r"ny formulering\w*", r"new formulation\w*", r"ny beredningsform\w*",
                         r"nytt? styrk\w*", r"ny styrke", r"new strength\w*", r"godkänn\w*", r"godkjen\w*",
                         r"approv\w*", r"prisändring\w*", r"prisendring\w*", r"price change\w*", r"nu tillgänglig\w*",
                         r"nå tilgjengelig", r"now available", r"subvention\w*", r"refusjon\w*", r"förmån\w*",
                         r"kundnyhet\w*", r"customer news"),
    "confirmation": _cue(r"bekräft\w*", r"bekreft\w*", r"confirm\w*", r"kvitto\w*", r"kvittering\w*", r"receipt",
                         r"tack för din anmälan", r"takk for påmeldingen", r"thank you for registering",
                         r"registration (?:is )?confirmed"),
    # "Nothing for you to do": information only, never a proposal.
    "no_action": _cue(r"ingen åtgärd\w*", r"inga (?:ytterligare )?åtgärder", r"kräver ingen", r"behöver inte göra",
                      r"ingen handling", r"ingen tiltak", r"krever ingen", r"trenger ikke (?:å )?gjøre noe",
                      r"no (?:further )?action (?:is )?(?:required|needed)", r"no action on your part",
                      r"nothing (?:further )?(?:is )?(?:needed|required)", r"du behöver inte svara",
                      r"du trenger ikke svare", r"no need to (?:reply|respond)"),
    "fyi": _cue(r"för kännedom", r"till kännedom", r"för information", r"til orientering", r"til informasjon",
                r"for your information", r"fyi\b", r"till berörda", r"til berørte", r"to whom it may concern"),
    # A registration or booking already made: a confirmation, not an invitation.
    "already_booked": _cue(r"är anmäld\w*", r"är registrerad\w*", r"er påmeldt\w*", r"er registrert\w*", r"påmeldte:",
                           r"anmälda:", r"you are registered", r"you have registered", r"you are (?:now )?booked",
                           r"your registration", r"din anmälan", r"din påmelding", r"din plats är", r"plassen din er",
                           r"your (?:seat|place) (?:is|has been)", r"bokningsbekräftelse\w*", r"bookingbekreftelse\w*",
                           r"booking confirmation\w*", r"anmälningsbekräftelse\w*", r"påmeldingsbekreftelse\w*",
                           r"registration confirmation\w*", r"tack för (?:din|er) anmälan", r"takk for (?:din )?påmelding\w*",
                           r"thank you for (?:your )?registering", r"thanks for registering"),
    # Something already agreed with the unit (a follow-up of an invitation it accepted).
    "as_agreed": _cue(r"som avtalat", r"som avtalt", r"as agreed", r"enligt överenskommelse", r"som planlagt",
                      r"som vi pratade om", r"som vi snakket om", r"as discussed"),
    "reminder": _cue(r"påminnelse\w*", r"påminnelse", r"reminder\w*", r"glöm inte", r"ikke glem", r"don't forget",
                     r"i morgon", r"imorgon", r"tomorrow"),
    # An activity that is over, cancelled or moved: a thank-you, a cancellation, results.
    "finished": _cue(r"tack (?:till alla|för att ni deltog|för ert deltagande|för deltagandet|för att du deltog)",
                     r"takk (?:til alle|for at dere deltok|for at du deltok|for deltakelsen)",
                     r"thank you (?:to everyone|for attending|for taking part|for participating)", r"är avslutad\w*",
                     r"er avsluttet", r"has (?:now )?closed", r"has ended", r"inställ\w*", r"avlys\w*", r"cancel\w*",
                     r"ställs in", r"avbokad\w*", r"avbestilt\w*", r"postponed", r"uppskjut\w*",
                     r"flyttas till", r"flyttes til", r"moved to", r"resultaten", r"resultatene"),
    "ask": _cue(r"kan vi (?:komma|få|träffa|boka|besöka)", r"får vi", r"kan vi få", r"kan vi kom\w*", r"kan vi få komme",
                r"vi föreslår", r"vi foreslår", r"we suggest", r"vore (?:toppen|kul|roligt|bra)", r"hadde vært fint",
                r"återkom\w*", r"hör av (?:dig|er)", r"gi (?:meg |oss )?beskjed", r"meld fra", r"let (?:me|us) know",
                r"get back to", r"svara (?:bara|gärna)", r"svar gjerne", r"please reply", r"anmäl er", r"meld dere på",
                r"passar det", r"passer det", r"does (?:that|this) suit", r"vi kör", r"vi kjører", r"we(?:'re| are) running",
                r"vill gärna bidra", r"vil gjerne bidra", r"would like to (?:support|contribute|sponsor|offer|invite|visit)",
                r"kort fråga", r"kort spørsmål", r"quick question", r"intresserad\w*", r"interessert\w*", r"interested"),
    "invite": _cue(r"bjuder in", r"inbjud\w*", r"inviter\w*", r"invit\w*", r"välkommen", r"velkommen", r"welcome",
                   r"vill gärna", r"vil gjerne", r"would like to", r"ønsker å", r"önskar", r"har ni möjlighet",
                   r"har dere mulighet", r"would you", r"kan vi", r"förslag", r"forslag", r"propos\w*",
                   r"erbjud\w*", r"tilby\w*", r"offer\w*", r"anmäl\w*", r"påmeld\w*", r"meld (?:deg|dere) på",
                   r"sign up", r"osa\b", r"o\.s\.a", r"rsvp"),
    "visit": _cue(r"besök\w*", r"besøk\w*", r"visit\w*", r"komma förbi", r"komme innom", r"kommer innom",
                  r"titta in", r"drop by", r"drop-in", r"stop by", r"swing by", r"på plats hos er", r"hos dere",
                  r"at your (?:unit|clinic|ward|department)"),
    "company_pays": _cue(r"bjuder på", r"står för", r"betalar", r"bekostar", r"dekker", r"betaler", r"spanderer",
                         r"we cover", r"will cover", r"covers?", r"paid by", r"betalas av", r"betales av",
                         r"kostnadsfri\w*", r"gratis", r"free of charge", r"kostnadsfritt"),
    "fee_to_person": _cue(r"ersättning\w*", r"kompensasjon\w*", r"godtgjørelse\w*", r"compensation",
                          r"arvode\w*", r"honorar\w*", r"fee\b", r"per timme", r"per time", r"per hour"),
}

#: Cues of mails that propose nothing (SPEC §3 convention 4), pooled into one more token,
#: `cue=no_proposal`: each kind (a job ad, an auto-reply, a booking confirmation …) is rare in the
#: corpus, and the pooled token lets what the model learns from all of them carry over to each.
NO_PROPOSAL_CUES: tuple[str, ...] = ("job", "absence", "no_action", "already_booked", "finished",
                                     "safety_notice")

#: CUES for the lowercased text, which is what mail_features scans.
_LOWER_CUES: dict[str, re.Pattern[str]] = {name: _lowercase_cue(pattern) for name, pattern in CUES.items()}

#: Words that name a healthcare organisation or a company, for telling who arranges and who pays.
_CARE_ORG = re.compile(
    r"(?<!\w)(region\w*|landsting\w*|\w*sjukhus\w*|\w*sykehus\w*|\w*sjukhuset|helse\s?\w+|\w*klinik\w*|"
    r"\w*mottagning\w*|vårdcentral\w*|legesenter\w*|\w*kommune?n?|hf\b|avdeling\w*|avdelning\w*|"
    r"universitetssjukhus\w*|universitetssykehus\w*|hospital\w*|health trust|primärvård\w*|ahus|"
    r"st\.? olavs|haukeland|ullevål|rikshospitalet|karolinska|sahlgrenska|akademiska|arbetsgivar\w*|"
    r"arbeidsgiver\w*|employers?\b|verksamhet\w*|enheten|enhetens|the unit|the clinic|the hospital)", re.IGNORECASE)
_COMPANY = re.compile(
    r"(?<!\w)(\w+ (?:ab|as|asa|a/s|aps|oy|ltd|gmbh|inc|plc|nv|sa)\b|\w*pharma\w*|\w*medical\w*|\w*medtech\w*|"
    r"\w*diagnostic\w*|\w*diagnostik\w*|\w*-dx\b|\w*labs?\b|företaget|firmaet|selskapet|the company|vi på)",
    re.IGNORECASE)
#: "X och Y arrangerar …": the host stands before the verb, in the same sentence.
_HOST_VERB = _cue(r"arrangera[rs]?", r"arrangerer", r"arrangeres", r"anordna[rs]?", r"står som (?:värd|arrangör)",
                  r"bjuder (?:\w+ )?in", r"inviterer", r"invite[sd]?", r"hosts?", r"organi[sz]es?", r"holder",
                  r"håller i")
#: "Arrangör: X", "organised by X": the host stands after the phrase, on the same line.
_HOST_NOUN = _cue(r"arrangör(?:er)?", r"arrangør(?:er)?", r"medarrangör(?:er)?", r"medarrangør(?:er)?",
                  r"organi[sz]ers?", r"arranged by", r"organi[sz]ed by", r"hosted by", r"i regi av", r"arrangeras av",
                  r"arrangerad av", r"arrangerat av", r"arrangert av", r"anordnad av", r"anordnat av",
                  r"arrangeres av", r"värd(?:ar)?", r"vertskap")
#: "betalas av X", "Hvem betaler: X", "X står för …": the payer, in the same sentence.
_PAYER = _cue(r"betala[rs]?", r"betales", r"betaler", r"bekosta[rs]?", r"dekke[rs]?", r"dekkes", r"finansiera[rs]?",
              r"finansieres", r"paid by", r"pays?", r"funded by", r"covers?", r"covered by", r"sponsra[rs]?",
              r"sponse[rst]", r"sponsored by", r"står för", r"bjuder på", r"spanderer")
_SENTENCE_END = re.compile(r"\n|[.!?](?=\s)|\t{2,}")


def _sentence_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the line or sentence around text[start:end]."""
    left = 0
    for match in _SENTENCE_END.finditer(text, max(0, start - 300), start):
        left = match.end()
    right = _SENTENCE_END.search(text, end)
    return left, right.start() if right else len(text)


def _kind_of(window: str) -> str:
    care, company = bool(_CARE_ORG.search(window)), bool(_COMPANY.search(window))
    return "both" if care and company else "care" if care else "company" if company else "unknown"


def _who(text: str) -> list[str]:
    """Signals naming who hosts and who pays: care, a company or both, read sentence by sentence."""
    found: set[str] = set()
    for match in _HOST_VERB.finditer(text):
        left, _ = _sentence_of(text, match.start(), match.end())
        found.add("host=" + _kind_of(text[left:match.start()]))
    for match in _HOST_NOUN.finditer(text):
        _, right = _sentence_of(text, match.start(), match.end())
        found.add("host=" + _kind_of(text[match.end():right]))
    for match in _PAYER.finditer(text):
        left, right = _sentence_of(text, match.start(), match.end())
        found.add("payer=" + _kind_of(text[left:right]))
    return sorted(found)


#: Signal tokens that come from reading the text (concept cues, who arranges, who pays); the
#: classifier weighs them in a block of their own, apart from the sender, header and shape signals.
TEXT_SIGNAL_PREFIXES = ("cue=", "subject_cue=", "host=", "payer=")


@dataclass(frozen=True)
class MailFeatures:
    """The classifier's view of one mail: texts by origin and a list of signal tokens."""

    subject: str
    body: str
    forwarded: str
    attachments: str
    signature: str
    signals: tuple[str, ...]

    @property
    def text(self) -> str:
        """Every text, subject first: what the word and character n-grams read."""
        return "\n".join(t for t in (self.subject, self.body, self.forwarded, self.attachments) if t)


def domain_kind(address: Address | None) -> str:
    """company, healthcare, association, free_mail, marketing or none for a sender's domain."""
    if address is None or not address.email:
        return "none"
    domain = address.domain.lower()
    if domain in FREE_MAIL_DOMAINS:
        return "free_mail"
    if any(marker in domain for marker in MARKETING_DOMAINS):
        return "marketing"
    if _HEALTHCARE_DOMAIN.search(domain):
        return "healthcare"
    if _ASSOCIATION_DOMAIN.search(domain):
        return "association"
    return "company"


#: Local parts of the function mailboxes that industry mail is meant to reach (SPEC §1).
_FUNCTION_MAILBOX = re.compile(
    r"^(samverkan|funktionsbrevlada|funktionsbrevlåda|industrikontakt|industri|postmottak|"
    r"post|registrator|kansli|info|kontakt)\b", re.IGNORECASE)


def _recipient_signals(message: ParsedMessage) -> list[str]:
    """Whether the mail (or the original it forwards) went to a function mailbox or to persons only."""
    people = list(message.recipients)
    for fwd in message.forwarded:
        people.extend(fwd.to)
    addresses = [a for a in people if a.email]
    if not addresses:
        return ["to=unknown"]
    if any(_FUNCTION_MAILBOX.match(a.email.partition("@")[0]) for a in addresses):
        return ["to=function_mailbox"]
    return ["to=persons_only"]


def _header_signals(message: ParsedMessage) -> list[str]:
    signals: list[str] = []
    auto = (message.auto_submitted or "").lower()
    if auto and auto != "no":
        signals.append("auto_submitted")
    precedence = (message.precedence or "").lower()
    if precedence in {"bulk", "list", "junk", "auto_reply"}:
        signals.append(f"precedence_{precedence}")
    if message.list_id:
        signals.append("list_id")
    if message.header("List-Unsubscribe"):
        signals.append("list_unsubscribe")
    if message.header("X-Autoreply") or message.header("X-Autorespond") or message.header("X-Auto-Response-Suppress"):
        signals.append("autoreply_header")
    if _AUTO_SUBJECT.search(message.subject.strip()):
        signals.append("autoreply_subject")
    if message.in_reply_to or message.references:
        signals.append("is_reply")
    return signals


_NAME_WORD = re.compile(r"(?<![\w-])([A-ZÅÄÖÆØ][a-zåäöæøé]{3,}(?:[A-Z][a-z]+)?)(?![\w-])")
_ORG_AFTER = r"\s+(?:AB|AS|ASA|A/S|Ltd|GmbH|Inc|Pharma|Medical|Nordic|Norge|Sverige|Diagnostics|Sjukhus|sykehus)\b"


def _named_thing(subject: str, text: str) -> bool:
    """A capitalised word of the subject (not its first) that the text repeats and never as a firm's name:
    most often a product ("Fagseminar: Nevrolin ved fokal epilepsi")."""
    for match in _NAME_WORD.finditer(subject):
        if match.start() == 0:
            continue
        word = match.group(1)
        if len(re.findall(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)) >= 3 and not re.search(
            re.escape(word) + _ORG_AFTER, text
        ):
            return True
    return False


def _count_bucket(name: str, count: int) -> str:
    """`name=0`, `name=1`, `name=few` or `name=many`: counts a linear model can weigh."""
    bucket = "0" if count == 0 else "1" if count == 1 else "few" if count <= 4 else "many"
    return f"{name}={bucket}"


def mail_features(message: ParsedMessage) -> MailFeatures:
    """Build the classifier's input from one parsed message."""
    body = message.new_text[:MAX_PART_CHARS]
    forwarded = "\n\n".join(f.text for f in message.forwarded if f.text)[:MAX_PART_CHARS]
    # An .ics attachment's text already carries its summary, location and description.
    attachments = "\n\n".join(a.text for a in message.attachments if a.text)[:MAX_PART_CHARS]
    readable = "\n".join((message.subject, body, forwarded, attachments))

    signals = [
        f"sender={domain_kind(message.sender)}",
        f"original_sender={domain_kind(message.original_sender)}",
        f"lang={message.language or 'unknown'}",
    ]
    tld = message.original_sender.domain.rpartition(".")[2].lower() if message.original_sender and message.original_sender.email else "none"
    signals.append(f"sender_tld={tld}")
    recipient_kinds = sorted({domain_kind(a) for a in message.recipients})
    signals.extend(f"recipient={kind}" for kind in recipient_kinds)
    signals.append(_count_bucket("recipients", len(message.recipients)))
    signals.append(_count_bucket("forwards", len(message.forwarded)))
    for kind in sorted({a.kind for a in message.attachments}):
        signals.append(f"attachment={kind}")
    if any(a.calendar is not None for a in message.attachments):
        signals.append("has_calendar")
    if _DATE.search(readable):
        signals.append("has_date")
    if _TIME.search(readable):
        signals.append("has_time")
    if _PRICE.search(readable):
        signals.append("has_price")
    if _MEAL.search(readable):
        signals.append("has_meal")
    if _LINK.search(readable):
        signals.append("has_link")
    if message.html is not None:
        signals.append("has_html")
    length = len(message.new_text) + len(forwarded)
    signals.append("length=" + ("short" if length < 400 else "medium" if length < 2000 else "long"))
    signals.extend(_header_signals(message))
    signals.extend(_recipient_signals(message))
    if _FIRST_NAME_SUBJECT.match(message.subject):
        signals.append("subject_addresses_person")
    lowered, subject = readable.lower(), message.subject.lower()
    for name, pattern in _LOWER_CUES.items():
        hits = len(pattern.findall(lowered))
        if hits:
            signals.append(f"cue={name}")
            if hits >= 3:
                signals.append(f"cue={name}:many")
        if pattern.search(subject):
            signals.append(f"subject_cue={name}")
    if any(f"cue={name}" in signals for name in NO_PROPOSAL_CUES):
        signals.append("cue=no_proposal")
    signals.extend(_who(readable))
    if _named_thing(message.subject, readable):
        signals.append("cue=named_thing")
    return MailFeatures(
        subject=message.subject,
        body=body,
        forwarded=forwarded,
        attachments=attachments,
        signature=message.signature,
        signals=tuple(signals),
    )
