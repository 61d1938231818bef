"""The embedded mailbox kinds: a read-only folder of .eml files and a local Maildir."""

from __future__ import annotations

import mailbox
import threading
from pathlib import Path

import pytest

from tests.support.intake import mail
from triage.config import MailboxConfig
from triage.mailbox import MailboxConfigError, MailboxError, open_mailbox
from triage.mailbox.folder import FolderMailbox
from triage.mailbox.maildir import MaildirMailbox, maildir_key


def folder_source(path: Path) -> FolderMailbox:
    box = open_mailbox(MailboxConfig(name="demo", kind="folder", path=str(path)))
    assert isinstance(box, FolderMailbox)
    return box


def maildir_source(path: Path, **overrides) -> MaildirMailbox:
    box = open_mailbox(MailboxConfig(name="md", kind="maildir", path=str(path), **overrides))
    assert isinstance(box, MaildirMailbox)
    return box


def test_folder_lists_and_reads_eml_files_in_name_order(tmp_path):
    (tmp_path / "b.eml").write_bytes(mail(2))
    (tmp_path / "a.eml").write_bytes(mail(1))
    (tmp_path / "notes.txt").write_text("not a mail")
    (tmp_path / "sub").mkdir()
    box = folder_source(tmp_path)
    box.connect()
    assert box.select().uidvalidity is None and box.select().exists == 2
    assert [item.key for item in box.list_messages()] == ["a.eml", "b.eml"]
    fetched = box.fetch(["a.eml", "gone.eml"])
    assert len(fetched) == 1 and fetched[0].raw == mail(1) and fetched[0].origin == str(tmp_path / "a.eml")
    assert box.present(["a.eml", "gone.eml"]) == {"a.eml"}


def test_folder_is_never_changed(tmp_path):
    (tmp_path / "a.eml").write_bytes(mail(1))
    before = sorted(p.name for p in tmp_path.iterdir())
    box = folder_source(tmp_path)
    box.connect()
    box.file(["a.eml"], "Triage/Processed", keyword="$Triaged")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with pytest.raises(MailboxError):
        box.append("INBOX", mail(2))
    assert box.can_file is False and box.supports_idle() is False


def test_folder_that_does_not_exist_is_a_config_error(tmp_path):
    with pytest.raises(MailboxConfigError, match="does not exist"):
        folder_source(tmp_path / "nope").connect()


def make_maildir(path: Path, *messages: bytes) -> list[str]:
    md = mailbox.Maildir(str(path), create=True)
    return [md.add(raw) for raw in messages]


def test_maildir_files_by_renaming_into_maildir_plus_plus_folders(tmp_path):
    keys = make_maildir(tmp_path / "Maildir", mail(1), mail(2), mail(3))
    box = maildir_source(tmp_path / "Maildir")
    box.connect()
    assert (tmp_path / "Maildir" / ".Triage.Processed" / "cur").is_dir()  # created like Dovecot lays them out
    assert (tmp_path / "Maildir" / ".Triage.Needs review" / "cur").is_dir()
    assert sorted(item.key for item in box.list_messages()) == sorted(keys)
    box.file([keys[0], keys[1]], "Triage/Processed", keyword="$Triaged")
    box.file([keys[1]], "Triage/Processed", keyword="$Triaged")  # already moved: nothing happens
    assert [item.key for item in box.list_messages()] == [keys[2]]
    moved = sorted(p.name for p in (tmp_path / "Maildir" / ".Triage.Processed" / "cur").iterdir())
    assert [maildir_key(name) for name in moved] == sorted(keys[:2])
    assert all(name.endswith(":2,") for name in moved)
    processed = mailbox.Maildir(str(tmp_path / "Maildir" / ".Triage.Processed"), create=False)
    # The stdlib writes local line endings; the mails are the same.
    assert sorted(m.as_bytes() for m in processed) == sorted(raw.replace(b"\r\n", b"\n") for raw in (mail(1), mail(2)))


def test_maildir_keys_survive_the_move_from_new_to_cur(tmp_path):
    [key] = make_maildir(tmp_path / "Maildir", mail(1))
    new_file = next((tmp_path / "Maildir" / "new").iterdir())
    new_file.rename(tmp_path / "Maildir" / "cur" / (new_file.name + ":2,S"))  # a mail client read it
    box = maildir_source(tmp_path / "Maildir")
    box.connect(readonly=True)
    assert [item.key for item in box.list_messages()] == [key]
    assert box.fetch([key])[0].raw == mail(1)


def test_maildir_read_only_creates_and_files_nothing(tmp_path):
    [key] = make_maildir(tmp_path / "Maildir", mail(1))
    box = maildir_source(tmp_path / "Maildir")
    box.connect(readonly=True)
    assert not (tmp_path / "Maildir" / ".Triage.Processed").exists()
    with pytest.raises(MailboxError):
        box.file([key], "Triage/Processed", keyword=None)


def test_maildir_append_and_errors(tmp_path):
    make_maildir(tmp_path / "Maildir")
    box = maildir_source(tmp_path / "Maildir")
    box.connect()
    box.append("Drafts", mail(5))
    assert len(mailbox.Maildir(str(tmp_path / "Maildir" / ".Drafts"), create=False)) == 1
    with pytest.raises(MailboxConfigError, match="not a Maildir"):
        maildir_source(tmp_path / "nothing").connect()
    assert box.wait_for_change(0.01, threading.Event()) is False
