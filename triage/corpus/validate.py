"""`triage data check`: everything that makes a corpus unusable, found before training starts.

Fails on an unknown code, a label inconsistent with the conventions, a quoted span that is not in
the mail's readable text, a duplicate mail, or a chapter below its minimum.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from triage.corpus.conventions import (
    MIN_NOT_INVITATION,
    MIN_PER_CHAPTER,
    MIN_PER_CODE,
    NO_VIOLATIONS,
    allowed_missing,
)
from triage.corpus.labels import LabelledMail
from triage.message.html_text import html_to_text
from triage.message.parse import MessageParseError, parse_message
from triage.vocabulary import (
    ARRANGERS,
    CHAPTERS,
    COST_KINDS,
    JURISDICTIONS,
    LANGUAGES,
    MISSING_CODES,
    NOT_INVITATION,
    VIOLATION_CODES,
    verdict_for,
)

TEXT_FIELDS = ("title", "organizer", "location", "target_group", "purpose", "content", "contact")
LIST_TEXT_FIELDS = ("sponsors", "products")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Fold what differs between a label and parsed text but not to a reader: whitespace, NBSP, soft hyphens."""
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "").replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


@dataclass
class CheckReport:
    """The problems found, and the counts that `training_data/README.md` shows."""

    problems: list[str] = field(default_factory=list)
    counts: dict[str, Counter] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, mail: LabelledMail | None, text: str) -> None:
        self.problems.append(f"{mail.id}: {text}" if mail else text)


def check_labels_only(mail: LabelledMail, report: CheckReport) -> None:
    """Vocabulary and convention checks that need no mail text."""
    if mail.chapter not in CHAPTERS:
        report.add(mail, f"unknown chapter {mail.chapter!r}")
    if mail.language not in LANGUAGES:
        report.add(mail, f"unknown language {mail.language!r}")
    if mail.jurisdiction not in JURISDICTIONS:
        report.add(mail, f"unknown jurisdiction {mail.jurisdiction!r}")
    for code in mail.missing:
        if code not in MISSING_CODES:
            report.add(mail, f"unknown missing code {code!r}")
        elif code not in allowed_missing(mail.jurisdiction, mail.chapter):
            report.add(mail, f"missing code {code!r} is not required for {mail.jurisdiction} chapter {mail.chapter}")
    for code in mail.violations:
        if code not in VIOLATION_CODES:
            report.add(mail, f"unknown violation code {code!r}")
        elif mail.jurisdiction == "NO" and code not in NO_VIOLATIONS:
            report.add(mail, f"violation {code!r} is not one the Norwegian agreements name")
        if not mail.violation_evidence.get(code):
            report.add(mail, f"violation {code!r} has no evidence text")
    if mail.chapter == NOT_INVITATION and (mail.missing or mail.violations):
        report.add(mail, "a not_invitation carries missing or violation codes")
    expected = verdict_for(mail.chapter, mail.missing, mail.violations)
    if mail.verdict != expected:
        report.add(mail, f"verdict {mail.verdict!r} should be {expected!r} by convention 7")
    if mail.jurisdiction == "SE" and mail.no_section:
        report.add(mail, "no_section is set on a Swedish mail")
    event = mail.event
    if event.get("arranger") not in (None, *ARRANGERS):
        report.add(mail, f"unknown arranger {event.get('arranger')!r}")
    for cost in event.get("costs_covered") or []:
        if cost not in COST_KINDS:
            report.add(mail, f"unknown cost kind {cost!r}")


def quoted_strings(mail: LabelledMail) -> list[tuple[str, str]]:
    """(where, text) for every string the label claims stands in the mail."""
    quotes: list[tuple[str, str]] = []
    for name in TEXT_FIELDS:
        value = mail.event.get(name)
        if isinstance(value, str) and value:
            quotes.append((f"event.{name}", value))
    for name in LIST_TEXT_FIELDS:
        for value in mail.event.get(name) or []:
            quotes.append((f"event.{name}", value))
    for name, values in mail.evidence.items():
        for value in values if isinstance(values, list) else [values]:
            quotes.append((f"evidence.{name}", value))
    for code, values in mail.violation_evidence.items():
        for value in values if isinstance(values, list) else [values]:
            quotes.append((f"violation_evidence.{code}", value))
    return quotes


def check_mail_text(mail: LabelledMail, root: Path, report: CheckReport, seen: dict[str, str]) -> None:
    """The mail exists, parses, is not a duplicate, and contains every quoted string."""
    path = mail.path(root)
    if not path.is_file():
        report.add(mail, f"file {mail.file} does not exist")
        return
    raw = path.read_bytes()
    try:
        message = parse_message(raw)
    except MessageParseError as exc:
        report.add(mail, f"does not parse: {exc}")
        return
    fingerprint = normalise(message.subject + "\n" + message.body_text).lower()
    if fingerprint in seen:
        report.add(mail, f"duplicate of {seen[fingerprint]}")
    else:
        seen[fingerprint] = mail.id
    haystack = normalise(readable_text(message))
    for where, text in quoted_strings(mail):
        if not isinstance(text, str) or not normalise(text):
            report.add(mail, f"{where}: empty or not text")
        elif normalise(text) not in haystack:
            report.add(mail, f"{where}: {text[:60]!r} is not in the mail's readable text")


def readable_text(message) -> str:
    """What a person reads in a mail: subject, whole body (quotes and signature too), both the plain
    and the HTML alternative (a mail client shows the HTML one), forwards, attachments."""
    parts = [message.subject, message.body_text]
    if message.html:
        parts.append(html_to_text(message.html)[0])
    parts.extend(fwd.text for fwd in message.forwarded)
    parts.extend(att.text for att in message.attachments if att.text)
    return "\n".join(parts)


def check_counts(mails: list[LabelledMail], report: CheckReport) -> None:
    """Every chapter and code reaches its minimum over the whole corpus."""
    chapters = Counter(m.chapter for m in mails)
    report.counts["chapter"] = chapters
    report.counts["language"] = Counter(m.language for m in mails)
    report.counts["jurisdiction"] = Counter(m.jurisdiction for m in mails)
    report.counts["verdict"] = Counter(m.verdict for m in mails)
    report.counts["missing"] = Counter(code for m in mails for code in m.missing)
    report.counts["violations"] = Counter(code for m in mails for code in m.violations)
    report.counts["split"] = Counter(m.split or "?" for m in mails)
    for chapter in CHAPTERS:
        least = MIN_NOT_INVITATION if chapter == NOT_INVITATION else MIN_PER_CHAPTER
        if chapters[chapter] < least:
            report.add(None, f"chapter {chapter} has {chapters[chapter]} mails, fewer than {least}")
    for kind, codes in (("missing", MISSING_CODES), ("violations", VIOLATION_CODES)):
        for code in codes:
            if report.counts[kind][code] < MIN_PER_CODE:
                report.add(None, f"{kind} code {code} occurs in {report.counts[kind][code]} mails, fewer than {MIN_PER_CODE}")


def check_corpus(mails: list[LabelledMail], root: Path, *, counts: bool = True, progress=None) -> CheckReport:
    """Run every check over the given labelled mails; `progress` is called once per mail."""
    report = CheckReport()
    ids = Counter(m.id for m in mails)
    for mail_id, n in ids.items():
        if n > 1:
            report.add(None, f"id {mail_id} is labelled {n} times")
    seen: dict[str, str] = {}
    for mail in mails:
        check_labels_only(mail, report)
        check_mail_text(mail, root, report, seen)
        if progress:
            progress(mail)
    if counts:
        check_counts(mails, report)
    return report
