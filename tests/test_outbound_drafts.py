"""Drafted replies in a real Maildir: every draft threads to its original when it can, always
carries our marker header and the \\Draft flag, and never lands in the folder triage reads.

A draft without In-Reply-To/References and outside the Drafts folder is indistinguishable from a
new mail to anything that reads the mailbox (the crash test counted one as an original once).
The one path that writes a draft without threading headers is an original with no Message-ID:
there is nothing to refer to, so the marker header is what identifies the draft.
"""

from __future__ import annotations

import email
import mailbox
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from tests.support.intake import mail
from tests.support.outbound import aware, finding, result
from triage.config import MailboxConfig, Settings
from triage.db import store
from triage.db.schema import Reply
from triage.message.parse import parse_message
from triage.outbound.replies import prepare_reply
from triage.outbound.replies.dispatch import deliver_reply, same_folder
from triage.outbound.replies.loop import TRIAGE_REPLY_HEADER, check_our_reply, why_not_reply

NOW = aware(2026, 3, 2, 9)
MISSING = (finding("se-2026/3.2/invitation-elements", "missing", "content", "Program saknas."),)


def drafted(sessions: sessionmaker, root: Path, raw: bytes, **mailbox_config) -> tuple[str, Reply]:
    """Store `raw` as judged needs_info in a Maildir mailbox, claim its reply, deliver it as the worker does."""
    box = MailboxConfig(name="hjarta", kind="maildir", path=str(root), address="samverkan@region.se",
                        **mailbox_config)
    settings = Settings(mailboxes=[box])
    parsed = parse_message(raw)
    res = result("x", message_id=parsed.message_id, subject=parsed.subject, sender=str(parsed.sender),
                 chapter="3.2", verdict="needs_info", findings=MISSING)
    with sessions() as session, session.begin():
        row, _ = store.record_message(session, "hjarta", None, None, raw, res, now=NOW)
        reply, _ = prepare_reply(session, settings, box, row, res, now=NOW, parsed=parsed)
        reply_id = reply.id
    with sessions() as session:
        outcome = deliver_reply(session, settings, reply_id)
        return outcome, session.get(Reply, reply_id)


def files(folder: Path) -> list[Path]:
    return sorted(p for sub in ("new", "cur") if (folder / sub).is_dir() for p in (folder / sub).iterdir())


@pytest.mark.parametrize("with_message_id", [True, False], ids=["message-id", "no-message-id"])
def test_a_draft_is_threaded_marked_and_flagged_in_the_drafts_folder(db_sessions, tmp_path, with_message_id) -> None:
    root = tmp_path / "Maildir"
    mailbox.Maildir(root, create=True)
    raw = mail(message_id="<orig-1@pharma.example>")
    if not with_message_id:
        raw = raw.replace(b"Message-ID: <orig-1@pharma.example>\r\n", b"")
    outcome, reply = drafted(db_sessions, root, raw)
    assert outcome == "drafted", reply.error
    assert files(root) == []  # nothing in the folder triage reads
    [path] = files(root / ".Drafts")
    assert path.parent.name == "cur" and path.name.endswith(":2,DS")  # a read draft, not new mail
    draft = email.message_from_bytes(path.read_bytes())
    assert draft[TRIAGE_REPLY_HEADER] == "yes"
    assert draft["Auto-Submitted"] == "auto-replied"
    if with_message_id:
        assert draft["In-Reply-To"] == "<orig-1@pharma.example>"
        assert draft["References"] == "<orig-1@pharma.example>"
    else:  # nothing to refer to: the marker alone says it is ours
        assert draft["In-Reply-To"] is None and draft["References"] is None
    # Read back as a mail, it is known as ours and never answered.
    back = parse_message(path.read_bytes())
    assert why_not_reply(back, recipient="anna@nordlys-pharma.se", is_our_reply=lambda _mid: False) is not None
    refusal = check_our_reply(back, is_our_reply=lambda _mid: False)  # by the marker, not a Message-ID lookup
    assert refusal is not None and refusal.code == "our_reply"


@pytest.mark.parametrize("folders", [("INBOX", "INBOX"), ("inbox", "INBOX"), ("Triage/In", "Triage.In")])
def test_a_draft_is_never_put_into_the_folder_triage_reads(db_sessions, tmp_path, folders) -> None:
    drafts, watched = folders
    root = tmp_path / "Maildir"
    mailbox.Maildir(root, create=True)
    if watched != "INBOX":
        mailbox.Maildir(root, create=False).add_folder(watched)
    outcome, reply = drafted(db_sessions, root, mail(), drafts_folder=drafts, folder=watched.replace(".", "/"))
    assert outcome == "failed"
    assert reply.status == "drafted"  # kept for the review UI, where a person can still send it
    assert reply.error is not None and "drafts_folder is the folder triage reads" in reply.error
    assert all(files(folder) == [] for folder in [root, *root.glob(".*")])


def test_same_folder() -> None:
    assert same_folder("INBOX", "inbox") and same_folder("Inbox/Drafts", "INBOX.Drafts")
    assert same_folder("Triage/In", "Triage.In")
    assert not same_folder("Drafts", "INBOX") and not same_folder("Drafts", "drafts")
