"""Helpers for the outbound tests: a real SMTP server (aiosmtpd) on loopback, and stored results.

`SmtpSink` runs aiosmtpd in its own thread on a free 127.0.0.1 port: plain, STARTTLS (with a
throwaway certificate) or implicit TLS, optionally with AUTH. Every accepted message is kept
with its envelope, so a test can assert what arrived, how many times, and parse it.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.dovecot import free_port, make_self_signed_cert
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

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                          or envelope.content))
        return "250 OK"


class SmtpSink:
    """An aiosmtpd server: `tls` is "none", "starttls" or "ssl"; `users` enables AUTH (over TLS only)."""

    def __init__(self, tls: str = "none", users: dict[str, str] | None = None) -> None:
        self.tls = tls
        self.users = users or {}
        self.port = free_port()
        self.handler = _Handler()
        self.dir = Path(tempfile.mkdtemp(prefix="triage-smtp-"))
        self.cert: Path | None = None
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            if self.users.get(login) == auth_data.password.decode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> "SmtpSink":
        kwargs: dict = {}
        if self.tls in ("starttls", "ssl"):
            self.cert, key = make_self_signed_cert(self.dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            if self.tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.tls != "none",
                          auth_required=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)


# --- stored results ---------------------------------------------------------------------------------

def sample(name: str) -> bytes:
    """The raw bytes of a bundled sample mail (samples/NAME)."""
    return (SAMPLES / name).read_bytes()


def finding(rule: str, kind: str, code: str, message: str, evidence: str | None = None,
            severity: str = "medium", citation: str | None = None) -> Finding:
    return Finding(rule=rule, kind=kind, code=code, severity=severity, message=message,
                   evidence=Evidence(evidence, "body") if evidence else None, citation=citation)


def result(
    file: str,
    *,
    message_id: str | None,
    subject: str,
    sender: str,
    language: str | None = "sv",
    jurisdiction: str | None = "SE",
    chapter: str | None = None,
    confidence: float | None = None,
    no_section: str | None = None,
    verdict: str | None = None,
    needs_review: bool = False,
    findings: tuple[Finding, ...] = (),
    error: str | None = None,
    **event: object,
) -> TriageResult:
    """A TriageResult as the stages would make it; `event` fills EventDetails fields."""
    rulebook = {"SE": "se-2026", "NO": "no-2023"}.get(jurisdiction or "")
    return TriageResult(
        file=file, message_id=message_id, subject=subject, sender=sender, language=language,
        routing=Routing(jurisdiction=jurisdiction, rulebook=rulebook, no_section=no_section),
        classification=Classification(chapter=chapter, confidence=confidence),
        event=EventDetails(**event),  # type: ignore[arg-type]
        check=CheckOutcome(findings=findings, rules_ran=tuple(dict.fromkeys(f.rule for f in findings))),
        decision=Decision(verdict=verdict, needs_review=needs_review),
        error=error,
    )


def aware(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC datetime."""
    from datetime import UTC

    return datetime(year, month, day, hour, minute, tzinfo=UTC)


__all__ = ["Received", "SmtpSink", "aware", "date", "finding", "result", "sample"]
