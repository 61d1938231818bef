"""A local Maildir as a mailbox: read the watched folder, file by moving between sub-folders.

Folders are Maildir++ sub-folders, as Dovecot lays them out: `INBOX` is the Maildir itself,
`Triage/Processed` is `.Triage.Processed/`. Filing is one `rename` per message into the target's
`cur/` (atomic on one file system), so a message is never in two folders at once, and a crash
between storing and filing is finished at start-up. Maildir has no portable keywords: the
keyword is not written, and a message left in the watched folder is recognised by the store.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from triage.config import MailboxConfig
from triage.mailbox.base import Fetched, FolderState, Listing, MailboxConfigError, MailboxError, MessageKey
from triage.mailbox.local import LocalMailbox

#: Separator between a Maildir file's unique name and its info ("…:2,S").
INFO_SEPARATOR = ":"
#: IMAP system flags as Maildir info letters.
_MAILDIR_FLAGS = {"\\draft": "D", "\\flagged": "F", "\\answered": "R", "\\seen": "S", "\\deleted": "T"}


def maildir_key(file_name: str) -> str:
    """The stable part of a Maildir file name (it keeps it when it moves from new/ to cur/)."""
    return file_name.split(INFO_SEPARATOR, 1)[0]


class MaildirMailbox(LocalMailbox):
    """One Maildir; keys are Maildir unique names."""

    kind = "maildir"
    uses_uids = False
    can_file = True

    def __init__(self, config: MailboxConfig) -> None:
        super().__init__(config)
        self._readonly = False

    @property
    def root(self) -> Path:
        """The Maildir itself, which is also the INBOX folder."""
        return self.path

    def folder_path(self, folder: str) -> Path:
        """The directory of a folder: INBOX is the root, "A/B" is ".A.B" (Maildir++)."""
        if folder.upper() == "INBOX":
            return self.root
        return self.root / ("." + folder.replace("/", "."))

    def connect(self, *, readonly: bool = False) -> None:
        if not all((self.root / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise MailboxConfigError(f"mailbox {self.name!r}: {str(self.root)!r} is not a Maildir (no cur/, new/, tmp/)")
        self._readonly = readonly
        if not readonly:
            for folder in (self.config.processed_folder, self.config.review_folder, self.config.failed_folder):
                if folder:
                    self._ensure(folder)
        self.connected = True

    def _ensure(self, folder: str) -> Path:
        path = self.folder_path(folder)
        if path != self.root and not (path / "cur").is_dir():
            mailbox.Maildir(str(self.root), create=False).add_folder(folder.replace("/", "."))
        return path

    def _scan(self, folder: str | None = None) -> dict[str, Path]:
        """Unique name → file, for the messages in new/ and cur/ of a folder."""
        base = self.folder_path(folder or self.config.folder)
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(base / sub))
            except FileNotFoundError:
                if folder is None:
                    raise MailboxError(f"mailbox {self.name!r}: folder {self.config.folder!r} does not exist") from None
                continue
            for entry in entries:
                if not entry.name.startswith(".") and entry.is_file():
                    files[maildir_key(entry.name)] = Path(entry.path)
        return files

    def select(self) -> FolderState:
        return FolderState(uidvalidity=None, exists=len(self._scan()))

    def list_messages(self, after: int | None = None, *, message_ids: bool = False) -> list[Listing]:
        listings = []
        for key, path in sorted(self._scan().items()):
            try:
                listings.append(Listing(key=key, size=path.stat().st_size))
            except FileNotFoundError:
                continue
        return listings

    def fetch(self, keys: Sequence[MessageKey]) -> list[Fetched]:
        files = self._scan()
        fetched = (self._read(key, files[str(key)], origin=f"{self.config.folder}/{key}")
                   for key in keys if str(key) in files)
        return [one for one in fetched if one is not None]

    def present(self, keys: Sequence[MessageKey]) -> set[MessageKey]:
        files = self._scan()
        return {key for key in keys if str(key) in files}

    def file(self, keys: Sequence[MessageKey], destination: str | None, *, keyword: str | None,
             recovering: bool = False) -> None:
        """Move each message into `destination`'s cur/ (a rename); None or the same folder: leave it."""
        if self._readonly:
            raise MailboxError(f"mailbox {self.name!r} is open read-only (dry run): nothing may be filed")
        if not destination or self.folder_path(destination) == self.folder_path(self.config.folder):
            return
        target = self._ensure(destination) / "cur"
        files = self._scan()
        for key in keys:
            source = files.get(str(key))
            if source is None:
                continue  # already moved (a crash after the rename, before it was noted)
            name = source.name if source.parent.name == "cur" else source.name + INFO_SEPARATOR + "2,"
            try:
                os.rename(source, target / name)
            except FileNotFoundError:
                continue

    def append(self, folder: str, raw: bytes, *, flags: Sequence[str] = (), received_at: datetime | None = None) -> None:
        """Add `raw` to `folder`; IMAP flags become Maildir info flags (a draft lands in cur/ as "DS",
        so a client shows it as a read draft, not as new mail)."""
        path = self._ensure(folder) if folder.upper() != "INBOX" else self.root
        message = mailbox.MaildirMessage(raw)
        letters = "".join(sorted({_MAILDIR_FLAGS[f.lower()] for f in flags if f.lower() in _MAILDIR_FLAGS}))
        if letters:
            message.set_subdir("cur")
            message.set_flags(letters)
        mailbox.Maildir(str(path), factory=None, create=False).add(message)
