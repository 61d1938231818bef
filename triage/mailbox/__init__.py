"""The mailbox boundary: IMAP (imapclient), a local Maildir, or a read-only folder of `.eml` files.

`open_mailbox(config)` gives the `MailboxSource` for one configured mailbox; the worker uses
nothing else from here. See `base.py` for the interface and the errors.
"""

from __future__ import annotations

from collections.abc import Mapping

from triage.config import MailboxConfig
from triage.mailbox.base import (
    Fetched,
    FolderState,
    Listing,
    MailboxAuthError,
    MailboxConfigError,
    MailboxConnectionError,
    MailboxError,
    MailboxSource,
    MessageKey,
    UidValidityUnknown,
)
from triage.mailbox.oauth import HttpPost, token_provider, urllib_post

__all__ = [
    "Fetched", "FolderState", "Listing", "MailboxAuthError", "MailboxConfigError", "MailboxConnectionError",
    "MailboxError", "MailboxSource", "MessageKey", "UidValidityUnknown", "open_mailbox",
]


def open_mailbox(
    config: MailboxConfig,
    *,
    environ: Mapping[str, str] | None = None,
    http_post: HttpPost = urllib_post,
) -> MailboxSource:
    """The source for one mailbox of the config (not yet connected).

    `environ` is where secrets named by the config are looked up (default: the process
    environment); `http_post` is the HTTP client for the OAuth client-credentials flow.
    """
    if config.kind == "imap":
        from triage.mailbox.imap import ImapMailbox

        tokens = token_provider(config.oauth, environ=environ, http_post=http_post) if config.auth == "xoauth2" else None
        return ImapMailbox(config, environ=environ, tokens=tokens)
    if config.kind == "maildir":
        from triage.mailbox.maildir import MaildirMailbox

        return MaildirMailbox(config)
    if config.kind == "folder":
        from triage.mailbox.folder import FolderMailbox

        return FolderMailbox(config)
    raise MailboxConfigError(f"mailbox {config.name!r}: unknown kind {config.kind!r}")
