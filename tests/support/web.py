"""Helpers for the review-UI tests: a seeded database, a logged-in test client, hostile mail.

Results are stored through the real `store.record_message`, from raw mail that the real parser
reads; tests that need findings with evidence build them against the parsed sections, so the
offsets are the ones the parser gives.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings, WebConfig
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Base, Message, Reply
from triage.web.app import create_app
from triage.web.sending import ReplySendError

from triage.db import store
from triage.message.parse import parse_message
from triage.results import (
    CheckOutcome,
    Classification,
    Decision,
    Evidence,
    EventDetails,
    Finding,
    Routing,
    TriageResult,
)
from triage.web.auth import hash_password
from triage.vocabulary import verdict_for

SECRET = "test-secret-key-" + "x" * 32
HOSTILE = "<script>alert(1)</script>"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_mail(
    subject: str,
    body: str,
    *,
    sender: str = "Anna Andersson <anna@pharma.example>",
    to: str = "samverkan.kardiologi@region.example",
    message_id: str = "<m1@pharma.example>",
    html: str | None = None,
    attachment: tuple[str, str] | None = None,
) -> bytes:
    """A raw RFC 5322 mail (bytes) with a text body, optionally HTML and a text attachment."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        name, text = attachment
        msg.add_attachment(text.encode(), maintype="text", subtype="plain", filename=name)
    return msg.as_bytes()


def evidence_in(raw: bytes, quote: str, source: str = "body") -> Evidence:
    """Evidence for `quote` at its real offsets in the parsed section `source`."""
    parsed = parse_message(raw)
    for section in parsed.sections:
        if section.source == source and quote in section.text:
            start = section.text.index(quote)
            return Evidence(quote, section.source, section.name, start, start + len(quote))
    raise AssertionError(f"{quote!r} is not in section {source!r}")


def judged(
    raw: bytes,
    *,
    chapter: str = "3.2",
    confidence: float = 0.83,
    findings: tuple[Finding, ...] = (),
    event: EventDetails | None = None,
    verdict: str | None = None,
    needs_review: bool = False,
    timings: dict[str, float] | None = None,
) -> TriageResult:
    """A TriageResult for `raw` as the pipeline would make it, with the given judgement."""
    parsed = parse_message(raw)
    missing = [f.code for f in findings if f.kind == "missing"]
    violations = [f.code for f in findings if f.kind == "violation"]
    return TriageResult(
        file=None,
        message_id=parsed.message_id,
        raw_sha256=parsed.raw_sha256,
        subject=parsed.subject,
        sender=str(parsed.sender) if parsed.sender else None,
        language="sv",
        routing=Routing("SE", "se-2026", None),
        classification=Classification(chapter, confidence, {chapter: confidence}, "test-model@1"),
        event=event or EventDetails(),
        check=CheckOutcome(findings=findings, rules_ran=tuple(f.rule for f in findings), rulebook_version="se-2026@3.0"),
        decision=Decision(verdict or verdict_for(chapter, missing, violations), needs_review, ()),
        timings_ms=timings or {"parse": 3.0, "extract": 10.0, "classify": 2.0, "check": 1.0, "decide": 0.1},
    )


def seed(session: Session, raw: bytes, result: TriageResult | None, mailbox: str = "kardiologi") -> int:
    """Store a message and its result through the real store; return its id (committed)."""
    row, _ = store.record_message(session, mailbox, None, None, raw, result, origin="test.eml")
    session.commit()
    return row.id


def add_user(session: Session, name: str, password: str, role: str = "reviewer") -> None:
    """A database user with an Argon2 hash of `password` (committed)."""
    store.add_user(session, name, role, password_hash=hash_password(password))
    session.commit()


def csrf_of(html: str) -> str:
    """The CSRF token of a rendered page."""
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str, *, follow: bool = False):
    """Log in through the real form (GET for the token, then POST); return the POST response."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=follow)


# --- fixtures ------------------------------------------------------------------------------------


MANAGER = ("maria", "manager-password-1")
REVIEWER = ("rolf", "reviewer-password-1")


@dataclasses.dataclass
class WebEnv:
    """A review UI on a fresh SQLite database, its sessions, and the replies it sent."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker
    client: TestClient
    sent: list[tuple[int, str | None, str | None]]
    fail_next_send: list[str]

    def seed(self, raw: bytes, result: TriageResult | None, mailbox: str = "kardiologi") -> int:
        with self.sessions() as session:
            return seed(session, raw, result, mailbox)

    def login(self, who: tuple[str, str] = MANAGER):
        response = login(self.client, *who)
        assert response.status_code == 303, response.text
        return response

    def csrf(self, path: str = "/") -> str:
        return csrf_of(self.client.get(path).text)


def make_web_env(tmp_path: Path, url: URL | str | None = None, **web: object) -> WebEnv:
    """The UI on `url` (default: a SQLite file in tmp_path), schema created, two users added."""
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    settings = Settings(database_url=url or f"sqlite:///{tmp_path / 'triage.db'}", web=WebConfig(**web))  # type: ignore[arg-type]
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    sessions = session_factory(engine)
    sent: list[tuple[int, str | None, str | None]] = []
    fail_next: list[str] = []

    def fake_sender(_settings: Settings, message: Message, reply: Reply) -> None:
        if fail_next:
            raise ReplySendError(fail_next.pop())
        sent.append((message.id, reply.subject, reply.body_text))

    app = create_app(settings, secret_key=SECRET, engine=engine, reply_sender=fake_sender)
    with sessions() as session:
        add_user(session, *MANAGER, role="manager")
        add_user(session, *REVIEWER, role="reviewer")
    return WebEnv(settings, engine, sessions, TestClient(app), sent, fail_next)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    """A review UI with a manager and a reviewer, nobody logged in."""
    env = make_web_env(tmp_path)
    try:
        yield env
    finally:
        env.client.close()
        env.engine.dispose()


@pytest.fixture
def web_each(db_url: URL, tmp_path: Path) -> Iterator[WebEnv]:
    """The same, once on SQLite and once on PostgreSQL (the deployments' two databases)."""
    env = make_web_env(tmp_path, db_url)
    try:
        yield env
    finally:
        env.client.close()
        env.engine.dispose()
