"""The worker against a real Dovecot: poll, file, exactly once, UIDVALIDITY, faults, dry run, IDLE.

The core tests run twice: against Dovecot as it is, and against Dovecot advertising Exchange
Online's capabilities (no MOVE, no CONDSTORE), so both filing paths are exercised for real.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from tests.support.intake import (  # noqa: F401 - fixtures
    ENVIRON,
    GARBAGE,
    Db,
    append,
    client,
    db,
    dovecot,
    dovecot_auth,
    dovecot_normal,
    folder_count,
    folder_flags,
    hard_restart,
    imap_mailbox,
    mail,
    runner,
    sqlite_db,
)
from triage.config import Settings
from triage.db import store
from triage.db.schema import MailboxState, Message, Reply
from triage.worker import runner as runner_module
from triage.worker.runner import run_once

pytestmark = pytest.mark.dovecot

PROCESSED, REVIEW, FAILED = "Triage/Processed", "Triage/Needs review", "Triage/Failed"


def _by_message_id(database: Db) -> dict[str | None, Message]:
    return {m.message_id: m for m in database.messages()}


# --- poll and file ----------------------------------------------------------------------------

def test_poll_processes_new_mail_and_files_it(dovecot, db):
    good = [mail() for _ in range(3)]
    append(dovecot, *good)
    report = runner(db, imap_mailbox(dovecot)).poll()

    assert report.error is None
    assert (report.new, report.processed, report.failed, report.filed) == (3, 3, 0, 3)
    rows = db.messages()
    assert [r.status for r in rows] == ["processed"] * 3
    assert all(r.filed and r.filed_folder in (PROCESSED, REVIEW) for r in rows)
    assert [r.uid for r in rows] == [1, 2, 3] and len({r.uidvalidity for r in rows}) == 1
    assert folder_count(dovecot, "INBOX") == 0
    filed = {**folder_flags(dovecot, PROCESSED), **folder_flags(dovecot, REVIEW)}
    assert len(filed) == 3
    for flags in filed.values():
        assert "$Triaged" in flags
        assert "\\Seen" not in flags  # BODY.PEEK[]: the people sharing the mailbox still see it as new
        assert "\\Deleted" not in flags


def test_malformed_message_is_stored_with_its_error_and_moved_to_failed(dovecot, db):
    append(dovecot, mail(), GARBAGE, mail())
    report = runner(db, imap_mailbox(dovecot)).poll()

    assert report.error is None
    assert (report.processed, report.failed) == (2, 1)
    failed = [m for m in db.messages() if m.status == "failed"]
    assert len(failed) == 1
    assert failed[0].error.startswith("parse:")
    assert failed[0].filed_folder == FAILED
    with db.sessions() as session:
        assert session.get(Message, failed[0].id).raw == GARBAGE  # kept byte for byte
    assert folder_count(dovecot, FAILED) == 1
    assert folder_count(dovecot, "INBOX") == 0


def test_second_poll_fetches_nothing_and_costs_one_round_trip(dovecot, db):
    append(dovecot, mail(), mail())
    worker = runner(db, imap_mailbox(dovecot))
    assert worker.poll().processed == 2

    again = worker.poll()
    assert again.unchanged and again.new == 0
    assert again.round_trips == 1  # one SELECT answer, nothing else

    append(dovecot, mail())
    assert worker.poll().processed == 1
    assert worker.poll().round_trips == 1
    assert len(db.messages()) == 3


def test_a_restarted_worker_polls_an_unchanged_mailbox_in_one_round_trip(dovecot, db):
    append(dovecot, mail())
    first = runner(db, imap_mailbox(dovecot))
    first.poll()
    first.close()
    second = runner(db, imap_mailbox(dovecot))  # a new process: state comes from the database
    report = second.poll()
    assert report.unchanged and report.round_trips == 1


def test_keyword_only_mode_tags_in_place(dovecot, db):
    mailbox = imap_mailbox(dovecot, processed_folder=None, review_folder=None, failed_folder=None)
    append(dovecot, mail(), GARBAGE)
    worker = runner(db, mailbox)
    report = worker.poll()
    assert (report.processed, report.failed, report.filed) == (1, 1, 2)
    flags = folder_flags(dovecot, "INBOX")
    assert len(flags) == 2 and all("$Triaged" in f and "\\Seen" not in f for f in flags.values())
    assert worker.poll().round_trips == 1
    assert runner(db, mailbox).poll().new == 0  # restarted: nothing taken twice
    assert len(db.messages()) == 2


def test_a_message_marked_but_not_stored_is_fetched_again(dovecot, db):
    """The keyword is not trusted as 'stored': only the store says what was taken."""
    raw = mail()
    append(dovecot, raw)
    c = client(dovecot)
    c.select_folder("INBOX")
    c.add_flags([1], ["$Triaged"])  # as if filed by a worker whose database was then lost
    c.logout()
    report = runner(db, imap_mailbox(dovecot)).poll()
    assert report.processed == 1
    assert len(db.messages()) == 1 and folder_count(dovecot, PROCESSED) + folder_count(dovecot, REVIEW) == 1


def test_stored_but_not_filed_is_filed_at_the_next_start(dovecot, db, monkeypatch):
    append(dovecot, *(mail() for _ in range(4)))
    from triage.mailbox.imap import ImapMailbox

    real_file = ImapMailbox.file

    def crash(*args, **kwargs):
        raise runner_module.MailboxError("simulated crash between the commit and the move")

    monkeypatch.setattr(ImapMailbox, "file", crash)
    report = runner(db, imap_mailbox(dovecot)).poll()
    assert report.error and report.processed == 4
    assert not any(m.filed for m in db.messages())
    assert folder_count(dovecot, "INBOX") == 4

    monkeypatch.setattr(ImapMailbox, "file", real_file)
    report = runner(db, imap_mailbox(dovecot)).poll()
    assert report.error is None
    assert (report.recovered, report.new, report.processed) == (4, 0, 0)
    rows = db.messages()
    assert len(rows) == 4 and all(m.filed and m.attempts == 1 for m in rows)
    assert folder_count(dovecot, "INBOX") == 0


def test_duplicate_delivery_is_tagged_not_judged_or_moved_twice(dovecot, db):
    raw = mail()
    append(dovecot, raw)
    calls = []
    worker = runner(db, imap_mailbox(dovecot), hooks=[lambda session, message, result: calls.append(message.id)])
    worker.poll()
    append(dovecot, raw)  # the same mail delivered again (same Message-ID), e.g. To + Cc
    report = worker.poll()
    assert (report.known, report.processed) == (1, 0)
    assert len(db.messages()) == 1 and calls == [db.messages()[0].id]
    inbox = folder_flags(dovecot, "INBOX")
    assert len(inbox) == 1 and "$Triaged" in next(iter(inbox.values()))  # tagged where a person put it


def test_hooks_run_once_inside_the_transaction_and_a_failing_hook_costs_nothing(dovecot_normal, db):
    append(dovecot_normal, mail(), mail())
    seen = []

    def good_hook(session, message, result):
        seen.append((message.id, result.subject))
        store.claim_reply(session, message, mode="draft", recipient="anna@nordlys-pharma.se", status="pending")

    def bad_hook(session, message, result):
        store.update_mailbox_state(session, "written-by-a-failing-hook")
        raise RuntimeError("boom")

    worker = runner(db, imap_mailbox(dovecot_normal), hooks=[good_hook, bad_hook])
    report = worker.poll()
    worker.poll()
    assert report.processed == 2 and report.hook_errors == 2
    assert len(seen) == 2 and all(subject and subject.startswith("Inbjudan") for _id, subject in seen)
    with db.sessions() as session:
        assert len(session.scalars(select(Reply)).all()) == 2  # the good hook's writes committed with the message
        assert session.get(MailboxState, "written-by-a-failing-hook") is None  # the bad one's rolled back


# --- UIDVALIDITY ------------------------------------------------------------------------------

def test_uidvalidity_change_processes_nothing_twice(dovecot, db):
    mailbox = imap_mailbox(dovecot, folder="Intake", processed_folder=None, review_folder=None, failed_folder=None)
    old = [mail() for _ in range(3)]
    c = client(dovecot)
    c.create_folder("Intake")
    c.logout()
    append(dovecot, *old, folder="Intake")
    worker = runner(db, mailbox)
    assert worker.poll().processed == 3
    before = {m.message_id: (m.id, m.uidvalidity) for m in db.messages()}

    # The folder is deleted and made again (a migration, a restore): new UIDVALIDITY, same mails.
    c = client(dovecot)
    c.delete_folder("Intake")
    c.create_folder("Intake")
    c.logout()
    new = mail()
    append(dovecot, *old, new, folder="Intake")
    report = worker.poll()

    assert report.error is None and report.uidvalidity_changed
    assert (report.known, report.processed) == (3, 1)
    rows = db.messages()
    assert len(rows) == 4 and all(m.attempts == 1 for m in rows)
    for message_id, (pk, old_uidvalidity) in before.items():
        row = next(m for m in rows if m.message_id == message_id)
        assert row.id == pk and row.uidvalidity != old_uidvalidity  # found again by Message-ID, now at its new place
    assert all("$Triaged" in flags for flags in folder_flags(dovecot, "Intake").values())
    assert worker.poll().round_trips == 1


# --- faults -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_server_restart_during_a_poll_reconnects_and_finishes(dovecot, db, monkeypatch):
    monkeypatch.setattr(runner_module, "FETCH_BATCH_MESSAGES", 5)
    append(dovecot, *(mail() for _ in range(20)))
    restarted = []

    def restart_once(session, message, result):
        if message.uid == 7 and not restarted:
            restarted.append(True)
            hard_restart(dovecot)  # BYE, connection gone: the next command fails

    report = runner(db, imap_mailbox(dovecot), hooks=[restart_once]).poll()
    assert restarted and report.error is None
    assert report.reconnects >= 1
    rows = db.messages()
    assert len(rows) == 20 and len({m.message_id for m in rows}) == 20
    assert all(m.filed and m.attempts == 1 for m in rows)
    assert folder_count(dovecot, "INBOX") == 0
    assert folder_count(dovecot, PROCESSED) + folder_count(dovecot, REVIEW) == 20


def test_unreachable_server_gives_up_with_a_clear_error(db):
    from tests.support.dovecot import free_port

    mailbox = imap_mailbox(type("S", (), {"port": free_port()})())
    report = runner(db, mailbox, retry_budget_seconds=1.5, retry_initial_seconds=0.2).poll()
    assert report.error and "127.0.0.1" in report.error and report.reconnects >= 1
    assert not report.stopped  # a later poll tries again


def test_wrong_password_stops_that_mailbox_and_the_others_go_on(dovecot_auth, tmp_path):
    database = sqlite_db(tmp_path, migrate_schema=True)
    other = dovecot_auth.other()
    append(other, mail())
    bad = imap_mailbox(dovecot_auth, name="bad", password_env="TRIAGE_TEST_WRONG_PW")
    good = imap_mailbox(other, name="good")
    settings = Settings(database_url=database.url, mailboxes=[bad, good])
    environ = {**ENVIRON, "TRIAGE_TEST_WRONG_PW": "not-the-password"}

    reports = {r.mailbox: r for r in run_once(settings, environ=environ, hooks=[])}
    assert reports["bad"].stopped
    assert "refused" in reports["bad"].error and repr(dovecot_auth.user) in reports["bad"].error
    assert "TRIAGE_TEST_WRONG_PW" in reports["bad"].error  # says where the password comes from
    assert "not-the-password" not in reports["bad"].error
    assert reports["good"].error is None and reports["good"].processed == 1
    with database.sessions() as session:
        state = store.get_mailbox_state(session, "bad")
        assert state.last_error and "refused" in state.last_error


def test_missing_password_is_a_clear_config_error(dovecot_normal, db):
    report = runner(db, imap_mailbox(dovecot_normal, password_env="TRIAGE_TEST_UNSET_PW")).poll()
    assert report.stopped and "TRIAGE_TEST_UNSET_PW" in report.error and "not set" in report.error


# --- dry run ----------------------------------------------------------------------------------

def test_dry_run_changes_neither_the_mailbox_nor_the_database(dovecot, tmp_path):
    database = sqlite_db(tmp_path, migrate_schema=True)
    append(dovecot, mail(subject="Kurs i EKG-tolkning"), GARBAGE)
    c = client(dovecot)
    folders_before = sorted(name for _f, _d, name in c.list_folders())
    c.logout()
    flags_before = folder_flags(dovecot, "INBOX")
    settings = Settings(database_url=database.url, mailboxes=[imap_mailbox(dovecot)])

    [report] = run_once(settings, dry_run=True, environ=ENVIRON, hooks=[])

    assert report.error is None and report.dry_run
    assert (report.processed, report.failed) == (1, 1)
    planned = {p.subject: p for p in report.planned}
    assert planned["Kurs i EKG-tolkning"].destination in (PROCESSED, REVIEW)
    assert any(p.destination == FAILED and p.error.startswith("parse:") for p in report.planned)
    c = client(dovecot)
    assert sorted(name for _f, _d, name in c.list_folders()) == folders_before  # no folder created
    c.logout()
    assert folder_flags(dovecot, "INBOX") == flags_before  # no keyword, no \Seen, nothing moved
    with database.sessions() as session:
        assert session.scalars(select(Message)).all() == []
        assert session.scalars(select(MailboxState)).all() == []


# --- IDLE -------------------------------------------------------------------------------------

def test_mail_appended_during_idle_is_processed_within_seconds(dovecot, db):
    worker = runner(db, imap_mailbox(dovecot, idle_renew_seconds=30))
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve_idle, args=(stop,), kwargs={"poll_interval": 600}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not (worker.source.connected and worker.source.supports_idle()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # in IDLE now
        for n in range(3):
            raw = mail()
            append(dovecot, raw)
            appended = time.monotonic()
            message_id = raw.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()
            while time.monotonic() - appended < 5:
                if message_id in _by_message_id(db):
                    break
                time.sleep(0.05)
            assert message_id in _by_message_id(db), f"mail {n} not stored within 5 s of its APPEND"
    finally:
        stop.set()
        worker.wake.set()
        thread.join(20)
        worker.close()
    assert not thread.is_alive()
    assert len(db.messages()) == 3


# --- TLS --------------------------------------------------------------------------------------

@pytest.fixture
def dovecot_tls():
    from tests.support.intake import Account, start_dovecot

    server = start_dovecot("normal", tls=True)
    try:
        yield Account(server)
    finally:
        server.cleanup()


def test_tls_with_certificate_verification(dovecot_tls, db):
    append(dovecot_tls, mail(), mail())
    imaps = imap_mailbox(dovecot_tls, name="imaps", port=dovecot_tls.tls_port, tls="ssl", ca_file=str(dovecot_tls.cert))
    assert runner(db, imaps).poll().processed == 2

    append(dovecot_tls, mail())
    starttls = imap_mailbox(dovecot_tls, name="starttls", tls="starttls", ca_file=str(dovecot_tls.cert))
    report = runner(db, starttls).poll()
    assert report.error is None and report.processed == 1

    untrusted = imap_mailbox(dovecot_tls, name="untrusted", port=dovecot_tls.tls_port, tls="ssl")
    report = runner(db, untrusted).poll()
    assert report.stopped and "certificate" in report.error and "ca_file" in report.error
