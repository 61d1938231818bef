"""Every language-specific pattern the body splitter knows, in one place.

Languages: sv (Swedish), nb (Norwegian Bokmål), da (Danish), de (German), en (English). Each
table names the clients that write the string (Outlook desktop/web, Gmail, Apple Mail,
Thunderbird). Existing reply parsers were measured first, on this package's fixtures:
mail-parser-reply 1.36 has Swedish and Danish but no Norwegian patterns, left the Gmail
"Vidarebefordrat meddelande"/"Videresendt melding" separators in the new text, cut a Norwegian
reply after "Hei Ola," (the rest became its "signature") and moved a long invitation after
"Hälsningar" into the signature. Neither it nor talon (not measured: last release 2017; it only
strips quotations and signatures) recovers a forwarded sender, subject or date. So triage keeps
these compact patterns instead.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# Forward separators: a line that always starts a forwarded original.
# --------------------------------------------------------------------------------------------
FORWARD_LINES: dict[str, tuple[str, ...]] = {
    # Gmail "---------- Forwarded message ---------", Thunderbird "-------- Forwarded Message --------",
    # Apple Mail "Begin forwarded message:"
    "en": (r"-{2,}\s*forwarded message\s*-{2,}", r"begin forwarded message\s*:", r"forwarded message\s*:"),
    # Gmail "---------- Vidarebefordrat meddelande ---------", Apple "Början av vidarebefordrat meddelande:"
    "sv": (r"-{2,}\s*vidarebefordrat (?:meddelande|brev|e-?postmeddelande)\s*-{2,}",
           r"början av vidarebefordrat (?:meddelande|brev)\s*:", r"vidarebefordrat meddelande\s*:"),
    # Gmail "---------- Videresendt melding ----------", Apple "Begynnelse på videresendt melding:"
    "nb": (r"-{2,}\s*videresendt (?:melding|e-?post)\s*-{2,}", r"begynnelse på videresendt melding\s*:",
           r"videresendt melding\s*:", r"start på videresendt melding\s*:"),
    # Gmail "---------- Videresendt besked ----------", Apple "Start på videresendt besked:"
    "da": (r"-{2,}\s*videresendt (?:besked|meddelelse)\s*-{2,}", r"start på videresendt (?:besked|meddelelse)\s*:"),
    # Gmail "---------- Weitergeleitete Nachricht ---------", Apple "Anfang der weitergeleiteten Nachricht:"
    "de": (r"-{2,}\s*weitergeleitete (?:nachricht|e-?mail)\s*-{2,}",
           r"anfang der weitergeleiteten (?:nachricht|e-?mail)\s*:"),
}

# --------------------------------------------------------------------------------------------
# Outlook's separator above a header block: written for replies and forwards alike.
# --------------------------------------------------------------------------------------------
ORIGINAL_MESSAGE_LINES: dict[str, tuple[str, ...]] = {
    "en": (r"-{2,}\s*original message\s*-{2,}",),
    "sv": (r"-{2,}\s*ursprungligt meddelande\s*-{2,}",),
    "nb": (r"-{2,}\s*opprinnelig melding\s*-{2,}",),
    "da": (r"-{2,}\s*oprindelig meddelelse\s*-{2,}",),
    "de": (r"-{2,}\s*ursprüngliche nachricht\s*-{2,}",),
}
#: Outlook on the web and new Outlook draw a rule of underscores above the header block.
RULE_LINE = re.compile(r"^\s*_{20,}\s*$")

# --------------------------------------------------------------------------------------------
# Header block labels ("Från: … Skickat: … Till: … Ämne: …"), by the field they name.
# --------------------------------------------------------------------------------------------
HEADER_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "from": {"en": ("from",), "sv": ("från", "avsändare"), "nb": ("fra", "avsender"), "da": ("fra",), "de": ("von",)},
    "date": {"en": ("sent", "date"), "sv": ("skickat", "datum", "skickades"), "nb": ("sendt", "dato"),
             "da": ("sendt", "dato"), "de": ("gesendet", "datum")},
    "to": {"en": ("to",), "sv": ("till",), "nb": ("til",), "da": ("til",), "de": ("an",)},
    "cc": {"en": ("cc",), "sv": ("kopia", "cc"), "nb": ("kopi", "cc"), "da": ("cc",), "de": ("cc", "kopie")},
    "subject": {"en": ("subject",), "sv": ("ämne",), "nb": ("emne",), "da": ("emne",), "de": ("betreff",)},
    "other": {"en": ("reply-to", "bcc", "importance", "attachments", "organization"),
              "sv": ("svara till", "hemlig kopia", "prioritet", "bilagor", "viktighet", "bifogade filer"),
              "nb": ("svar til", "blindkopi", "prioritet", "vedlegg", "viktighet"),
              "da": ("svar til", "bcc", "prioritet", "vedhæftede filer"),
              "de": ("antwort an", "bcc", "wichtigkeit", "priorität", "anlagen")},
}

# --------------------------------------------------------------------------------------------
# Subject prefixes: which action the outermost prefix names.
# --------------------------------------------------------------------------------------------
#: Forward: en Fw/Fwd, sv/nb/da VS (Outlook "vidaresänd/videresend") and VB (sv "vidarebefordra"),
#: de WG ("weitergeleitet"), plus fr TR and es RV seen in multinational companies' mail.
FORWARD_PREFIXES = ("fwd", "fw", "vs", "vb", "wg", "tr", "rv", "enc")
#: Reply: en Re, sv/nb/da SV ("svar"), de AW ("Antwort"), nl Antw.
REPLY_PREFIXES = ("re", "sv", "aw", "antw", "ref", "rép", "r")

# --------------------------------------------------------------------------------------------
# Attribution lines above a quoted reply. The verb and the trailing colon are required.
# --------------------------------------------------------------------------------------------
#: en "On Tue, 3 Mar 2026 at 10:00, Anna <a@b.se> wrote:";
#: sv "Den 3 mars 2026 kl. 10:00 skrev Anna <a@b.se>:" (Gmail, Apple, Thunderbird);
#: nb "tir. 3. mar. 2026 kl. 10:00 skrev Anna <a@b.no>:", nn "skreiv";
#: da "Den 3. mar. 2026 kl. 10.00 skrev Anna:"; de "Am 03.03.2026 um 10:00 schrieb Anna:".
ATTRIBUTION_VERBS = ("wrote", "writes", "skrev", "skriver", "skreiv", "schrieb", "a écrit")
#: Words an attribution line opens with, used to join a line that Gmail wrapped in two.
ATTRIBUTION_OPENERS = ("on", "den", "am", "le", "el", "op", "d.")

# --------------------------------------------------------------------------------------------
# Closings that open a signature block, and device footers that are a signature by themselves.
# --------------------------------------------------------------------------------------------
CLOSINGS: dict[str, tuple[str, ...]] = {
    "sv": ("med vänlig hälsning", "med vänliga hälsningar", "vänliga hälsningar", "vänlig hälsning",
           "bästa hälsningar", "varma hälsningar", "hälsningar", "mvh", "m.v.h."),
    "nb": ("med vennlig hilsen", "med vennlig hilsn", "vennlig hilsen", "vennlige hilsener", "beste hilsen",
           "beste hilsener", "med hilsen", "hilsen", "mvh"),
    "da": ("med venlig hilsen", "venlig hilsen", "de bedste hilsner", "bedste hilsner", "mvh"),
    "de": ("mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "viele grüße",
           "beste grüße", "liebe grüße", "grüße", "gruß", "mfg"),
    "en": ("best regards", "kind regards", "warm regards", "with best regards", "with kind regards", "regards",
           "best wishes", "yours sincerely", "sincerely", "yours faithfully", "all the best", "best"),
}
DEVICE_FOOTERS: dict[str, tuple[str, ...]] = {
    "en": ("sent from my", "get outlook for"),
    "sv": ("skickat från min", "hämta outlook för", "skickades från min"),
    "nb": ("sendt fra min", "skaff outlook for", "hent outlook for"),
    "da": ("sendt fra min", "hent outlook til"),
    "de": ("von meinem", "gesendet von meinem", "outlook für"),
}
#: Words of the legal footers companies append; such long lines may still belong to a signature.
DISCLAIMER_WORDS = re.compile(
    r"konfidentiell|confidential|konfidensiell|fortrolig|vertraulich|disclaimer|personuppgifter|personopplysninger|"
    r"gdpr|privacy|integritetspolicy|dataskydd|personvern|intended recipient|avsedd mottagare|tiltenkt mottaker",
    re.IGNORECASE,
)


def _alternatives(table: dict[str, tuple[str, ...]]) -> str:
    return "|".join(pattern for patterns in table.values() for pattern in patterns)


_DECOR = r"[\s*_>]*"
FORWARD_LINE = re.compile(rf"^{_DECOR}(?:{_alternatives(FORWARD_LINES)}){_DECOR}$", re.IGNORECASE)
ORIGINAL_MESSAGE_LINE = re.compile(rf"^{_DECOR}(?:{_alternatives(ORIGINAL_MESSAGE_LINES)}){_DECOR}$", re.IGNORECASE)

_LABEL_KIND: dict[str, str] = {
    label: kind for kind, by_language in HEADER_LABELS.items() for labels in by_language.values() for label in labels
}
_LABELS = "|".join(sorted((re.escape(label) for label in _LABEL_KIND), key=len, reverse=True))
HEADER_LINE = re.compile(rf"^[\s*]*({_LABELS})[\s*]*:", re.IGNORECASE)
#: Lines longer than this are never a marker, a header-block line, a closing or an attribution:
#: checking only short lines keeps every pattern here linear on hostile input.
MAX_MARKER_LINE = 300
MAX_HEADER_LINE = 4000


def header_line(line: str) -> tuple[str, str] | None:
    """(field kind, value) when the line is a header-block line like "Skickat: den 3 mars…"."""
    if len(line) > MAX_HEADER_LINE:
        return None
    match = HEADER_LINE.match(line)
    if match is None:
        return None
    return _LABEL_KIND[match.group(1).lower()], line[match.end():].strip(" \t*")


_PREFIX = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)?([^\W\d_]{1,5})\s*(?:\[\d+\]|\(\d+\))?\s*:", re.IGNORECASE)


def subject_action(subject: str) -> str | None:
    """"forward", "reply" or None, from the outermost prefix of a subject ("VS: SV: …" is a forward)."""
    match = _PREFIX.match(subject or "")
    if match is None:
        return None
    prefix = match.group(1).lower()
    if prefix in FORWARD_PREFIXES:
        return "forward"
    if prefix in REPLY_PREFIXES:
        return "reply"
    return None


_VERBS = "|".join(re.escape(verb) for verb in ATTRIBUTION_VERBS)
ATTRIBUTION_END = re.compile(rf"(?:^|[\s,])(?:{_VERBS})\b[^:]{{0,120}}:\s*$|(?:{_VERBS})\s*:\s*$", re.IGNORECASE)
ATTRIBUTION_OPENER = re.compile(
    rf"^\s*(?:(?:{'|'.join(re.escape(o) for o in ATTRIBUTION_OPENERS)})\s|\d|[^\W\d_]{{2,9}}\.?,?\s+\d)",
    re.IGNORECASE,
)
_EVIDENCE = re.compile(r"\d|@")


def is_attribution(line: str) -> bool:
    """True for a reply attribution line: it ends in "wrote:"/"skrev …:", names a date or an
    address, and opens like one ("On …", "Den …", a weekday or a date) or holds an address.

    "Som vi skrev i inbjudan den 3 mars:" is not one: it opens with neither.
    """
    stripped = line.strip()
    if len(stripped) > MAX_MARKER_LINE or not ATTRIBUTION_END.search(stripped):
        return False
    if not _EVIDENCE.search(stripped):
        return False
    return "@" in stripped or bool(ATTRIBUTION_OPENER.match(stripped))


def _phrases(table: dict[str, tuple[str, ...]]) -> list[str]:
    return sorted({phrase for phrases in table.values() for phrase in phrases}, key=len, reverse=True)


_CLOSING_PHRASES = "|".join(re.escape(phrase) for phrase in _phrases(CLOSINGS))
#: A closing alone on its line, or followed by a short sign-off on the same line ("Mvh Anna").
#: The words after it must be capitalised (a name), so "Best practice for…" is no closing.
CLOSING_LINE = re.compile(rf"^\s*(?i:{_CLOSING_PHRASES})\b[\s,.!:/-]*(?:[A-ZÅÄÖÆØÜ][\w.'-]*(?:\s+|$)){{0,4}}$")
DEVICE_FOOTER_LINE = re.compile(
    rf"^\s*(?:{'|'.join(re.escape(p) for p in _phrases(DEVICE_FOOTERS))})\b.{{0,60}}$", re.IGNORECASE
)
#: "/Anna" or "//Anna Svensson": a Swedish sign-off.
SLASH_SIGNOFF = re.compile(r"^\s*/{1,2}\s?[^\W\d_][\w .'-]{0,40}$")
#: The standard signature delimiter "-- " (trailing space already trimmed by clean-up).
SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
