"""People's corrections of triage's judgement, and their export into the training corpus.

A review stores the judgement before and after a person looked at a message, as a small dict:
`{"chapter", "missing", "violations", "verdict", "violation_evidence"}` — the labels of
`training_data/` that a reviewer can change. The first review's `before` is triage's own
judgement; the last review's `after` is what is in force. A review that changes nothing is a
confirmation: triage was right, and that is worth as much to training and to the agreement
report as a correction.

`export_reviews` writes reviewed messages as label lines of LABELLING.md into a batch file
(default `training_data/labels/batches/reviews.jsonl`) and their raw mail into
`training_data/mails/`, so `triage data split` folds them into train/dev and `triage train`
learns from them. Only the reviewed fields are a person's word: the event details are triage's
own extraction, so each line says `"event_reviewed": false` and keeps only evidence quotes that
are really in the mail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from triage.corpus.labels import DEFAULT_ROOT, parse_label
from triage.corpus.validate import CheckReport, check_labels_only, normalise, readable_text
from triage.db.schema import Message, Result, Review, utcnow
from triage.message.parse import MessageParseError, parse_message
from triage.results import EVENT_FIELDS
from triage.vocabulary import CHAPTERS, LANGUAGES, MISSING_CODES, NOT_INVITATION, VERDICTS, VIOLATION_CODES, verdict_for

REVIEW_FIELDS: tuple[str, ...] = ("chapter", "missing", "violations", "verdict")
#: The batch the export writes by default (a pool batch: `triage data split` sends it to train/dev).
DEFAULT_BATCH = "reviews"
ID_PREFIX = "r-"


class CorrectionError(ValueError):
    """A correction names a code the vocabulary does not have."""


def judgement_of(result: Result | None) -> dict[str, Any]:
    """Triage's judgement of a message in review form (from its stored result and findings)."""
    if result is None:
        return {"chapter": None, "missing": [], "violations": [], "verdict": None, "violation_evidence": {}}
    missing: list[str] = []
    violations: list[str] = []
    evidence: dict[str, list[str]] = {}
    for finding in result.findings:
        target = missing if finding.kind == "missing" else violations
        if finding.code not in target:
            target.append(finding.code)
        if finding.kind == "violation" and finding.evidence_text:
            quotes = evidence.setdefault(finding.code, [])
            if finding.evidence_text not in quotes:
                quotes.append(finding.evidence_text)
    return {
        "chapter": result.chapter,
        "missing": missing,
        "violations": violations,
        "verdict": result.verdict,
        "violation_evidence": evidence,
    }


def current_state(message: Message) -> dict[str, Any]:
    """The judgement in force: the last review's `after`, else triage's own."""
    for review in reversed(message.reviews):
        if review.after is not None:
            return _complete(review.after)
    return judgement_of(message.result)


def _complete(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "chapter": state.get("chapter"),
        "missing": list(state.get("missing") or []),
        "violations": list(state.get("violations") or []),
        "verdict": state.get("verdict"),
        "violation_evidence": {k: list(v) for k, v in (state.get("violation_evidence") or {}).items()},
    }


def apply_correction(
    state: Mapping[str, Any],
    *,
    chapter: str | None,
    missing: Iterable[str],
    violations: Iterable[str],
    verdict: str | None = None,
    quotes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The state after a person's correction; `verdict` None means "by convention 7".

    A not_invitation carries no missing elements or violations (SPEC convention 4). Quotes are
    kept for the violations that stay, and `quotes` adds the evidence of new ones.
    """
    if chapter is not None and chapter not in CHAPTERS:
        raise CorrectionError(f"unknown chapter {chapter!r}")
    missing = list(dict.fromkeys(missing))
    violations = list(dict.fromkeys(violations))
    for code in missing:
        if code not in MISSING_CODES:
            raise CorrectionError(f"unknown missing element {code!r}")
    for code in violations:
        if code not in VIOLATION_CODES:
            raise CorrectionError(f"unknown violation {code!r}")
    if verdict is not None and verdict not in VERDICTS:
        raise CorrectionError(f"unknown verdict {verdict!r}")
    if chapter == NOT_INVITATION:
        missing, violations = [], []
    old_evidence = dict(state.get("violation_evidence") or {})
    evidence: dict[str, list[str]] = {}
    for code in violations:
        kept = list(old_evidence.get(code) or [])
        quote = ((quotes or {}).get(code) or "").strip()
        if quote and quote not in kept:
            kept.append(quote)
        if kept:
            evidence[code] = kept
    return {
        "chapter": chapter,
        "missing": missing,
        "violations": violations,
        "verdict": verdict if verdict is not None else verdict_for(chapter, missing, violations),
        "violation_evidence": evidence,
    }


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """Which of chapter, missing, violations, verdict a review changed (order-insensitive for lists)."""
    before, after = _complete(before or {}), _complete(after or {})
    out = []
    for name in REVIEW_FIELDS:
        a, b = before[name], after[name]
        if isinstance(a, list):
            a, b = sorted(a), sorted(b)
        if a != b:
            out.append(name)
    return out


# --- pairs for the agreement report -----------------------------------------------------------------

@dataclass(frozen=True)
class ReviewedMessage:
    """Triage's judgement as the first reviewer saw it, and the judgement the last review left."""

    message_pk: int
    triage: dict[str, Any]
    final: dict[str, Any]
    reviewers: tuple[str, ...]
    last_review_pk: int
    reviewed_at: datetime


def reviewed_messages(session: Session, *, mailbox: str | None = None) -> list[ReviewedMessage]:
    """Every message with at least one review, as (triage's judgement, final judgement)."""
    query = (
        select(Message)
        .where(Message.reviews.any())
        .options(selectinload(Message.reviews))
        .order_by(Message.id)
    )
    if mailbox is not None:
        query = query.where(Message.mailbox == mailbox)
    out = []
    for message in session.scalars(query):
        reviews = [r for r in message.reviews if r.after is not None]
        if not reviews:
            continue
        out.append(
            ReviewedMessage(
                message_pk=message.id,
                triage=_complete(reviews[0].before or {}),
                final=_complete(reviews[-1].after),
                reviewers=tuple(dict.fromkeys(r.reviewer for r in reviews)),
                last_review_pk=reviews[-1].id,
                reviewed_at=reviews[-1].created_at,
            )
        )
    return out


# --- export into the corpus ------------------------------------------------------------------------

@dataclass
class ExportReport:
    """What `export_reviews` wrote and what it left out, with the reason."""

    written: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    out: Path | None = None


def corpus_id(raw_sha256: str) -> str:
    """The stable corpus id of a reviewed mail: the same mail always gets the same id."""
    return ID_PREFIX + raw_sha256[:12]


def _corpus_hashes(root: Path) -> set[str]:
    mails = root / "mails"
    if not mails.is_dir():
        return set()
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in mails.glob("*.eml") if not p.name.startswith(ID_PREFIX)}


def _label_line(message: Message, state: dict[str, Any], comment: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The LABELLING.md line for a reviewed message, or (None, why not)."""
    result = message.result
    if result is None:
        return None, "the message has no stored result"
    language = result.language
    if language not in LANGUAGES:
        return None, f"language {language!r} is not one of {', '.join(LANGUAGES)}"
    if result.jurisdiction not in ("SE", "NO"):
        return None, "no jurisdiction"
    try:
        parsed = parse_message(message.raw)
    except MessageParseError as exc:
        return None, f"the mail does not parse: {exc}"
    haystack = normalise(readable_text(parsed))

    def present(text: Any) -> bool:
        return isinstance(text, str) and bool(normalise(text)) and normalise(text) in haystack

    event = {name: (result.event or {}).get(name) for name in EVENT_FIELDS}
    for name in ("title", "organizer", "location", "target_group", "purpose", "content", "contact"):
        if not present(event[name]) and event[name] is not None:
            event[name] = None  # only quotes that stand in the mail may become labels
    for name in ("sponsors", "products"):
        event[name] = [v for v in (event[name] or []) if present(v)]
    if event.get("costs_covered") is None:
        event["costs_covered"] = []
    evidence: dict[str, list[str]] = {}
    for row in result.event_fields:
        if row.evidence_text and present(row.evidence_text):
            quotes = evidence.setdefault(row.field, [])
            if row.evidence_text not in quotes:
                quotes.append(row.evidence_text)
    violation_evidence = {
        code: [q for q in quotes if present(q)] for code, quotes in state["violation_evidence"].items()
        if code in state["violations"]
    }
    for code in state["violations"]:
        if not violation_evidence.get(code):
            return None, f"violation {code} has no quote from the mail (add one in the review)"
    line = {
        "id": corpus_id(message.raw_sha256),
        "file": f"mails/{corpus_id(message.raw_sha256)}.eml",
        "language": language,
        "jurisdiction": result.jurisdiction,
        "chapter": state["chapter"],
        "no_section": result.no_section if result.jurisdiction == "NO" else None,
        "missing": state["missing"],
        "violations": state["violations"],
        "violation_evidence": violation_evidence,
        "verdict": state["verdict"],
        "event": event,
        "evidence": evidence,
        "tags": ["review"],
        "notes": (comment or "Corrected or confirmed in the review UI.").strip()[:500],
        "event_reviewed": False,
    }
    report = CheckReport()
    check_labels_only(parse_label(line), report)
    if not report.ok:
        return None, "; ".join(p.split(": ", 1)[-1] for p in report.problems)
    return line, None


def export_reviews(
    session: Session,
    out: Path | None = None,
    *,
    root: Path = DEFAULT_ROOT,
    now: datetime | None = None,
) -> ExportReport:
    """Write every reviewed message as a corpus label line (+ its mail) and note the export.

    Lines already in `out` for other mails are kept; a mail exported before is replaced by its
    latest review. Mails that are in the corpus already (same bytes) and reviews that cannot
    make a valid label (a violation with no quote, an unknown language) are skipped with the
    reason. The caller commits, which records `exported_at` on the exported reviews.
    """
    out = out or root / "labels" / "batches" / f"{DEFAULT_BATCH}.jsonl"
    report = ExportReport(out=out)
    known = _corpus_hashes(root)
    lines: dict[str, dict[str, Any]] = {}
    if out.is_file():
        for text in out.read_text(encoding="utf-8").splitlines():
            if text.strip():
                row = json.loads(text)
                lines[row["id"]] = row
    now = now or utcnow()
    query = (
        select(Message)
        .where(Message.reviews.any())
        .options(selectinload(Message.reviews), selectinload(Message.result).selectinload(Result.event_fields))
        .order_by(Message.id)
    )
    mails_dir = root / "mails"
    for message in session.scalars(query):
        reviews: list[Review] = [r for r in message.reviews if r.after is not None]
        if not reviews:
            continue
        if message.raw_sha256 in known:
            report.skipped.append((message.id, "the mail is in the corpus already"))
            continue
        line, why = _label_line(message, _complete(reviews[-1].after), reviews[-1].comment)
        if line is None:
            report.skipped.append((message.id, why or "not exportable"))
            continue
        mails_dir.mkdir(parents=True, exist_ok=True)
        (mails_dir / f"{line['id']}.eml").write_bytes(message.raw)
        lines[line["id"]] = line
        report.written.append(line["id"])
        for review in reviews:
            review.exported_at = now
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(lines[k], ensure_ascii=False) + "\n" for k in sorted(lines)), encoding="utf-8")
    session.flush()
    return report
