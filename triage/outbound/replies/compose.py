"""Compose the reply that asks a supplier for exactly what is missing, in the supplier's language.

What a compliance officer asks an organiser for, and nothing else: one line per element the
rule check found missing, in words a company's event coordinator understands (the programme
with times, what the fee and the company's contribution cover — every meal and activity with
its format and venue —, the target group, who arranges and who pays), never a rule code; the
rule that requires them, by name and section; and, when the mailbox is configured to say so,
the violations with their rule in plain words. Then the mailbox's signature and a brief quote
of the original.

The reply threads: `In-Reply-To` is the original's Message-ID, `References` its References
plus its Message-ID, the subject gets "Sv:"/"SV:"/"Re:" once. It carries
`Auto-Submitted: auto-replied` (RFC 3834) and `X-Auto-Response-Suppress: All`, so that
responders do not answer it, and `X-Triage-Reply`, so that it is known if it comes back.

Language: the supplier's (the language of the mail), sv, nb or en; a mail in another language
is answered in English, a mail whose language is unknown in the mailbox's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from triage.config import MailboxConfig, Settings
from triage.message.envelope import Address, ForwardedMessage, ParsedMessage
from triage.outbound import texts
from triage.outbound.mail import (
    build_message,
    clean_text,
    domain_of,
    format_address,
    new_message_id,
    one_line,
    references_for,
    reply_subject,
)
from triage.outbound.replies.loop import TRIAGE_REPLY_HEADER
from triage.outbound.templating import text_environment
from triage.results import Finding, TriageResult

#: How many lines of the original the reply quotes.
QUOTE_LINES = 12
#: Evidence longer than this is not quoted in a reply (the supplier knows what they wrote).
REPLY_EVIDENCE_CHARS = 160
#: Chapters whose proposal is an invitation to a meeting; the others are "the proposal".
INVITATION_CHAPTERS = frozenset({None, "1.1", "1.2", "2", "3.2", "3.3", "3.4"})
#: Our From when the mailbox has no address: a reply with it is never sent (see dispatch).
NO_ADDRESS_DOMAIN = "triage.invalid"


@dataclass(frozen=True)
class ComposedReply:
    """A reply ready to be stored, drafted or sent."""

    language: str
    recipient: str
    recipient_name: str | None
    sender: str
    subject: str
    body_text: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    missing: tuple[str, ...]
    violations: tuple[str, ...]
    #: The reply answers the supplier of a mail a colleague forwarded to us (never sent automatically).
    via_forward: bool = False

    def to_message(self, date: datetime) -> EmailMessage:
        """The reply as a MIME message (text/plain, UTF-8), threaded and marked auto-replied."""
        return reply_message(
            sender=self.sender, recipient=self.recipient, recipient_name=self.recipient_name, subject=self.subject,
            body_text=self.body_text, message_id=self.message_id, in_reply_to=self.in_reply_to,
            references=self.references, language=self.language, date=date,
        )


def reply_message(
    *,
    sender: str,
    recipient: str,
    recipient_name: str | None,
    subject: str,
    body_text: str,
    message_id: str,
    in_reply_to: str | None,
    references: tuple[str, ...] | list[str],
    language: str | None,
    date: datetime,
) -> EmailMessage:
    """A reply's MIME message from its parts (also used to send a stored, perhaps edited, reply)."""
    return build_message(
        subject=subject,
        sender=sender,
        to=[format_address(recipient, recipient_name)],
        text=body_text,
        date=date,
        message_id=message_id,
        headers={
            "In-Reply-To": in_reply_to or "",
            "References": " ".join(references),
            "Auto-Submitted": "auto-replied",
            "X-Auto-Response-Suppress": "All",
            TRIAGE_REPLY_HEADER: "yes",
            "Content-Language": language or "",
        },
    )


# --- who, and in which language -----------------------------------------------------------------

def reply_address(message: ParsedMessage) -> Address | None:
    """Where a reply goes: the first Reply-To address, else the From address."""
    for address in message.reply_to:
        if address.email and "@" in address.email:
            return address
    if message.sender is not None and message.sender.email and "@" in message.sender.email:
        return message.sender
    return None


def own_addresses(settings: Settings) -> list[str]:
    """Every address that is ours: each mailbox's address (and login, when it is one) and the SMTP sender."""
    found = [settings.smtp.sender] + [m.address for m in settings.mailboxes]
    found += [m.username for m in settings.mailboxes if m.username and "@" in m.username]
    return [a.strip().lower() for a in found if a and "@" in a]


def internal_domains(settings: Settings) -> set[str]:
    """The domains of our own addresses: a mail from one of them comes from a colleague."""
    return {address.rpartition("@")[2] for address in own_addresses(settings)}


def reply_target(message: ParsedMessage, internal: set[str]) -> tuple[Address | None, ForwardedMessage | None]:
    """Whom to answer, and the forwarded original when that is whom.

    A colleague who forwards a supplier's invitation to the function mailbox (the head of unit
    got it directly) does not have the programme: the supplier does. So when the mail comes
    from one of our own domains and carries a forwarded original from outside, the reply goes
    to the original's sender and quotes the original. Our domains are those of our configured
    addresses; with none configured, those the mail was sent to.
    """
    direct = reply_address(message)
    if not internal:
        internal = {a.domain for a in message.to if a.email and "@" in a.email}
    if message.forwarded and direct is not None and direct.domain in internal:
        for forwarded in reversed(message.forwarded):
            sender = forwarded.sender
            if sender is not None and sender.email and "@" in sender.email and sender.domain not in internal:
                return sender, forwarded
    return direct, None


def reply_language(result: TriageResult | None, message: ParsedMessage | None, mailbox: MailboxConfig) -> str:
    """sv, nb or en: the mail's language; English for another language; the mailbox's when unknown."""
    found = (result.language if result is not None else None) or (message.language if message is not None else None)
    if not found:
        return texts.language(mailbox.language)
    return texts.language(found, default="en")


def our_address(settings: Settings, mailbox: MailboxConfig) -> str:
    """The address our replies come from: the mailbox's, else the SMTP sender's, else a placeholder."""
    for candidate in (mailbox.address, settings.smtp.sender, mailbox.username):
        if candidate and "@" in candidate:
            return candidate.strip()
    safe = re.sub(r"[^a-z0-9-]+", "-", mailbox.name.lower()).strip("-") or "mailbox"
    return f"{safe}@{NO_ADDRESS_DOMAIN}"


#: Words that make a display name an organisation or a function, not a person to greet by name.
_NOT_A_PERSON = frozenset({
    "ab", "as", "asa", "aps", "oy", "ltd", "inc", "gmbh", "llc", "plc", "team", "events", "event", "info", "news",
    "newsletter", "nyhetsbrev", "kansli", "support", "utbildning", "kurs", "marketing", "sales", "office",
    "at", "the", "for", "of", "and", "för", "och", "og", "for", "av", "i",
})


def greeting_name(name: str | None) -> str | None:
    """The name to greet: a person's display name ("Last, First" turned round); None for anything else."""
    name = one_line(name).strip("\"' ")
    if not name or "@" in name or any(ch.isdigit() for ch in name):
        return None
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if last and first:
            name = f"{first} {last}"
    words = name.split()
    if not 1 <= len(words) <= 4 or any(word.lower().strip(".,()") in _NOT_A_PERSON for word in words):
        return None
    return name


# --- the rules in plain words -------------------------------------------------------------------

def _rule_parts(rule: str) -> tuple[str | None, str | None]:
    """("se-2026", "3.2") from "se-2026/3.2/invitation-elements"; a section only if it looks like one."""
    parts = rule.split("/")
    rulebook = parts[0] if parts and parts[0] else None
    section = parts[1].lstrip("§").strip() if len(parts) >= 3 else None
    if section and not re.fullmatch(r"\d+(\.\d+)*", section):
        section = None
    return rulebook, section


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {texts.AND[lang]} {items[-1]}"


def rules_phrase(findings: list[Finding], lang: str) -> str | None:
    """"Samverkansreglerna för vård och industri 2026, avsnitt 3.2" for the rules these findings cite."""
    names = texts.RULEBOOKS[lang]
    by_book: dict[str, list[str]] = {}
    for finding in findings:
        rulebook, section = _rule_parts(finding.rule)
        if rulebook in names:
            sections = by_book.setdefault(rulebook, [])
            if section and section not in sections:
                sections.append(section)
    if not by_book:
        citations = list(dict.fromkeys(one_line(f.citation) for f in findings if f.citation))
        return _join(citations, lang) or None
    phrases = []
    for rulebook, sections in by_book.items():
        name, word = names[rulebook]
        phrases.append(f"{name}, {word} {_join(sections, lang)}" if sections else name)
    return _join(phrases, lang)


def citation_in_words(finding: Finding, lang: str) -> str | None:
    """The rule a finding cites, in the reply's language; the stored citation when the id says nothing."""
    return rules_phrase([finding], lang) or (one_line(finding.citation) or None)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# --- the body -----------------------------------------------------------------------------------

def _in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone) if value.tzinfo is not None else value


def _quote(message: ParsedMessage, forwarded: ForwardedMessage | None = None) -> list[str]:
    source = forwarded.text if forwarded is not None else (message.new_text or message.body_text)
    text = clean_text(source or "").strip("\n")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > QUOTE_LINES:
        lines = lines[:QUOTE_LINES] + ["[…]"]
    return lines


def compose_reply(
    message: ParsedMessage,
    result: TriageResult,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    received_at: datetime | None = None,
    now: datetime,
) -> ComposedReply | None:
    """The reply to `message` about `result`'s findings; None when there is no address to answer.

    Missing elements are listed whatever the verdict; violations only when
    `mailbox.reply_cite_violations` (otherwise a non-compliant mail gets one sentence saying it
    cannot be accepted as it stands).
    """
    address, forwarded = reply_target(message, internal_domains(settings))
    if address is None:
        return None
    lang = reply_language(result, message, mailbox)
    words = texts.REPLY[lang]
    zone = ZoneInfo(settings.digest.timezone)
    findings = list(result.check.findings)
    missing_findings = list({f.code: f for f in findings if f.kind == "missing"}.values())
    violation_findings = list({f.code: f for f in findings if f.kind == "violation"}.values())
    thing_key = "invitation" if result.classification.chapter in INVITATION_CHAPTERS else "proposal"
    thing = words[thing_key]

    missing_lines = [texts.MISSING_REQUESTS[lang].get(f.code) or one_line(f.message) for f in missing_findings]
    rules = rules_phrase(missing_findings, lang)
    violations = []
    if mailbox.reply_cite_violations:
        for finding in violation_findings:
            text = texts.VIOLATIONS[lang].get(finding.code) or one_line(finding.message)
            evidence = one_line(finding.evidence.text) if finding.evidence is not None else ""
            violations.append({
                "text": text,
                "evidence": evidence if 0 < len(evidence) <= REPLY_EVIDENCE_CHARS else None,
                "citation": citation_in_words(finding, lang),
            })
    decline = _capitalised(words["decline"].format(thing=thing)) if violation_findings and not violations else None

    subject = forwarded.subject if forwarded is not None and forwarded.subject else message.subject
    arrived = _in_zone(message.date or received_at or now, zone)
    written = _in_zone(forwarded.date, zone) if forwarded is not None and forwarded.date else arrived
    name = greeting_name(address.name)
    signature = clean_text(mailbox.signature).strip("\n") or words["signature_default"]
    context = {
        "greeting": words["greeting_name"].format(name=name) if name else words["greeting"],
        "thanks": words["thanks"].format(subject=one_line(subject, 160) or "–", mailbox=words["our_mailbox"],
                                         date=texts.format_date(arrived.date(), lang, weekday=False)),
        "missing": missing_lines,
        "need_intro": (
            f"{words['need_intro'].format(thing=thing)} {_capitalised(words['need_rules'].format(rules=rules))}"
            if rules else words["need_intro"].format(thing=thing).rstrip(".") + ":"
        ),
        "need_outro": words["need_outro"],
        "violations": violations,
        "violations_intro": _capitalised(
            words["violations_intro_also" if missing_lines else "violations_intro"].format(thing=thing)
        ),
        "decline": decline,
        "you_wrote": words["you_wrote"],
        "rule": words["rule"],
        "closing": words["closing"],
        "signature": signature,
        "quote_header": words["quote_header"].format(
            date=texts.format_date(written.date(), lang, weekday=False), time=texts.format_time(written, lang),
            sender=one_line(str(address if forwarded is not None else message.sender or address)),
        ),
        "quote": _quote(message, forwarded),
    }
    body = text_environment().get_template("reply.txt.j2").render(context)
    sender = our_address(settings, mailbox)
    return ComposedReply(
        language=lang,
        recipient=address.email.strip().lower(),
        recipient_name=one_line(address.name) or None,
        sender=sender,
        subject=reply_subject(subject, words["subject_prefix"]),
        body_text=body,
        message_id=new_message_id(domain_of(sender)),
        in_reply_to=message.message_id,
        references=tuple(references_for(message.message_id, message.references)),
        missing=tuple(f.code for f in missing_findings),
        violations=tuple(f.code for f in violation_findings),
        via_forward=forwarded is not None,
    )
