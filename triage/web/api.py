"""The JSON side of the review UI, with its OpenAPI description; /health and /metrics.

/health needs no login (a load balancer or monitoring asks it) and tells only whether the
database answers and when each mailbox was last polled — no mail content, no error texts.
/metrics wants either a logged-in session or the bearer token named by
`web.metrics_token_env` (for a Prometheus scraper, which cannot log in); with no token
configured, only a session will do. Everything under /api/ needs a logged-in session.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from triage.corpus.reviews import current_state
from triage.db import store
from triage.web.app import LoginRequired, read_session, state
from triage.web.auth import WebUser, load_user
from triage.web.metrics import CONTENT_TYPE, render_metrics
from triage.web.queries import InboxFilter, inbox, message_full
from triage.web.views import current_user, inbox_filter

router = APIRouter()


class MailboxHealth(BaseModel):
    """When intake last ran for one mailbox."""

    mailbox: str
    last_poll_at: datetime | None
    last_success_at: datetime | None
    failing: bool


class Health(BaseModel):
    """Whether the UI can serve: the database answers, and how fresh each mailbox is."""

    status: str
    database: str
    mailboxes: list[MailboxHealth]


class Judgement(BaseModel):
    """A judgement in review form: chapter, missing, violations, verdict."""

    chapter: str | None
    missing: list[str]
    violations: list[str]
    verdict: str | None
    violation_evidence: dict[str, list[str]] = {}


class MessageSummary(BaseModel):
    """One line of the inbox."""

    id: int
    mailbox: str
    subject: str | None
    sender: str | None
    received_at: datetime | None
    processed_at: datetime | None
    status: str
    error: str | None
    chapter: str | None
    chapter_confidence: float | None
    verdict: str | None
    needs_review: bool
    reply_status: str | None
    reviews: int
    corrected: Judgement | None


class MessageList(BaseModel):
    """A page of the inbox with the digest-style counts of the filter."""

    total: int
    page: int
    pages: int
    counts: dict[str, int]
    messages: list[MessageSummary]


class MessageDetail(BaseModel):
    """One message: the SPEC §4 result, where it is, its reviews' outcome and its reply's state."""

    id: int
    mailbox: str
    status: str
    error: str | None
    result: dict[str, Any] | None
    current: Judgement
    reviews: int
    reply_status: str | None


@router.get("/health", response_model=Health, tags=["service"])
def health(request: Request) -> Response:
    """Database reachable, and the last poll of each mailbox. No login needed."""
    session = state(request).read_sessions()
    try:
        session.execute(text("SELECT 1"))
        mailboxes = [
            MailboxHealth(mailbox=s.mailbox, last_poll_at=s.last_poll_at, last_success_at=s.last_success_at,
                          failing=bool(s.last_error))
            for s in store.mailbox_states(session)
        ]
        body = Health(status="ok", database="ok", mailboxes=mailboxes)
        return JSONResponse(body.model_dump(mode="json"))
    except Exception:  # noqa: BLE001 - unreachable or unmigrated: say so, without details
        body = Health(status="error", database="unreachable", mailboxes=[])
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    finally:
        session.rollback()
        session.close()


@router.get("/metrics", response_class=PlainTextResponse, tags=["service"])
def metrics(request: Request, session: Session = Depends(read_session)) -> Response:
    """Prometheus text: messages by mailbox/status/verdict, replies, reviews, polls, stage timings."""
    web = state(request)
    authorization = request.headers.get("authorization", "")
    token_ok = bool(web.metrics_token) and authorization.startswith("Bearer ") and hmac.compare_digest(
        authorization[len("Bearer "):].encode(), web.metrics_token.encode()  # type: ignore[union-attr]
    )
    if not token_ok and load_user(session, web.settings, request.session.get("user")) is None:
        raise LoginRequired()
    return PlainTextResponse(render_metrics(session), media_type=CONTENT_TYPE)


@router.get("/api/messages", response_model=MessageList, tags=["messages"])
def list_messages(
    request: Request,
    f: InboxFilter = Depends(inbox_filter),
    user: WebUser = Depends(current_user),
    session: Session = Depends(read_session),
) -> MessageList:
    """The inbox as JSON, with the same filters as the page (mailbox, verdict, chapter,
    needs_review=yes|no, date_from, date_to as YYYY-MM-DD, page)."""
    page = inbox(session, f, state(request).settings.digest.timezone)
    return MessageList(
        total=page.total, page=page.page, pages=page.pages, counts=page.counts,
        messages=[
            MessageSummary(
                id=r.id, mailbox=r.mailbox, subject=r.subject, sender=r.sender, received_at=r.received_at,
                processed_at=r.processed_at, status=r.status, error=r.error, chapter=r.chapter,
                chapter_confidence=r.confidence, verdict=r.verdict, needs_review=r.needs_review,
                reply_status=r.reply_status, reviews=r.reviews,
                corrected=Judgement(**r.corrected) if r.corrected else None,
            )
            for r in page.rows
        ],
    )


@router.get("/api/messages/{message_id}", response_model=MessageDetail, tags=["messages"],
            responses={404: {"description": "No such message"}})
def get_message(
    message_id: int,
    user: WebUser = Depends(current_user),
    session: Session = Depends(read_session),
) -> Response | MessageDetail:
    """One message: triage's SPEC §4 result, the judgement in force after reviews, the reply's state."""
    message = message_full(session, message_id)
    if message is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    result = store.load_result(session, message)
    return MessageDetail(
        id=message.id, mailbox=message.mailbox, status=message.status, error=message.error,
        result=result.to_json() if result is not None else None,
        current=Judgement(**current_state(message)), reviews=len(message.reviews),
        reply_status=message.reply.status if message.reply else None,
    )


@router.get("/api/openapi.json", include_in_schema=False)
def openapi(request: Request, user: WebUser = Depends(current_user)) -> JSONResponse:
    """The OpenAPI description of the JSON endpoints (login needed, like the endpoints)."""
    return JSONResponse(request.app.openapi())
