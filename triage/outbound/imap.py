"""Append one message to a folder of a configured mailbox: the digest folder, or Drafts.

Goes through the worker's mailbox boundary (`triage.mailbox.open_mailbox`), so TLS, login,
XOAUTH2 and the server's folder delimiter work exactly as for reading. The folder is created
(and subscribed, so Outlook shows it) when it does not exist yet; a Maildir gets the Maildir++
sub-folder; a read-only folder of `.eml` files cannot take a message and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from triage.config import MailboxConfig
from triage.mailbox import MailboxError, MailboxSource, open_mailbox

#: How a draft is flagged: a draft, already read (it is ours).
DRAFT_FLAGS: tuple[str, ...] = ("\\Draft", "\\Seen")

Opener = Callable[..., MailboxSource]


class AppendError(RuntimeError):
    """The message could not be put into the folder; the message says where and why."""


def can_append(mailbox: MailboxConfig) -> bool:
    """Whether this kind of mailbox can hold appended messages (a folder of .eml files cannot)."""
    return mailbox.kind in ("imap", "maildir")


def append_message(
    mailbox: MailboxConfig,
    folder: str,
    raw: bytes,
    *,
    flags: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    opener: Opener = open_mailbox,
) -> None:
    """APPEND `raw` to `folder` of `mailbox`, creating the folder when missing; AppendError on failure.

    The connection is the boundary's, opened for this one message and closed again: digests
    and drafts are a few a day, so a pooled connection would buy nothing.
    """
    if not can_append(mailbox):
        raise AppendError(f"mailbox {mailbox.name!r} is a {mailbox.kind} mailbox: nothing can be appended to it")
    # The boundary creates the folders it files into when it connects for writing; naming our
    # folder as the only one makes it create exactly that one, through the same code path.
    config = dataclasses.replace(mailbox, processed_folder=folder, review_folder=None, failed_folder=None)
    source = opener(config, environ=environ)
    try:
        source.connect(readonly=folder.upper() == "INBOX")
        source.append(folder, raw, flags=tuple(flags))
    except MailboxError as exc:
        raise AppendError(f"mailbox {mailbox.name!r}: cannot append to {folder!r}: {exc}") from None
    finally:
        source.close()
