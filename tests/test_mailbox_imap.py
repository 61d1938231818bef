"""`ImapMailbox` against a real Dovecot: folders, SELECT, PEEK, filing with and without MOVE, IDLE, errors."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.intake import (  # noqa: F401 - fixtures
    ENVIRON,
    append,
    client,
    dovecot,
    dovecot_auth,
    dovecot_normal,
    folder_flags,
    hard_restart,
    imap_mailbox,
    mail,
)
from triage.mailbox import MailboxAuthError, MailboxConnectionError, open_mailbox
from triage.mailbox.imap import ImapMailbox

pytestmark = pytest.mark.dovecot


def source(server, **overrides) -> ImapMailbox:
    box = open_mailbox(imap_mailbox(server, **overrides), environ=ENVIRON)
    assert isinstance(box, ImapMailbox)
    return box


def folders(server) -> set[str]:
    c = client(server)
    try:
        return {name for _f, _d, name in c.list_folders()}
    finally:
        c.logout()


def test_connect_creates_the_file_into_folders_unless_read_only(dovecot):
    box = source(dovecot)
    box.connect(readonly=True)
    box.close()
    assert "Triage/Processed" not in folders(dovecot)
    box.connect()
    box.close()
    assert {"Triage/Processed", "Triage/Needs review", "Triage/Failed"} <= folders(dovecot)
    c = client(dovecot)
    assert "Triage/Failed" in {name for _f, _d, name in c.list_sub_folders()}  # subscribed: clients show it
    c.logout()


def test_select_is_one_round_trip_with_what_the_poll_needs(dovecot):
    append(dovecot, mail(), mail())
    box = source(dovecot)
    box.connect()
    before = box.round_trips
    state = box.select()
    assert box.round_trips - before == 1
    assert state.uidvalidity and state.uidnext == 3 and state.exists == 2
    if dovecot.exchange_like:
        assert state.highestmodseq is None  # no CONDSTORE: UIDNEXT alone
    else:
        assert state.highestmodseq is not None  # CONDSTORE enabled at login
    box.close()


def test_listing_above_the_last_uid_is_empty_despite_the_star_rule(dovecot):
    append(dovecot, mail(), mail(), mail())
    box = source(dovecot)
    box.connect()
    box.select()
    assert [item.key for item in box.list_messages()] == [1, 2, 3]
    assert [item.key for item in box.list_messages(after=1)] == [2, 3]
    assert box.list_messages(after=3) == []  # "4:*" names UID 3 on the wire; it is not new
    with_ids = box.list_messages(message_ids=True)
    assert all(item.message_id and item.message_id.startswith("<intake-") for item in with_ids)
    box.close()


def test_fetch_peeks_and_keeps_the_bytes_and_date(dovecot):
    raw = mail()
    append(dovecot, raw)
    box = source(dovecot)
    box.connect()
    box.select()
    [fetched] = box.fetch([1])
    assert fetched.raw == raw
    assert fetched.received_at is not None and fetched.received_at.utcoffset().total_seconds() == 0
    assert all("\\Seen" not in flags for flags in folder_flags(dovecot, "INBOX").values())
    assert box.fetch([99]) == []  # gone: nothing, not an error
    box.close()


def test_file_moves_with_the_keyword_with_or_without_move(dovecot):
    append(dovecot, mail(), mail(), mail())
    box = source(dovecot)
    box.connect()
    box.select()
    box.file([1, 3], "Triage/Processed", keyword="$Triaged")
    box.file([2], None, keyword="$Triaged")  # tag only
    inbox = folder_flags(dovecot, "INBOX")
    processed = folder_flags(dovecot, "Triage/Processed")
    assert len(inbox) == 1 and "$Triaged" in next(iter(inbox.values()))
    assert len(processed) == 2
    assert all("$Triaged" in f and "\\Deleted" not in f for f in processed.values())
    box.close()


def test_recovery_does_not_copy_twice_without_move():
    """MOVE is atomic; only COPY + \\Deleted + UID EXPUNGE (Exchange) can be left half done."""
    from tests.support.intake import _pool

    _recover_half_done_copy(_pool("exchange_like").take())


def _recover_half_done_copy(dovecot):
    append(dovecot, mail())
    box = source(dovecot)
    box.connect()
    box.select()
    c = client(dovecot)
    c.select_folder("INBOX")
    c.copy([1], "Triage/Processed")  # a crash after COPY and \Deleted, before UID EXPUNGE
    c.add_flags([1], ["\\Deleted"])
    c.logout()
    box.file([1], "Triage/Processed", keyword="$Triaged", recovering=True)
    assert len(folder_flags(dovecot, "Triage/Processed")) == 1
    assert folder_flags(dovecot, "INBOX") == {}
    box.close()


def test_idle_wakes_on_new_mail_and_ends_on_timeout_or_stop(dovecot):
    box = source(dovecot)
    box.connect()
    box.select()
    assert box.supports_idle()
    stop = threading.Event()
    started = time.monotonic()
    assert box.wait_for_change(1.5, stop) is False
    assert 1.2 < time.monotonic() - started < 4

    threading.Timer(0.5, lambda: append(dovecot, mail())).start()
    started = time.monotonic()
    assert box.wait_for_change(20, stop) is True
    assert time.monotonic() - started < 5

    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    box.wait_for_change(20, stop)
    assert time.monotonic() - started < 3
    box.select()  # the session is usable after DONE
    box.close()


def test_a_server_restart_during_idle_is_a_connection_error(dovecot_normal):
    box = source(dovecot_normal)
    box.connect()
    box.select()
    restart = threading.Timer(0.5, lambda: hard_restart(dovecot_normal))
    restart.start()
    try:
        with pytest.raises(MailboxConnectionError):
            box.wait_for_change(20, threading.Event())
    finally:
        restart.join()
    assert not box.connected
    box.connect()  # and a new connection works
    assert box.select().uidvalidity
    box.close()


def test_login_plain_and_wrong_password(dovecot_auth):
    box = source(dovecot_auth, auth="plain")
    box.connect()
    assert box.connected
    box.close()
    bad = open_mailbox(imap_mailbox(dovecot_auth, password_env="WRONG"), environ={"WRONG": "nope-nope"})
    with pytest.raises(MailboxAuthError) as caught:
        bad.connect()
    message = str(caught.value)
    assert f"refused the login of user {dovecot_auth.user!r} (LOGIN)" in message and "AUTHENTICATIONFAILED" in message
    assert "nope-nope" not in message


def test_append_puts_a_message_in_a_folder(dovecot):
    box = source(dovecot)
    box.connect()
    box.append("Drafts", mail(subject="Utkast"), flags=["\\Draft"])
    drafts = folder_flags(dovecot, "Drafts")
    assert len(drafts) == 1 and "\\Draft" in next(iter(drafts.values()))
    box.close()
