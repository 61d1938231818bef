"""/metrics: the state of triage in the Prometheus text format (version 0.0.4), read from the database.

The web app does not see the worker's process, so every figure is what the shared database
says: messages by mailbox, status and verdict; replies by status; reviews; per mailbox the
time and duration of the last poll, whether it failed and which worker polls it; the live
workers; and the judging stages' timings, summarised over the most recent results. Values that come from the database are gauges (a purge can lower them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.db import store
from triage.db.schema import Message, Reply, Result, Review

#: Stage timings are summarised over this many most recent results.
TIMING_WINDOW = 1000
QUANTILES: tuple[float, ...] = (0.5, 0.9, 0.99)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label_value(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: object) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return repr(float(value)) if isinstance(value, float) else str(value)


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[str, dict, float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for suffix, labels, value in samples:
            self.lines.append(f"{name}{suffix}{_labels(**labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_metrics(session: Session) -> str:
    """Every metric, as Prometheus text."""
    out = _Writer()
    rows = session.execute(
        select(Message.mailbox, Message.status, Result.verdict, func.count(Message.id))
        .outerjoin(Result, Result.message_pk == Message.id)
        .group_by(Message.mailbox, Message.status, Result.verdict)
        .order_by(Message.mailbox, Message.status, Result.verdict)
    ).all()
    out.family(
        "triage_messages", "gauge", "Messages stored, by mailbox, status (processed, failed, received) and verdict.",
        [("", {"mailbox": mb, "status": st, "verdict": v or ""}, n) for mb, st, v, n in rows],
    )
    needs_review = session.execute(
        select(Message.mailbox, func.count(Message.id))
        .join(Result, Result.message_pk == Message.id)
        .where(Result.needs_review.is_(True))
        .group_by(Message.mailbox)
    ).all()
    out.family("triage_messages_needs_review", "gauge", "Judged messages that asked for a person, by mailbox.",
               [("", {"mailbox": mb}, n) for mb, n in needs_review])
    replies = session.execute(select(Reply.status, func.count(Reply.id)).group_by(Reply.status).order_by(Reply.status)).all()
    out.family("triage_replies", "gauge", "Replies to suppliers, by status.", [("", {"status": s}, n) for s, n in replies])
    reviews = int(session.scalar(select(func.count(Review.id))) or 0)
    out.family("triage_reviews", "gauge", "Reviews (corrections and confirmations) stored.", [("", {}, reviews)])

    states = store.mailbox_states(session)
    out.family(
        "triage_mailbox_last_poll_timestamp_seconds", "gauge", "When the worker last polled the mailbox (Unix time).",
        [("", {"mailbox": s.mailbox}, s.last_poll_at.timestamp()) for s in states if s.last_poll_at],
    )
    out.family(
        "triage_mailbox_last_success_timestamp_seconds", "gauge", "When a poll of the mailbox last succeeded (Unix time).",
        [("", {"mailbox": s.mailbox}, s.last_success_at.timestamp()) for s in states if s.last_success_at],
    )
    out.family(
        "triage_mailbox_poll_failing", "gauge", "1 when the mailbox's last poll failed, else 0.",
        [("", {"mailbox": s.mailbox}, 1 if s.last_error else 0) for s in states],
    )
    out.family(
        "triage_mailbox_last_poll_duration_seconds", "gauge", "How long the mailbox's last poll took.",
        [("", {"mailbox": s.mailbox}, float(s.last_poll_seconds)) for s in states if s.last_poll_seconds is not None],
    )
    leased = store.live_leases(session, "mailbox:")
    out.family(
        "triage_mailbox_leased", "gauge", "1 for the worker that holds the mailbox's lease (polls it) now.",
        [("", {"mailbox": name.removeprefix("mailbox:"), "worker": owner}, 1) for name, owner in leased.items()],
    )
    out.family("triage_workers", "gauge", "Workers alive in the cluster (holding an unexpired worker lease).",
               [("", {}, len(store.live_leases(session, "worker:")))])

    timings: dict[str, list[float]] = {}
    recent = session.scalars(
        select(Result.timings_ms).order_by(Result.created_at.desc(), Result.id.desc()).limit(TIMING_WINDOW)
    )
    for row in recent:
        for stage, ms in (row or {}).items():
            if isinstance(ms, (int, float)):
                timings.setdefault(str(stage), []).append(float(ms) / 1000.0)
    samples: list[tuple[str, dict, float]] = []
    for stage in sorted(timings):
        values = sorted(timings[stage])
        for q in QUANTILES:
            samples.append(("", {"stage": stage, "quantile": q}, _quantile(values, q)))
        samples.append(("_sum", {"stage": stage}, sum(values)))
        samples.append(("_count", {"stage": stage}, len(values)))
    out.family(
        "triage_stage_duration_seconds", "summary",
        f"Time each judging stage took, over the {TIMING_WINDOW} most recent results.", samples,
    )
    return out.text()
