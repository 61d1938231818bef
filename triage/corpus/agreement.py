"""How often reviewers let triage's judgement stand, field by field: the reviewer-agreement report.

Input: pairs of (triage's judgement as the first reviewer saw it, the judgement the last review
left), from `triage.corpus.reviews.reviewed_messages`. A confirmation (a review that changed
nothing) counts as agreement, so the report measures triage on every message a person looked
at, not only on those it got wrong. `triage evaluate` can print it with `agreement_from_database`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

FIELDS: tuple[str, ...] = ("chapter", "verdict", "missing", "violations")


@dataclass
class FieldAgreement:
    """For one field: on how many reviewed messages triage's value stood."""

    field: str
    compared: int = 0
    agreed: int = 0

    @property
    def share(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


@dataclass
class CodeAgreement:
    """For one missing or violation code: kept by the reviewer, removed (triage only), added."""

    kind: str
    code: str
    kept: int = 0
    removed: int = 0
    added: int = 0

    @property
    def precision(self) -> float | None:
        """Of the times triage said it, how often the reviewer kept it."""
        return self.kept / (self.kept + self.removed) if self.kept + self.removed else None

    @property
    def recall(self) -> float | None:
        """Of the times the reviewer wanted it, how often triage had said it."""
        return self.kept / (self.kept + self.added) if self.kept + self.added else None


@dataclass
class AgreementReport:
    """Agreement between triage and reviewers, by field, by code, and the chapter corrections."""

    messages: int = 0
    fields: dict[str, FieldAgreement] = field(default_factory=lambda: {f: FieldAgreement(f) for f in (*FIELDS, "all")})
    codes: dict[tuple[str, str], CodeAgreement] = field(default_factory=dict)
    chapter_changes: Counter = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for `triage evaluate --json`)."""
        return {
            "messages": self.messages,
            "fields": {
                name: {"compared": f.compared, "agreed": f.agreed, "share": f.share} for name, f in self.fields.items()
            },
            "codes": [
                {"kind": c.kind, "code": c.code, "kept": c.kept, "removed": c.removed, "added": c.added,
                 "precision": c.precision, "recall": c.recall}
                for c in sorted(self.codes.values(), key=lambda c: (c.kind, c.code))
            ],
            "chapter_changes": [
                {"from": a, "to": b, "count": n} for (a, b), n in sorted(self.chapter_changes.items(), key=lambda kv: -kv[1])
            ],
        }

    def lines(self) -> list[str]:
        """The report as plain text lines, one field or code per line."""
        out = [f"reviewed messages: {self.messages}"]
        for name, f in self.fields.items():
            share = f"{f.share:.1%}" if f.share is not None else "-"
            out.append(f"  {name:<11} {f.agreed:>5}/{f.compared:<5} {share}")
        for c in sorted(self.codes.values(), key=lambda c: (c.kind, c.code)):
            out.append(f"  {c.kind}:{c.code}  kept {c.kept}  removed {c.removed}  added {c.added}")
        for (a, b), n in self.chapter_changes.most_common():
            out.append(f"  chapter {a} → {b}: {n}")
        return out


def _pair(item: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if isinstance(item, tuple):
        return item
    return item.triage, item.final


def agreement_report(pairs: Iterable[Any]) -> AgreementReport:
    """The report over (triage, final) judgement pairs (or ReviewedMessage objects)."""
    report = AgreementReport()
    for item in pairs:
        before, after = _pair(item)
        report.messages += 1
        all_agree = True
        for name in FIELDS:
            a, b = before.get(name), after.get(name)
            if name in ("missing", "violations"):
                a, b = sorted(a or []), sorted(b or [])
            agree = a == b
            all_agree &= agree
            report.fields[name].compared += 1
            report.fields[name].agreed += int(agree)
        report.fields["all"].compared += 1
        report.fields["all"].agreed += int(all_agree)
        if before.get("chapter") != after.get("chapter"):
            report.chapter_changes[(before.get("chapter"), after.get("chapter"))] += 1
        for kind, key in (("missing", "missing"), ("violation", "violations")):
            said, wanted = set(before.get(key) or []), set(after.get(key) or [])
            for code in said | wanted:
                entry = report.codes.setdefault((kind, code), CodeAgreement(kind, code))
                if code in said and code in wanted:
                    entry.kept += 1
                elif code in said:
                    entry.removed += 1
                else:
                    entry.added += 1
    return report


def agreement_from_database(session: Session, *, mailbox: str | None = None) -> AgreementReport:
    """The report over every reviewed message in the database (of one mailbox, if given)."""
    from triage.corpus.reviews import reviewed_messages

    return agreement_report(reviewed_messages(session, mailbox=mailbox))
