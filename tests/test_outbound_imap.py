"""IMAP delivery against the real test Dovecot: the digest appended to its folder, the reply draft in Drafts.

The draft test runs the real worker (`MailboxRunner`) with the reply hook registered: a mail put
into INBOX is polled, judged (by a stand-in pipeline that says "needs_info"), stored, and its
reply lands in the Drafts folder once the message's transaction has committed.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.dovecot import DovecotServer
from tests.support.outbound import aware, finding, result, sample
from triage.config import DigestConfig, MailboxConfig, Settings
from triage.db import store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Base, Reply
from triage.message.parse import parse_message
from triage.outbound.digest import run_mailbox_digest
from triage.outbound.hooks import reply_hook
from triage.outbound.imap import AppendError, append_message
from triage.worker.runner import MailboxRunner

pytestmark = pytest.mark.dovecot

PASSWORD = "triage-test-pw"
ENV_NAME = "TRIAGE_TEST_OUTBOUND_IMAP_PW"
NOW = aware(2026, 2, 21, 6)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer(users={"triage": PASSWORD}).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def imap(dovecot: DovecotServer) -> Iterator[IMAPClient]:
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
    client.login("triage", PASSWORD)
    for folder in ("Triage/Digest", "Drafts", "INBOX", "Triage/Processed"):
        if client.folder_exists(folder):
            client.select_folder(folder)
            uids = client.search("ALL")
            if uids:
                client.delete_messages(uids)
                client.expunge()
    try:
        yield client
    finally:
        client.logout()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'triage.db'}", sqlite_immediate=True)
    Base.metadata.create_all(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def mailbox_config(dovecot: DovecotServer, **changes) -> MailboxConfig:
    base = dict(name="hjarta", kind="imap", host="127.0.0.1", port=dovecot.port, tls="none", username="triage",
                password_env=ENV_NAME, address="samverkan.hjartkliniken@skane.se", idle=False,
                digest_folder="Triage/Digest", signature="Funktionsbrevlådan Hjärtkliniken")
    base.update(changes)
    return MailboxConfig(**base)


def messages_in(client: IMAPClient, folder: str) -> list[tuple[email.message.EmailMessage, tuple]]:
    if not client.folder_exists(folder):
        return []
    client.select_folder(folder, readonly=True)
    uids = client.search("ALL")
    fetched = client.fetch(uids, ["RFC822", "FLAGS"]) if uids else {}
    return [(email.message_from_bytes(data[b"RFC822"], policy=email.policy.default), data[b"FLAGS"])
            for _uid, data in sorted(fetched.items())]


def test_digest_is_appended_to_its_folder_once(dovecot: DovecotServer, imap: IMAPClient,
                                              sessions: sessionmaker[Session], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_NAME, PASSWORD)
    box = mailbox_config(dovecot)
    settings = Settings(mailboxes=[box], digest=DigestConfig(directory=""))
    with sessions() as session:
        store.record_message(session, "hjarta", 1, 1, sample("01-lunch-lecture-sv.eml"), result(
            "01", message_id="<a@x>", subject="Inbjudan <b>lunch</b>", sender="a@x.example", chapter="3.2",
            verdict="compliant"), now=aware(2026, 2, 20, 9))
        session.commit()
        outcome = run_mailbox_digest(session, settings, box, now=NOW)
        assert outcome.ok and [(d.channel, d.target, d.status) for d in outcome.deliveries] == [
            ("imap", "hjarta:Triage/Digest", "delivered")]
        again = run_mailbox_digest(session, settings, box, now=aware(2026, 2, 21, 9))
        assert [d.status for d in again.deliveries] == ["done"]
    found = messages_in(imap, "Triage/Digest")
    assert len(found) == 1
    mail, flags = found[0]
    assert mail["Subject"] == "Triage hjarta 2026-02-21: 1 nya, 0 att åtgärda"
    assert mail.get_content_type() == "multipart/alternative"
    assert b"\\Seen" not in flags  # a manager should see it as new
    html = mail.get_body(("html",)).get_content()
    assert "Inbjudan &lt;b&gt;lunch&lt;/b&gt;" in html
    # The folder was created and subscribed, so Outlook shows it.
    assert "Triage/Digest" in [name for _flags, _delim, name in imap.list_sub_folders()]


def test_reply_draft_lands_in_drafts_through_the_worker(dovecot: DovecotServer, imap: IMAPClient,
                                                       sessions: sessionmaker[Session],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_NAME, PASSWORD)
    box = mailbox_config(dovecot)
    settings = Settings(mailboxes=[box])
    raw = sample("01-lunch-lecture-sv.eml")
    auto_reply = sample("09-auto-reply-sv.eml")
    imap.append("INBOX", raw)
    imap.append("INBOX", auto_reply)

    class NeedsInfo:
        """Stands in for the judging pipeline: every mail lacks its programme."""

        def judge(self, data: bytes, file: str | None = None):
            parsed = parse_message(data)
            return result(file or "x", message_id=parsed.message_id, subject=parsed.subject,
                          sender=str(parsed.sender), chapter="3.2", verdict="needs_info",
                          findings=(finding("se-2026/3.2/invitation-elements", "missing", "content", "Program saknas."),))

    runner = MailboxRunner(settings, box, sessions=sessions, pipeline=NeedsInfo(), hooks=[reply_hook(settings)],
                           environ={ENV_NAME: PASSWORD})
    try:
        report = runner.poll()
    finally:
        runner.close()
    assert report.error is None and report.processed == 2 and report.hook_errors == 0

    drafts = messages_in(imap, "Drafts")
    assert len(drafts) == 1, "one draft: the auto-reply is never answered"
    draft, flags = drafts[0]
    original = parse_message(raw)
    assert b"\\Draft" in flags
    assert draft["In-Reply-To"] == original.message_id
    assert draft["Subject"] == "Sv: Inbjudan: Lunchföreläsning om hjärtsvikt 3 mars"
    assert draft["To"] == "Karin Ek <karin.ek@nordlys-pharma.se>"
    assert draft["Auto-Submitted"] == "auto-replied"
    assert "Programmet med tider" in draft.get_content()
    with sessions() as session:
        replies = {r.recipient: r for r in session.scalars(select(Reply))}
        assert replies["karin.ek@nordlys-pharma.se"].status == "drafted"
        assert replies["karin.ek@nordlys-pharma.se"].rfc_message_id == draft["Message-ID"]
        assert replies["anders.holm@skane.se"].status == "suppressed"
        assert replies["anders.holm@skane.se"].reason.startswith("auto_submitted")

    # A second poll finds nothing new and drafts nothing more.
    runner = MailboxRunner(settings, box, sessions=sessions, pipeline=NeedsInfo(), hooks=[reply_hook(settings)],
                           environ={ENV_NAME: PASSWORD})
    try:
        runner.poll()
    finally:
        runner.close()
    assert len(messages_in(imap, "Drafts")) == 1


def test_append_errors_are_clear(dovecot: DovecotServer, tmp_path: Path) -> None:
    box = mailbox_config(dovecot)
    with pytest.raises(AppendError, match="hjarta"):
        append_message(box, "Drafts", b"Subject: x\r\n\r\nx\r\n", environ={ENV_NAME: "wrong"})
    folder_box = replace(box, kind="folder", path=str(tmp_path))
    with pytest.raises(AppendError, match="folder mailbox"):
        append_message(folder_box, "Drafts", b"Subject: x\r\n\r\nx\r\n")
