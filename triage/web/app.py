"""The application factory of the review UI: `create_app(settings)`.

Wires the pieces together once: the database sessions (one per request; the handler that
writes owns its transaction and commits), signed session cookies, security headers on every
response, the templates (autoescaped), the login limiter and the seam through which a reply is
sent. Routes live in `views` (HTML pages) and `api` (JSON, /health, /metrics).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware
from starlette.templating import Jinja2Templates

import triage
from triage.config import Settings
from triage.db.engine import make_engine, normalize_url, session_factory
from triage.web.auth import LoginLimiter, check_config_users
from triage.web.sending import ReplySender, send_via_outbound

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "triage_session"

#: The policy of every page of the app itself: nothing but our own style sheet and images, no
#: script at all, forms only to ourselves, frames only from ourselves (the mail's HTML view).
APP_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecretKeyMissing(RuntimeError):
    """No secret key for signing session cookies, and no --dev to make a throwaway one."""


class LoginRequired(Exception):
    """Raised by the `current_user` dependency; answered with a redirect or a 401."""


class Forbidden(Exception):
    """The user's role may not do this."""


@dataclass
class WebState:
    """What every request handler needs, made once per app."""

    settings: Settings
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    limiter: LoginLimiter
    templates: Jinja2Templates
    reply_sender: ReplySender
    metrics_token: str | None
    dev: bool = False


def resolve_secret_key(settings: Settings, *, dev: bool, environ: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """The cookie-signing key from the environment variable the config names; (key, ephemeral).

    Without one, only `dev` may go on, with a random key that dies with the process (every login
    ends at a restart), and says so.
    """
    environ = os.environ if environ is None else environ
    name = settings.web.secret_key_env
    value = environ.get(name, "") if name else ""
    if value:
        if len(value) < 16:
            raise SecretKeyMissing(f"${name} is shorter than 16 characters: use a long random value")
        return value, False
    if dev:
        return secrets.token_urlsafe(48), True
    raise SecretKeyMissing(
        f"no secret key for the session cookies: set ${name} to a long random value "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or pass --dev for a throwaway key"
    )


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    return Jinja2Templates(env=env)


def create_app(
    settings: Settings,
    *,
    dev: bool = False,
    secret_key: str | None = None,
    engine: Engine | None = None,
    reply_sender: ReplySender | None = None,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    """The review UI for these settings.

    `secret_key` (tests) overrides the environment; `engine` shares an engine (tests); the
    `reply_sender` is how the Send button sends (default: the outbound package's SMTP path).
    """
    environ = os.environ if environ is None else environ
    if secret_key is None:
        secret_key, ephemeral = resolve_secret_key(settings, dev=dev, environ=environ)
        if ephemeral:
            log.warning("triage web: no $%s set; using a throwaway session key (--dev): logins end at restart",
                        settings.web.secret_key_env)
    check_config_users(settings)
    if engine is None:
        read_engine = make_engine(settings.database_url)
        # SQLite: a write transaction takes the lock at BEGIN, so a review saved while the worker
        # writes waits its turn instead of failing (see make_engine).
        write_engine = (
            make_engine(settings.database_url, sqlite_immediate=True)
            if normalize_url(settings.database_url).get_backend_name() == "sqlite" else read_engine
        )
    else:
        read_engine = write_engine = engine
    metrics_token = environ.get(settings.web.metrics_token_env) if settings.web.metrics_token_env else None

    app = FastAPI(
        title="triage review UI",
        version=triage.__version__,
        description="JSON endpoints of the triage review UI. Every endpoint but /health needs a logged-in session.",
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.web = WebState(
        settings=settings,
        read_sessions=session_factory(read_engine),
        write_sessions=session_factory(write_engine),
        limiter=LoginLimiter(settings.web.login_attempts_per_minute),
        templates=_templates(),
        reply_sender=reply_sender or send_via_outbound,
        metrics_token=metrics_token or None,
        dev=dev,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", APP_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        if settings.web.secure_cookies:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    # Lax, not Strict: a link in the digest mail must open the review page with the session
    # (Strict would send the user to the login page from every mail client); every state
    # change is a POST that Lax keeps cross-site cookies away from, and carries a CSRF token.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.web.session_minutes * 60,
        same_site="lax",
        https_only=settings.web.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "login required"}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="triage"'})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import urlencode

        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        from triage.web.views import render_error

        return render_error(request, "forbidden", 403)

    from triage.web import api, views

    app.include_router(views.router)
    app.include_router(api.router)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/metrics"


def state(request: Request) -> WebState:
    """The app's WebState."""
    return request.app.state.web


def read_session(request: Request) -> Iterator[Session]:
    """A read-only unit of work for one request (rolled back at the end)."""
    session = state(request).read_sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def write_session(request: Request) -> Iterator[Session]:
    """A unit of work that the handler commits; rolled back if the handler fails first."""
    session = state(request).write_sessions()
    try:
        yield session
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
