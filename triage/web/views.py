"""The HTML pages of the review UI: login, inbox, message (with evidence, corrections and the
reply), the mail's HTML in its sandbox, and the managers' reports.

Every page but /login needs a session; every form carries the session's CSRF token and every
POST checks it before anything else happens. Templates are autoescaped: mail content reaches
them as plain strings, never as markup.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import update
from sqlalchemy.orm import Session

from triage.corpus.agreement import agreement_report
from triage.corpus.reviews import CorrectionError, apply_correction, changed_fields, current_state, judgement_of, reviewed_messages
from triage.db import store
from triage.db.schema import Reply, User
from triage.message.parse import MessageParseError, parse_message
from triage.pipeline.factory import parse_limits
from triage.results import EVENT_FIELDS
from triage.vocabulary import CHAPTERS, MISSING_CODES, VERDICTS, VIOLATION_CODES
from triage.web import i18n
from triage.web.app import Forbidden, LoginRequired, read_session, state, write_session
from triage.web.auth import CSRF_FIELD, WebUser, authenticate, csrf_ok, csrf_token, load_user
from triage.web.highlight import Mark, highlight
from triage.web.queries import FAILED, GROUPS, InboxFilter, inbox, mailboxes, message_full
from triage.web.rulebook import rule_details
from triage.web.sanitize import clean_html
from triage.web.sending import ReplySendError

router = APIRouter(include_in_schema=False)

#: The policy of the mail's HTML view: inline styles and data: images only, nothing remote,
#: nothing that runs, and a CSP sandbox on top of the iframe's own.
MAIL_HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; form-action 'none'; "
    "frame-ancestors 'self'; base-uri 'none'; sandbox"
)
SENDABLE = ("drafted", "failed")


# --- helpers -----------------------------------------------------------------------------------------

def language_of(request: Request) -> str:
    """The UI language: the session's choice, else the configured default (sv)."""
    return i18n.normalize_language(request.session.get("lang"), state(request).settings.web.language)


def current_user(request: Request, session: Session = Depends(read_session)) -> WebUser:
    """The logged-in user, or LoginRequired (a redirect to /login, or 401 for JSON)."""
    user = load_user(session, state(request).settings, request.session.get("user"))
    if user is None:
        request.session.pop("user", None)
        raise LoginRequired()
    return user


def manager(user: WebUser = Depends(current_user)) -> WebUser:
    """The logged-in user if a manager, else Forbidden."""
    if not user.is_manager:
        raise Forbidden()
    return user


def _flash(request: Request, kind: str, key: str, detail: str | None = None) -> None:
    # Reassigned, not appended in place: the session is saved only when a key is set.
    request.session["flash"] = [*request.session.get("flash", []), [kind, key, detail]]


def _local(value: datetime | None, request: Request) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(state(request).settings.digest.timezone)).strftime("%Y-%m-%d %H:%M")


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200,
           user: WebUser | None = None) -> HTMLResponse:
    """Render a page with what every page needs: language, words, CSRF token, user, flashes."""
    lang = language_of(request)
    flashes = request.session.pop("flash", [])
    base = {
        "lang": lang,
        "t": i18n.translator(lang),
        "code_label": lambda kind, code: i18n.code_label(kind, code, lang),
        "chapter_label": lambda chapter: i18n.chapter_label(chapter, lang),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request.session),
        "user": user,
        "flashes": flashes,
        "languages": i18n.LANGUAGES,
        "local": lambda value: _local(value, request),
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    base.update(context)
    return state(request).templates.TemplateResponse(request, template, base, status_code=status_code)


def render_error(request: Request, key: str, status_code: int, user: WebUser | None = None) -> HTMLResponse:
    """A short error page in the UI language."""
    return render(request, "error.html", {"message_key": key}, status_code=status_code, user=user)


def _safe_next(target: str | None) -> str:
    """Only a path on this site may follow a login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- login -------------------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, session: Session = Depends(read_session)) -> Response:
    if load_user(session, state(request).settings, request.session.get("user")) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf: str = Form("", alias=CSRF_FIELD),
    session: Session = Depends(write_session),
) -> Response:
    web = state(request)
    if not csrf_ok(request.session, csrf):
        return render(request, "login.html", {"next": _safe_next(next), "error": "csrf_failed"}, 403)
    keys = [f"ip:{_client(request)}", f"user:{username.strip().lower()}"]
    if web.limiter.blocked(keys):
        response = render(request, "login.html", {"next": _safe_next(next), "error": "login_rate_limited"}, 429)
        response.headers["Retry-After"] = "60"
        return response
    user = authenticate(session, web.settings, username, password)
    if user is None:
        web.limiter.failed(keys)
        return render(request, "login.html", {"next": _safe_next(next), "error": "login_failed"}, 401)
    session.commit()
    lang = request.session.get("lang")
    request.session.clear()  # a new session at login: nothing from before it carries over
    request.session["user"] = user.username
    if lang:
        request.session["lang"] = lang
    csrf_token(request.session)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form("", alias=CSRF_FIELD)) -> Response:
    if not csrf_ok(request.session, csrf):
        return render_error(request, "csrf_failed", 403)
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
def set_language(
    request: Request,
    lang: str = Form(...),
    next: str = Form("/"),
    csrf: str = Form("", alias=CSRF_FIELD),
) -> Response:
    if not csrf_ok(request.session, csrf):
        return render_error(request, "csrf_failed", 403)
    request.session["lang"] = i18n.normalize_language(lang)
    return RedirectResponse(_safe_next(next), status_code=303)


# --- inbox -------------------------------------------------------------------------------------------

def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def inbox_filter(
    mailbox: str | None = None,
    verdict: str | None = None,
    chapter: str | None = None,
    needs_review: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
) -> InboxFilter:
    """The filter from the query string; a value that is not one of the choices means "any"."""
    return InboxFilter(
        mailbox=mailbox or None,
        verdict=verdict if verdict in (*VERDICTS, FAILED) else None,
        chapter=chapter if chapter in CHAPTERS else None,
        needs_review={"yes": True, "no": False}.get(needs_review or ""),
        date_from=_parse_date(date_from),
        date_to=_parse_date(date_to),
        page=max(1, page),
    )


@router.get("/", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    f: InboxFilter = Depends(inbox_filter),
    user: WebUser = Depends(current_user),
    session: Session = Depends(read_session),
) -> Response:
    zone = state(request).settings.digest.timezone
    page = inbox(session, f, zone)
    return render(request, "inbox.html", {
        "page": page, "filter": f, "mailboxes": mailboxes(session), "verdicts": VERDICTS, "chapters": CHAPTERS,
        "failed": FAILED, "groups": GROUPS, "query": lambda **changes: urlencode(f.as_query(**changes)),
    }, user=user)


# --- one message ---------------------------------------------------------------------------------------

def _field_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def message_page(
    request: Request,
    message_id: int,
    user: WebUser = Depends(current_user),
    session: Session = Depends(read_session),
) -> Response:
    message = message_full(session, message_id)
    if message is None:
        return render_error(request, "not_found", 404, user)
    lang = language_of(request)
    parsed, parse_error = None, None
    try:
        parsed = parse_message(message.raw, limits=parse_limits(state(request).settings))
    except MessageParseError as exc:
        parse_error = str(exc)
    result = store.load_result(session, message)

    marks: list[Mark] = []
    findings = []
    if result is not None:
        for index, finding in enumerate(result.check.findings):
            anchor = f"finding-{index}"
            citation, description = rule_details(finding.rule, finding.citation, lang)
            findings.append({"finding": finding, "anchor": anchor, "citation": citation, "description": description})
            if finding.evidence is not None:
                marks.append(Mark(anchor, finding.kind, f"{finding.rule}: {finding.code}", finding.evidence))
    fields = []
    if result is not None:
        event_json = result.event.to_json()
        for name in [*EVENT_FIELDS, *(n for n in result.event.evidence if n not in EVENT_FIELDS)]:
            evidences = result.event.evidence.get(name, [])
            value = event_json.get(name)
            if value in (None, [], "") and not evidences:
                continue
            anchors = []
            for j, evidence in enumerate(evidences):
                anchor = f"field-{name}-{j}"
                anchors.append(anchor)
                marks.append(Mark(anchor, "field", i18n.code_label("field", name, lang), evidence))
            fields.append({"name": name, "value": _field_value(value), "anchors": anchors, "evidences": evidences})
    views, located = highlight(parsed.sections if parsed else (), marks)

    current = current_state(message)
    triage_state = judgement_of(message.result)
    reviews = [
        {"review": r, "changed": changed_fields(r.before, r.after)} for r in reversed(message.reviews)
    ]
    reply = message.reply
    return render(request, "message.html", {
        "message": message, "parsed": parsed, "parse_error": parse_error, "result": result,
        "findings": findings, "fields": fields, "views": views, "located": located,
        "current": current, "triage_state": triage_state, "corrected": bool(changed_fields(triage_state, current)),
        "reviews": reviews, "reply": reply, "sendable": reply is not None and reply.status in SENDABLE,
        "chapters": CHAPTERS, "missing_codes": MISSING_CODES, "violation_codes": VIOLATION_CODES, "verdicts": VERDICTS,
        "has_html": bool(parsed and parsed.html),
    }, user=user)


@router.get("/messages/{message_id}/html", response_class=HTMLResponse)
def message_html(
    request: Request,
    message_id: int,
    user: WebUser = Depends(current_user),
    session: Session = Depends(read_session),
) -> Response:
    """The mail's own HTML, cleaned, under a CSP that forbids every script and remote load."""
    message = message_full(session, message_id)
    html_body = ""
    if message is not None:
        try:
            html_body = parse_message(message.raw, limits=parse_limits(state(request).settings)).html or ""
        except MessageParseError:
            html_body = ""
    document = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
        + clean_html(html_body) + "</body></html>"
    )
    return HTMLResponse(
        document,
        status_code=200 if message is not None else 404,
        headers={
            "Content-Security-Policy": MAIL_HTML_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )


# --- corrections -----------------------------------------------------------------------------------------

@router.post("/messages/{message_id}/review")
async def save_review(
    request: Request,
    message_id: int,
    user: WebUser = Depends(current_user),
    session: Session = Depends(write_session),
) -> Response:
    form = await request.form()
    if not csrf_ok(request.session, str(form.get(CSRF_FIELD) or "")):
        return render_error(request, "csrf_failed", 403, user)
    message = message_full(session, message_id)
    if message is None:
        return render_error(request, "not_found", 404, user)
    before = current_state(message)
    chapter = str(form.get("chapter") or "") or before["chapter"]
    verdict = str(form.get("verdict") or "auto")
    violations = [str(v) for v in form.getlist("violations")]
    # One quote field: the evidence for the violations this correction adds.
    quote = str(form.get("quote") or "").strip()
    quotes = {code: quote for code in violations if code not in before["violations"]}
    try:
        after = apply_correction(
            before,
            chapter=chapter,
            missing=[str(v) for v in form.getlist("missing")],
            violations=violations,
            verdict=None if verdict == "auto" else verdict,
            quotes=quotes,
        )
    except CorrectionError:
        return render_error(request, "invalid_choice", 400, user)
    comment = str(form.get("comment") or "").strip() or None
    store.record_review(session, message, user.username, before=before, after=after, comment=comment)
    session.commit()
    _flash(request, "ok", "review_saved" if changed_fields(before, after) else "review_unchanged")
    return RedirectResponse(f"/messages/{message_id}#review", status_code=303)


# --- the reply -----------------------------------------------------------------------------------------------

@router.post("/messages/{message_id}/reply")
def send_reply(
    request: Request,
    message_id: int,
    subject: str = Form(""),
    body_text: str = Form(""),
    csrf: str = Form("", alias=CSRF_FIELD),
    user: WebUser = Depends(current_user),
    session: Session = Depends(write_session),
) -> Response:
    if not csrf_ok(request.session, csrf):
        return render_error(request, "csrf_failed", 403, user)
    message = message_full(session, message_id)
    if message is None or message.reply is None:
        return render_error(request, "not_found", 404, user)
    reply = message.reply
    changes: dict[str, Any] = {"status": "pending", "error": None}
    if body_text.strip():
        changes["body_text"] = body_text.replace("\r\n", "\n")
    if subject.strip():
        changes["subject"] = subject.strip()
    # The "once": only one request can move the reply from drafted/failed to pending.
    claimed = session.execute(
        update(Reply).where(Reply.id == reply.id, Reply.status.in_(SENDABLE)).values(**changes)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        session.refresh(reply)
        _flash(request, "error", "reply_already_sent" if reply.status == "sent" else "reply_not_sendable")
        return RedirectResponse(f"/messages/{message_id}#reply", status_code=303)
    session.refresh(reply)
    try:
        state(request).reply_sender(state(request).settings, message, reply)
    except ReplySendError as exc:
        store.mark_reply(session, reply, "failed", error=str(exc))
        session.commit()
        _flash(request, "error", "reply_send_failed", str(exc))
        return RedirectResponse(f"/messages/{message_id}#reply", status_code=303)
    except BaseException:
        # Unknown outcome: leave it pending (never sent twice); the error goes to the log.
        session.rollback()
        raise
    store.mark_reply(session, reply, "sent", sent_by=user.username)
    session.commit()
    _flash(request, "ok", "reply_sent")
    return RedirectResponse(f"/messages/{message_id}#reply", status_code=303)


# --- managers' pages ---------------------------------------------------------------------------------------

@router.get("/reports/agreement", response_class=HTMLResponse)
def agreement_page(
    request: Request,
    mailbox: str | None = None,
    user: WebUser = Depends(manager),
    session: Session = Depends(read_session),
) -> Response:
    report = agreement_report(reviewed_messages(session, mailbox=mailbox or None))
    return render(request, "agreement.html", {"report": report, "mailboxes": mailboxes(session),
                                              "mailbox": mailbox or ""}, user=user)


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    user: WebUser = Depends(manager),
    session: Session = Depends(read_session),
) -> Response:
    from sqlalchemy import select

    rows = [
        {"username": u.name, "role": u.role, "source": "config", "last_login_at": None, "active": True}
        for u in state(request).settings.web.users
    ]
    for u in session.scalars(select(User).order_by(User.username)):
        rows.append({"username": u.username, "role": u.role, "source": "database",
                     "last_login_at": u.last_login_at, "active": u.active})
    return render(request, "users.html", {"rows": rows}, user=user)
