"""What runs right after a message is stored: the plug-in point for later stages (replies).

A hook is any callable `hook(session, message, result)`. The runner calls every hook once per
newly stored message, inside that message's transaction and after the message row is flushed,
each in a savepoint of its own: what a hook writes commits with the message, or, when the
worker dies before the commit, is rolled back with it (the message is then fetched and judged
again, and the hooks run again). A hook that raises has its own writes rolled back and is
logged; the message stays stored and the loop goes on (STYLE habit 6). Hooks never run for a
message that was already stored (re-polls, restarts, duplicates) nor in a dry run.

A hook must not talk to the network inside the transaction for long; one that sends mail should
claim its work here (e.g. `store.claim_reply`) and send it after, idempotently.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from triage.db.schema import Message
from triage.results import TriageResult


class AfterStoreHook(Protocol):
    """Called once per newly stored message, in its transaction."""

    def __call__(self, session: Session, message: Message, result: TriageResult) -> None: ...


_registered: list[AfterStoreHook] = []


def register_hook(hook: AfterStoreHook) -> AfterStoreHook:
    """Add a hook for every runner made from now on (usable as a decorator); registering twice is a no-op."""
    if hook not in _registered:
        _registered.append(hook)
    return hook


def unregister_hook(hook: AfterStoreHook) -> None:
    """Remove a hook added with `register_hook` (tests)."""
    if hook in _registered:
        _registered.remove(hook)


def registered_hooks() -> list[AfterStoreHook]:
    """The hooks registered so far, in registration order."""
    return list(_registered)


def hook_name(hook: AfterStoreHook) -> str:
    """A readable name for log lines."""
    return getattr(hook, "__qualname__", None) or getattr(hook, "__name__", None) or type(hook).__name__
