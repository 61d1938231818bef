"""A folder of `.eml` files as a read-only mailbox: the embedded default the demo runs on.

Nothing is ever moved, renamed or written: a file already processed is recognised by the
store's dedupe (its Message-ID, else the SHA-256 of its bytes), so the same folder can be
polled again and again. Files are read in name order; sub-folders are not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from triage.mailbox.base import Fetched, FolderState, Listing, MailboxConfigError, MailboxError, MessageKey
from triage.mailbox.local import LocalMailbox


class FolderMailbox(LocalMailbox):
    """The `*.eml` files of one folder; keys are file names."""

    kind = "folder"
    uses_uids = False
    can_file = False

    def connect(self, *, readonly: bool = False) -> None:
        if not self.path.is_dir():
            raise MailboxConfigError(f"mailbox {self.name!r}: folder {str(self.path)!r} does not exist")
        self.connected = True

    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in self.path.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
        except OSError as exc:
            raise MailboxError(f"mailbox {self.name!r}: cannot read folder {str(self.path)!r}: {exc.strerror or exc}") from None

    def select(self) -> FolderState:
        return FolderState(uidvalidity=None, exists=len(self._files()))

    def list_messages(self, after: int | None = None, *, message_ids: bool = False) -> list[Listing]:
        listings = []
        for path in self._files():
            try:
                size = path.stat().st_size
            except OSError:
                continue  # removed while we looked
            listings.append(Listing(key=path.name, size=size))
        return listings

    def fetch(self, keys: Sequence[MessageKey]) -> list[Fetched]:
        fetched = (self._read(key, self.path / str(key), origin=str(self.path / str(key))) for key in keys)
        return [one for one in fetched if one is not None]

    def present(self, keys: Sequence[MessageKey]) -> set[MessageKey]:
        return {key for key in keys if (self.path / str(key)).is_file()}

    def file(self, keys: Sequence[MessageKey], destination: str | None, *, keyword: str | None,
             recovering: bool = False) -> None:
        """Read-only: a folder of files is never changed, so there is nothing to do."""

    def append(self, folder: str, raw: bytes, *, flags: Sequence[str] = (), received_at: datetime | None = None) -> None:
        raise MailboxError(f"mailbox {self.name!r} is a read-only folder of .eml files: nothing can be appended")
