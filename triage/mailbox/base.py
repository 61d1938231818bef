"""The mailbox boundary: what the worker asks of a mailbox, whatever kind it is.

A mailbox is read through a `MailboxSource`: select the watched folder (one answer that says
whether anything is new), list and fetch messages, file them (tag with a keyword and/or move
to a folder), append, wait for a change (IMAP IDLE), close. The IMAP, Maildir and folder kinds
implement it; the worker never talks to imapclient or the file system itself (STYLE habit 7),
and unit tests can hand the worker a fake source.

Errors say what the operator must do: `MailboxAuthError` and `MailboxConfigError` are
permanent (the worker stops that mailbox and says why), `MailboxConnectionError` is transient
(the worker reconnects with backoff), `UidValidityUnknown` means "do not ingest".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Protocol, runtime_checkable

#: An IMAP UID (int, meaningful under one UIDVALIDITY) or a file name / Maildir key (str).
MessageKey = int | str


#: Only this much of a message is read to find its Message-ID without the parser.
HEADER_SCAN_BYTES = 256 * 1024


def header_message_id(data: bytes | None) -> str | None:
    """The Message-ID header of a message (or of a fetched header block), read as the store reads it."""
    if not data:
        return None
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(data[:HEADER_SCAN_BYTES]).get("Message-ID")
        text = str(value).strip() if value is not None else ""
    except Exception:  # noqa: BLE001 - a hostile header block means "no Message-ID"
        return None
    return text if text.strip("<>").strip() else None


class MailboxError(Exception):
    """Something went wrong talking to the mailbox; the message says what and where."""


class MailboxConnectionError(MailboxError):
    """The connection failed or dropped (refused, reset, timeout, BYE): reconnect and retry."""


class MailboxAuthError(MailboxError):
    """The server refused the credentials: retrying will not help, a person must fix them."""


class MailboxConfigError(MailboxError):
    """The mailbox cannot be used as configured (missing secret, folder, untrusted certificate)."""


class UidValidityUnknown(MailboxError):
    """The server did not say the folder's UIDVALIDITY: UIDs cannot be trusted, so nothing is ingested."""


@dataclass(frozen=True)
class FolderState:
    """What one SELECT (or a look at a folder on disk) says about the watched folder.

    `uidvalidity` is None for mailboxes without UIDs (Maildir, folder of files).
    """

    uidvalidity: int | None
    uidnext: int | None = None
    highestmodseq: int | None = None
    exists: int | None = None


@dataclass(frozen=True)
class Listing:
    """One message in the watched folder, before its bytes are fetched."""

    key: MessageKey
    size: int | None = None
    #: The raw Message-ID header, only when asked for (the re-scan after a UIDVALIDITY change).
    message_id: str | None = None


@dataclass(frozen=True)
class Fetched:
    """One message's bytes as the mailbox gave them; `raw` None with `error` when it would not."""

    key: MessageKey
    raw: bytes | None
    received_at: datetime | None = None
    #: Where it came from, for people reading the stored row (file path, Maildir key, folder/UID).
    origin: str | None = None
    error: str | None = None


@runtime_checkable
class MailboxSource(Protocol):
    """One function mailbox, opened for reading and filing (see the module docstring)."""

    name: str
    kind: str
    #: Keys are IMAP UIDs under `FolderState.uidvalidity` (else file names / Maildir keys).
    uses_uids: bool
    #: Messages can be tagged or moved; False for a read-only folder of files.
    can_file: bool
    #: Commands sent to the server so far (IMAP); 0 for local kinds.
    round_trips: int
    #: Whether `connect` succeeded and the connection has not been seen to break since.
    connected: bool

    def connect(self, *, readonly: bool = False) -> None:
        """Open the mailbox; unless `readonly`, create the folders it files into when missing."""

    def select(self) -> FolderState:
        """Select the watched folder (read-only when connected so) and say where it stands."""

    def list_messages(self, after: int | None = None, *, message_ids: bool = False) -> list[Listing]:
        """The messages in the watched folder (with a UID above `after`, for IMAP), oldest first."""

    def fetch(self, keys: Sequence[MessageKey]) -> list[Fetched]:
        """The raw bytes of these messages, without marking them read."""

    def present(self, keys: Sequence[MessageKey]) -> set[MessageKey]:
        """Which of these messages are still in the watched folder."""

    def file(self, keys: Sequence[MessageKey], destination: str | None, *, keyword: str | None,
             recovering: bool = False) -> None:
        """Tag the messages with `keyword` and move them to `destination` (None: tag in place).

        `recovering`: filing after a crash, when part of an earlier attempt may have been done.
        """

    def append(self, folder: str, raw: bytes, *, flags: Sequence[str] = (), received_at: datetime | None = None) -> None:
        """Put a message into a folder of this mailbox (drafts, digests, tests)."""

    def supports_idle(self) -> bool:
        """Whether `wait_for_change` can be told of new mail by the server (IMAP IDLE)."""

    def wait_for_change(self, timeout: float, stop: threading.Event) -> bool:
        """Wait up to `timeout` seconds (less once `stop` is set) for new mail; True when some came."""

    def close(self) -> None:
        """Close the connection; never raises."""
