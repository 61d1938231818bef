"""Helpers and fixtures of the mailbox and worker tests: Dovecot profiles, mails, databases, runners.

Test modules import the fixtures they use by name (`from tests.support.intake import dovecot`),
so that tests/conftest.py, which others edit, stays as it is.
"""

from __future__ import annotations

import atexit
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.dovecot import DovecotServer
from triage.config import MailboxConfig, Settings
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Base, Message
from triage.worker.runner import MailboxRunner

PASSWORD = "triage-test-pw"
OTHER_PASSWORD = "other-test-pw"
PASSWORD_ENV = "TRIAGE_TEST_IMAP_PASSWORD"
OTHER_PASSWORD_ENV = "TRIAGE_TEST_OTHER_PASSWORD"
ENVIRON = {PASSWORD_ENV: PASSWORD, OTHER_PASSWORD_ENV: OTHER_PASSWORD}
USERS = {"triage": PASSWORD, "other": OTHER_PASSWORD}
PROFILES = ("normal", "exchange_like")
#: Bytes that are no mail at all: the parser raises MessageParseError for them.
GARBAGE = b"\xff\xfe\x01 this file was cut off during transfer \xfa\xfb\r\n"

_counter = itertools.count(1)
#: Makes this run's Message-IDs its own (the same n gives the same mail within a run).
_RUN = uuid.uuid4().hex[:8]


def mail(n: int | None = None, *, subject: str | None = None, message_id: str | None = None, body: str | None = None) -> bytes:
    """A small, valid invitation mail with its own Message-ID."""
    n = next(_counter) if n is None else n
    message_id = message_id or f"<intake-{n}-{_RUN}@test.triage>"
    subject = subject or f"Inbjudan till lunchföreläsning {n}"
    body = body or (
        "Hej!\r\n\r\nVi bjuder in till en lunchföreläsning om hjärtsvikt den 12 mars 2026 kl 12.00-13.00 "
        "på kliniken. Vi bjuder på en enklare lunch.\r\n\r\nMed vänliga hälsningar\r\nAnna, Nordlys Pharma\r\n"
    )
    return (
        f"From: Anna Berg <anna@nordlys-pharma.se>\r\nTo: samverkan@region.se\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode("utf-8")


def start_dovecot(profile: str = "normal", **kwargs: Any) -> DovecotServer:
    """A Dovecot of its own (for the tests that need one: TLS, a special config)."""
    kwargs.setdefault("users", dict(USERS))
    return DovecotServer(exchange_like=profile == "exchange_like", **kwargs).start()


@dataclass
class Account:
    """One user's mailbox on a test Dovecot; what the helpers below take as "the server"."""

    server: DovecotServer
    user: str = "triage"
    password: str = PASSWORD

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def tls_port(self) -> int:
        return self.server.tls_port

    @property
    def cert(self) -> Path | None:
        return self.server.cert

    @property
    def exchange_like(self) -> bool:
        return self.server.exchange_like

    def other(self) -> Account:
        """A second, fresh account on the same server."""
        return next(pool for pool in _POOLS.values() if pool.server is self.server).take()


class _Pool:
    """One Dovecot per profile for the whole session, with a fresh user for every test.

    Stopping Dovecot takes a second or more, so starting one per test would cost minutes; a
    user of its own gives each test an empty mailbox all the same.
    """

    SIZE = 400

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.server: DovecotServer | None = None
        self.next = 0

    def take(self) -> Account:
        if self.server is None or self.server.process is None:
            users = {f"u{i}": PASSWORD for i in range(self.SIZE)} | dict(USERS)
            self.server = start_dovecot(self.profile, users=users)
            atexit.register(self.server.cleanup)
        if self.next >= self.SIZE:
            raise RuntimeError("the test Dovecot ran out of fresh users; raise _Pool.SIZE")
        account = Account(self.server, f"u{self.next}")
        self.next += 1
        return account


_POOLS: dict[tuple[str, str], _Pool] = {}


def _pool(profile: str, purpose: str = "") -> _Pool:
    return _POOLS.setdefault((profile, purpose), _Pool(profile))


@pytest.fixture(params=PROFILES)
def dovecot(request: pytest.FixtureRequest) -> Account:
    """An empty mailbox on Dovecot as it is, and on Dovecot advertising Exchange Online's capabilities."""
    return _pool(request.param).take()


@pytest.fixture
def dovecot_normal() -> Account:
    """An empty mailbox on Dovecot with its full capability list (MOVE, CONDSTORE, UIDPLUS, IDLE)."""
    return _pool("normal").take()


@pytest.fixture
def dovecot_auth() -> Account:
    """An empty mailbox on a Dovecot kept for tests that log in with a wrong password.

    Dovecot delays the next logins from an address that failed one (anvil's auth penalty), so
    these tests get a server of their own and do not slow the others down.
    """
    return _pool("normal", "auth-failures").take()


def hard_restart(account: Account | DovecotServer) -> None:
    """Restart Dovecot the way a real server restart looks to a client: its sessions end too.

    Stopping the harness's master leaves the running imap processes serving their clients, so
    first every user's sessions are ended (`doveadm kick`: BYE, then the connection closes).
    """
    import subprocess

    server = account.server if isinstance(account, Account) else account
    subprocess.run(["doveadm", "-c", str(server.root / "dovecot.conf"), "kick", "*"],
                   capture_output=True, check=False, timeout=20)
    server.restart()


def client(account: Account, user: str | None = None, password: str | None = None) -> IMAPClient:
    """A plain imapclient connection for setting up and inspecting the mailbox."""
    c = IMAPClient("127.0.0.1", port=account.port, ssl=False, timeout=30)
    c.login(user or account.user, password or account.password)
    return c


def append(account: Account, *messages: bytes, folder: str = "INBOX") -> None:
    c = client(account)
    try:
        for raw in messages:
            c.append(folder, raw)
    finally:
        c.logout()


def folder_flags(account: Account, folder: str) -> dict[str, set[str]]:
    """Message-ID → flags of every message in a folder (read-only, never changes \\Seen)."""
    c = client(account)
    try:
        if not c.folder_exists(folder):
            return {}
        c.select_folder(folder, readonly=True)
        uids = c.search("ALL")
        if not uids:
            return {}
        data = c.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        out = {}
        for item in data.values():
            header = next(v for k, v in item.items() if k.startswith(b"BODY[HEADER"))
            mid = header.decode().split(":", 1)[1].strip() if b":" in header else f"(none {item[b'SEQ']})"
            out[mid] = {f.decode() for f in item[b"FLAGS"]}
        return out
    finally:
        c.logout()


def folder_count(account: Account, folder: str) -> int:
    c = client(account)
    try:
        if not c.folder_exists(folder):
            return 0
        return c.select_folder(folder, readonly=True)[b"EXISTS"]
    finally:
        c.logout()


def imap_mailbox(account: Account, name: str = "unit", **overrides: Any) -> MailboxConfig:
    """The config of the account's mailbox: plain IMAP on loopback, password from ENVIRON."""
    values: dict[str, Any] = dict(
        name=name, kind="imap", host="127.0.0.1", port=account.port, tls="none",
        username=getattr(account, "user", "triage"),
        password_env=PASSWORD_ENV, timeout_seconds=20, idle_renew_seconds=60,
    )
    values.update(overrides)
    return MailboxConfig(**values)


@dataclass
class Db:
    """A test database with the schema, its URL, engine and sessions."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    def messages(self, mailbox: str | None = None) -> list[Message]:
        with self.sessions() as session:
            query = select(Message).order_by(Message.id)
            if mailbox is not None:
                query = query.where(Message.mailbox == mailbox)
            return list(session.scalars(query))


def sqlite_db(tmp_path: Path, *, migrate_schema: bool = False) -> Db:
    """A SQLite file with the schema (create_all; `migrate_schema` runs Alembic, as `triage run` wants)."""
    url = f"sqlite:///{tmp_path / 'var' / 'triage.db'}"
    if migrate_schema:
        from triage.db import migrate

        (tmp_path / "var").mkdir(exist_ok=True)
        migrate.upgrade(url)
    engine = make_engine(url, sqlite_immediate=True)
    if not migrate_schema:
        Base.metadata.create_all(engine)
    return Db(url, engine, session_factory(engine))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    database = sqlite_db(tmp_path)
    try:
        yield database
    finally:
        database.engine.dispose()


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m triage.cli …` in a child: this checkout first on the path."""
    import os

    checkout = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (checkout, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def runner(db: Db, mailbox: MailboxConfig, **kwargs: Any) -> MailboxRunner:
    """A runner on the test database, with the test passwords, short retries, no registered hooks."""
    kwargs.setdefault("hooks", [])
    kwargs.setdefault("environ", ENVIRON)
    kwargs.setdefault("retry_initial_seconds", 0.2)
    kwargs.setdefault("retry_budget_seconds", 20)
    settings = kwargs.pop("settings", None) or Settings(database_url=db.url, mailboxes=[mailbox])
    return MailboxRunner(settings, mailbox, sessions=db.sessions, **kwargs)
