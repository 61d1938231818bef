"""The runner's decisions with a canned mailbox source: no server, only the logic under test."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy.exc import DataError

from tests.support.intake import GARBAGE, db, mail, runner  # noqa: F401 - fixtures
from triage.config import MailboxConfig
from triage.db import store
from triage.mailbox import (
    Fetched,
    FolderState,
    Listing,
    MailboxAuthError,
    MailboxConnectionError,
    MessageKey,
)
from triage.mailbox.base import header_message_id
from triage.worker.runner import Backoff, destination


class FakeSource:
    """An IMAP-like source in memory, recording what the runner asks of it."""

    kind = "imap"
    uses_uids = True
    can_file = True

    def __init__(self, *, uidvalidity: int | None = 7, messages: dict[int, bytes] | None = None,
                 uidnext: bool = True, highestmodseq: int | None = None) -> None:
        self.config = MailboxConfig(name="fake", kind="imap", host="fake.invalid", username="u", password_env="X")
        self.name = "fake"
        self.round_trips = 0
        self.connected = False
        self.uidvalidity = uidvalidity
        self.messages: dict[int, bytes] = dict(messages or {})
        self.next_uid = max(self.messages, default=0) + 1
        self.with_uidnext = uidnext
        self.highestmodseq = highestmodseq
        self.fetched: list[MessageKey] = []
        self.filed: list[tuple[list[MessageKey], str | None, str | None, bool]] = []
        self.fail_next: list[BaseException] = []  # raised by the next calls, one each
        self.connects = 0

    def add(self, raw: bytes) -> int:
        uid = self.next_uid
        self.messages[uid] = raw
        self.next_uid += 1
        return uid

    def _call(self) -> None:
        self.round_trips += 1
        if self.fail_next:
            error = self.fail_next.pop(0)
            if isinstance(error, MailboxConnectionError):
                self.connected = False
            raise error

    def connect(self, *, readonly: bool = False) -> None:
        if not self.connected:
            self.connects += 1
        self.connected = True

    def select(self) -> FolderState:
        self._call()
        return FolderState(self.uidvalidity, self.next_uid if self.with_uidnext else None, self.highestmodseq,
                           len(self.messages))

    def list_messages(self, after: int | None = None, *, message_ids: bool = False) -> list[Listing]:
        self._call()
        return [Listing(uid, len(raw), header_message_id(raw) if message_ids else None)
                for uid, raw in sorted(self.messages.items()) if uid > (after or 0)]

    def fetch(self, keys: Sequence[MessageKey]) -> list[Fetched]:
        self._call()
        self.fetched.extend(keys)
        return [Fetched(k, self.messages[k]) for k in keys if k in self.messages]

    def present(self, keys: Sequence[MessageKey]) -> set[MessageKey]:
        self._call()
        return {k for k in keys if k in self.messages}

    def file(self, keys, destination, *, keyword, recovering=False) -> None:
        self._call()
        self.filed.append((list(keys), destination, keyword, recovering))
        if destination:
            for k in keys:
                self.messages.pop(k, None)

    def append(self, folder, raw, *, flags=(), received_at=None) -> None:
        self.add(raw)

    def supports_idle(self) -> bool:
        return False

    def wait_for_change(self, timeout: float, stop: threading.Event) -> bool:
        stop.wait(timeout)
        return False

    def close(self) -> None:
        self.connected = False


def fake_runner(db, source: FakeSource, **kwargs):
    return runner(db, source.config, source=source, **kwargs)


def test_backoff_doubles_with_jitter_up_to_a_ceiling():
    low = Backoff(1.0, 8.0, rng=lambda: 0.0)
    high = Backoff(1.0, 8.0, rng=lambda: 1.0)
    assert [low.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [high.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    high.reset()
    assert high.next() == 1.0


def test_destination_follows_error_then_review():
    mailbox = MailboxConfig()
    assert destination(mailbox, error=True, needs_review=True) == mailbox.failed_folder
    assert destination(mailbox, error=False, needs_review=True) == mailbox.review_folder
    assert destination(mailbox, error=False, needs_review=False) == mailbox.processed_folder


def test_unchanged_by_uidnext_costs_one_round_trip(db):
    source = FakeSource(messages={1: mail(), 2: mail()})
    worker = fake_runner(db, source)
    assert worker.poll().processed == 2
    before = source.round_trips
    report = worker.poll()
    assert report.unchanged and source.round_trips - before == 1 == report.round_trips


def test_without_uidnext_highestmodseq_says_unchanged(db):
    source = FakeSource(messages={1: mail()}, uidnext=False, highestmodseq=40)
    worker = fake_runner(db, source)
    worker.poll()
    assert worker.poll().unchanged
    source.highestmodseq = 41
    source.add(mail())
    report = worker.poll()
    assert not report.unchanged and report.processed == 1


def test_without_uidvalidity_nothing_is_ingested(db):
    source = FakeSource(uidvalidity=None, messages={1: mail()})
    report = fake_runner(db, source).poll()
    assert report.error and "UIDVALIDITY" in report.error and "nothing is ingested" in report.error
    assert source.fetched == [] and db.messages() == []


def test_connection_lost_mid_poll_reconnects_and_finishes(db):
    source = FakeSource(messages={i: mail() for i in range(1, 6)})
    source.fail_next = [None] * 0
    worker = fake_runner(db, source)
    # select ok, list ok, then the fetch fails once as if the server said BYE
    original_fetch = source.fetch
    calls = {"n": 0}

    def flaky_fetch(keys):
        calls["n"] += 1
        if calls["n"] == 1:
            source.connected = False
            raise MailboxConnectionError("fake: connection lost while fetching messages: BYE")
        return original_fetch(keys)

    source.fetch = flaky_fetch
    report = worker.poll()
    assert report.error is None and report.reconnects == 1 and report.processed == 5
    assert source.connects == 2


def test_refused_credentials_stop_the_mailbox(db):
    source = FakeSource(messages={1: mail()})
    source.fail_next = [MailboxAuthError("fake.invalid refused the LOGIN of user 'u'")]
    worker = fake_runner(db, source)
    report = worker.poll()
    assert report.stopped and "refused" in report.error
    again = worker.poll()
    assert again.stopped and source.round_trips == 1  # a stopped mailbox is not asked again


def test_shutdown_finishes_the_current_message_then_stops(db):
    source = FakeSource(messages={i: mail() for i in range(1, 6)})
    stop = threading.Event()

    def stop_after_second(session, message, result):
        if message.uid == 2:
            stop.set()

    report = fake_runner(db, source, stop=stop, hooks=[stop_after_second]).poll()
    assert report.interrupted and report.processed == 2
    rows = db.messages()
    assert [m.uid for m in rows] == [1, 2] and all(m.filed for m in rows)  # stored and filed, not half done
    assert sorted(source.messages) == [3, 4, 5]


def test_a_message_the_database_refuses_is_stored_with_that_error(db, monkeypatch):
    source = FakeSource(messages={1: mail(), 2: mail()})
    real = store.record_message
    calls = {"n": 0}

    def refuse_first(session, mailbox, uidvalidity, uid, raw, result, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise DataError("INSERT …", {}, ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
        return real(session, mailbox, uidvalidity, uid, raw, result, **kw)

    monkeypatch.setattr(store, "record_message", refuse_first)
    report = fake_runner(db, source).poll()
    assert report.error is None and (report.failed, report.processed) == (1, 1)
    first = db.messages()[0]
    assert first.status == "failed" and first.error.startswith("store: DataError")
    assert first.filed_folder == MailboxConfig().failed_folder


def test_an_unreadable_message_is_stored_with_its_fetch_error(db):
    source = FakeSource(messages={1: mail(), 2: mail()})
    original_fetch = source.fetch

    def fetch(keys):
        out = original_fetch(keys)
        return [Fetched(f.key, None, error="fetch: NO [UNAVAILABLE] message cannot be read") if f.key == 1 else f
                for f in out]

    source.fetch = fetch
    report = fake_runner(db, source).poll()
    assert (report.failed, report.processed) == (1, 1)
    row = db.messages()[0]
    assert row.status == "failed" and "UNAVAILABLE" in row.error


def test_a_bug_in_the_source_is_reported_not_raised(db):
    source = FakeSource(messages={1: mail()})
    source.fail_next = [ZeroDivisionError("oops")]
    report = fake_runner(db, source).poll()
    assert report.error and "internal error" in report.error


def test_dry_run_reports_and_writes_nothing(db):
    source = FakeSource(messages={1: mail(subject="Kurs"), 2: GARBAGE})
    report = fake_runner(db, source, dry_run=True).poll()
    assert [p.subject for p in report.planned] == ["Kurs", None]
    assert report.planned[1].destination == MailboxConfig().failed_folder
    assert source.filed == [] and db.messages() == []
    with db.sessions() as session:
        assert store.get_mailbox_state(session, "fake") is None
