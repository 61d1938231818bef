"""`ImapMailbox` with a canned client (the `client_factory` seam): the decisions, no server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from imapclient.exceptions import LoginError

from triage.config import MailboxConfig, OAuthConfig, Secret
from triage.mailbox import MailboxAuthError, MailboxConfigError, MailboxConnectionError
from triage.mailbox.base import header_message_id
from triage.mailbox.imap import ImapMailbox, uid_set
from triage.mailbox.oauth import AccessToken

BASE_CAPS = (b"IMAP4REV1", b"IDLE", b"ENABLE", b"UIDPLUS", b"MOVE", b"CONDSTORE")


class CannedClient:
    """Just enough of IMAPClient; records every call."""

    def __init__(self, script: dict[str, Any], calls: list[tuple], *args: Any, **kwargs: Any) -> None:
        self.script = script
        self.calls = calls
        calls.append(("connect", kwargs.get("ssl"), kwargs.get("port")))
        self.normalise_times = True

    def capabilities(self):
        return self.script.get("caps", BASE_CAPS)

    def starttls(self, context):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user))
        if self.script.get("login_error"):
            raise LoginError(self.script["login_error"])

    def plain_login(self, user, password):
        self.calls.append(("plain_login", user))

    def oauth2_login(self, user, token):
        self.calls.append(("oauth2_login", user, token))
        refused = self.script.get("refuse_tokens", ())
        if token in refused:
            raise LoginError("[AUTHENTICATIONFAILED] Authentication failed.")

    def enable(self, *caps):
        self.calls.append(("enable", *caps))

    def list_folders(self):
        delimiter = self.script.get("delimiter", b"/")
        return [((b"\\HasNoChildren",), delimiter, "INBOX")] + [
            ((), delimiter, name) for name in self.script.get("folders", [])
        ]

    def create_folder(self, name):
        self.calls.append(("create", name))

    def subscribe_folder(self, name):
        self.calls.append(("subscribe", name))

    def select_folder(self, folder, readonly=False):
        self.calls.append(("select", folder, readonly))
        return {b"UIDVALIDITY": 42, b"UIDNEXT": 10, b"EXISTS": 3,
                b"PERMANENTFLAGS": self.script.get("permanentflags", (b"\\Seen", b"\\Deleted", b"\\*"))}

    def add_flags(self, uids, flags, silent=False):
        self.calls.append(("store", uids, tuple(flags)))

    def move(self, uids, folder):
        self.calls.append(("move", uids, folder))

    def copy(self, uids, folder):
        self.calls.append(("copy", uids, folder))

    def uid_expunge(self, uids):
        self.calls.append(("uid_expunge", uids))

    def fetch(self, uids, items):
        return {uid: {b"FLAGS": (b"\\Deleted",) if uid in self.script.get("deleted", ()) else ()} for uid in uids}

    def logout(self):
        self.calls.append(("logout",))

    def shutdown(self):
        pass


def mailbox(script: dict[str, Any] | None = None, calls: list | None = None, **overrides) -> tuple[ImapMailbox, list]:
    calls = [] if calls is None else calls
    script = script or {}
    tokens = overrides.pop("tokens", None)
    values: dict[str, Any] = dict(name="unit", kind="imap", host="imap.region.se", tls="ssl", username="samverkan",
                                  password_env="PW")
    values.update(overrides)
    box = ImapMailbox(MailboxConfig(**values), environ={"PW": "pw"}, tokens=tokens,
                      client_factory=lambda *a, **k: CannedClient(script, calls, *a, **k))
    return box, calls


def test_uid_set_is_compact():
    assert uid_set([3, 1, 2, 7, 9, 10, 10]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"
    with pytest.raises(ValueError):
        uid_set([])


def test_header_message_id_reads_the_header_block():
    assert header_message_id(b"Message-ID: <a@b>\r\n\r\n") == "<a@b>"
    assert header_message_id(b"Subject: x\r\n\r\nMessage-ID: <not@header>\r\n") is None
    assert header_message_id(b"Message-ID: <>\r\n\r\n") is None
    assert header_message_id(b"") is None


def test_connect_enables_condstore_and_creates_missing_folders():
    box, calls = mailbox({"folders": ["Triage/Processed"]})
    box.connect()
    assert ("connect", True, 993) in calls
    assert ("enable", "CONDSTORE") in calls
    assert ("create", "Triage/Needs review") in calls and ("create", "Triage/Failed") in calls
    assert ("create", "Triage/Processed") not in calls


def test_a_dot_delimiter_is_used_for_folder_names():
    box, calls = mailbox({"delimiter": b"."})
    box.connect()
    assert ("create", "Triage.Processed") in calls
    box.select()
    box.file([1, 2], "Triage/Processed", keyword="$Triaged")
    assert ("move", "1:2", "Triage.Processed") in calls


def test_filing_without_move_copies_flags_and_expunges_only_ours():
    caps = (b"IMAP4REV1", b"UIDPLUS")
    box, calls = mailbox({"caps": caps})
    box.connect()
    box.select()
    calls.clear()
    box.file([4, 5], "Triage/Processed", keyword="$Triaged")
    assert calls == [("store", "4:5", ("$Triaged",)), ("copy", "4:5", "Triage/Processed"),
                     ("store", "4:5", (b"\\Deleted",)), ("uid_expunge", "4:5")]


def test_without_uidplus_nothing_is_expunged():
    box, calls = mailbox({"caps": (b"IMAP4REV1",)})
    box.connect()
    box.select()
    box.file([4], "Triage/Failed", keyword="$Triaged")
    assert not any(call[0] == "uid_expunge" for call in calls)
    assert ("store", "4", (b"\\Deleted",)) in calls


def test_no_keyword_when_the_server_cannot_keep_one():
    box, calls = mailbox({"permanentflags": (b"\\Seen", b"\\Deleted")})
    box.connect()
    box.select()
    box.file([4], "Triage/Processed", keyword="$Triaged")
    assert not any(call[0] == "store" for call in calls)
    assert ("move", "4", "Triage/Processed") in calls


def test_read_only_connection_examines_and_creates_nothing():
    box, calls = mailbox()
    box.connect(readonly=True)
    box.select()
    assert ("select", "INBOX", True) in calls
    assert not any(call[0] == "create" for call in calls)


def test_login_failures_are_sorted():
    box, _calls = mailbox({"login_error": "[AUTHENTICATIONFAILED] Authentication failed."})
    with pytest.raises(MailboxAuthError, match="'samverkan'.*password_env 'PW'"):
        box.connect()
    box, _calls = mailbox({"login_error": "[UNAVAILABLE] Temporary authentication failure."})
    with pytest.raises(MailboxConnectionError):
        box.connect()
    box, _calls = mailbox(password_env="UNSET")
    with pytest.raises(MailboxConfigError, match="UNSET is not set"):
        box.connect()


def test_starttls_must_be_offered():
    box, calls = mailbox({"caps": BASE_CAPS}, tls="starttls")
    with pytest.raises(MailboxConfigError, match="STARTTLS"):
        box.connect()
    box, calls = mailbox({"caps": BASE_CAPS + (b"STARTTLS",)}, tls="starttls")
    box.connect()
    assert ("connect", False, 143) in calls and ("starttls",) in calls


class Tokens:
    def __init__(self, *values: str, expires_at: float | None = None) -> None:
        self.values = list(values)
        self.expires_at = expires_at
        self.invalidated = 0

    def token(self) -> AccessToken:
        return AccessToken(Secret(self.values[0]), self.expires_at)

    def invalidate(self) -> None:
        self.invalidated += 1
        if len(self.values) > 1:
            self.values.pop(0)


def test_xoauth2_retries_once_with_a_fresh_token_and_never_twice_the_same():
    tokens = Tokens("revoked", "fresh")
    box, calls = mailbox({"refuse_tokens": ("revoked",)}, auth="xoauth2", tokens=tokens,
                         oauth=OAuthConfig(token_file="/dev/null"))
    box.connect()
    assert [c for c in calls if c[0] == "oauth2_login"] == [("oauth2_login", "samverkan", "revoked"),
                                                             ("oauth2_login", "samverkan", "fresh")]
    same = Tokens("revoked")
    box, calls = mailbox({"refuse_tokens": ("revoked",)}, auth="xoauth2", tokens=same,
                         oauth=OAuthConfig(token_file="/dev/null"))
    with pytest.raises(MailboxAuthError, match="XOAUTH2"):
        box.connect()
    assert len([c for c in calls if c[0] == "oauth2_login"]) == 1


def test_a_token_near_expiry_means_a_new_login():
    now = [1000.0]
    tokens = Tokens("t1", expires_at=1000.0 + 3600)
    calls: list = []
    box = ImapMailbox(MailboxConfig(name="u", kind="imap", host="h", username="u", auth="xoauth2"),
                      tokens=tokens, clock=lambda: now[0],
                      client_factory=lambda *a, **k: CannedClient({}, calls, *a, **k))
    box.connect()
    box.connect()  # fresh: nothing happens
    assert len([c for c in calls if c[0] == "connect"]) == 1
    now[0] += 3600 - 299  # inside the 300 s refresh margin
    box.connect()
    assert len([c for c in calls if c[0] == "connect"]) == 2


def test_idle_needs_a_connection():
    box, _calls = mailbox()
    with pytest.raises(MailboxConnectionError):
        box.wait_for_change(0.1, threading.Event())
    assert "pw" not in repr(box)
