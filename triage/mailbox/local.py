"""What the two local mailboxes (a folder of `.eml` files, a Maildir) have in common.

Both live on this machine's file system: no connection to keep, no IDLE (the worker polls them on
its interval), and a message is one file whose modification time stands in for its arrival.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from triage.config import MailboxConfig
from triage.mailbox.base import Fetched, MessageKey


class LocalMailbox:
    """Base of `FolderMailbox` and `MaildirMailbox`; `path` is the folder the config names."""

    kind = "local"

    def __init__(self, config: MailboxConfig) -> None:
        self.config = config
        self.name = config.name
        self.path = Path(config.path or ".")
        self.round_trips = 0
        self.connected = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {str(self.path)!r})"

    def _read(self, key: MessageKey, path: Path, origin: str) -> Fetched | None:
        """The message in `path`, a `Fetched` carrying the read error, or None when it is gone."""
        try:
            raw = path.read_bytes()
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:
            return None  # moved or deleted since it was listed
        except OSError as exc:
            return Fetched(key=key, raw=None, origin=str(path), error=f"read: {exc.strerror or exc}")
        return Fetched(key=key, raw=raw, received_at=mtime, origin=origin)

    def supports_idle(self) -> bool:
        return False

    def wait_for_change(self, timeout: float, stop: threading.Event) -> bool:
        """No change notification on a plain file system here: sleep out the poll interval."""
        stop.wait(timeout)
        return False

    def close(self) -> None:
        self.connected = False
