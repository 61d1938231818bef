"""The store's units of work, on SQLite and PostgreSQL: stored once, round-trips, once-only records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from triage.db import store
from triage.db.schema import (
    Digest,
    DigestDelivery,
    EventField,
    FindingRow,
    Message,
    Reply,
    Result,
    Review,
    User,
)
from triage.results import (
    CheckOutcome,
    Classification,
    Decision,
    Evidence,
    EventDetails,
    Finding,
    Routing,
    TriageResult,
)

T0 = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def raw_mail(body: str = "Hej!", *, message_id: str | None = "<inv-1@pharma.example>",
             sender: str = "Anna Andersson <anna@pharma.example>", subject: str = "Inbjudan till lunchföreläsning",
             date_header: str = "Tue, 03 Mar 2026 08:15:00 +0100") -> bytes:
    headers = [f"From: {sender}", "To: samverkan@region.example", f"Subject: {subject}", f"Date: {date_header}"]
    if message_id is not None:
        headers.append(f"Message-ID: {message_id}")
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def simple_result(raw: bytes, *, message_id: str | None = "<inv-1@pharma.example>", verdict: str = "needs_info",
                  error: str | None = None) -> TriageResult:
    return TriageResult(
        file=None, message_id=message_id, subject="Inbjudan till lunchföreläsning",
        sender="anna@pharma.example", language="sv", decision=Decision(verdict=verdict), error=error,
    )


def rich_result() -> TriageResult:
    """A result with every kind of value: dates, lists, several evidences per field, findings."""
    event = EventDetails(
        title="Lunchföreläsning om hjärtsvikt",
        organizer="Exempel Pharma AB",
        sponsors=["Exempel Pharma AB"],
        arranger="industry",
        start=datetime(2026, 3, 24, 12, 0, tzinfo=CET),
        end=datetime(2026, 3, 24, 13, 0, tzinfo=CET),
        duration_minutes=60,
        location="Konferensrum 3, Universitetssjukhuset, Lund",
        online=False,
        target_group="Läkare och sjuksköterskor på hjärtmottagningen",
        costs_covered=["meal"],
        registration_deadline=date(2026, 3, 17),
        contact="anna@pharma.example",
        amounts=[{"text": "450 kr per person", "amount": 450, "currency": "SEK", "per_person": True}],
    )
    event.add_evidence("title", Evidence("Lunchföreläsning om hjärtsvikt", "subject", None, 0, 30))
    event.add_evidence("start", Evidence("tisdag 24 mars kl. 12.00", "body", None, 120, 145))
    event.add_evidence("start", Evidence("DTSTART:20260324T110000Z", "attachment", "inbjudan.ics", None, None))
    event.add_evidence("costs_covered", Evidence("Vi bjuder på lunch", "body", None, 200, 218))
    findings = (
        Finding(rule="se-2026/3.2/invitation-elements", kind="missing", code="purpose", severity="medium",
                message="Inbjudan anger inte syftet med mötet.", citation="Specifikation 3.2", confidence=0.8),
        Finding(rule="se-2026/3.1/travel", kind="violation", code="travel_paid_by_industry", severity="high",
                message="Företaget betalar resan.", citation="Specifikation 3.1",
                evidence=Evidence("Vi står för resa och boende", "forwarded", "forwarded[0]", 10, 38)),
    )
    return TriageResult(
        file="cases/001.eml", message_id="<inv-rich@pharma.example>", subject="Inbjudan", sender="anna@pharma.example",
        language="sv",
        routing=Routing(jurisdiction="SE", rulebook="se-2026", no_section=None),
        classification=Classification(chapter="3.2", confidence=0.91, probabilities={"3.2": 0.91, "2": 0.09},
                                      model_version="chapter-2026.03.1"),
        event=event,
        check=CheckOutcome(findings=findings, rules_ran=("se-2026/3.1/travel", "se-2026/3.1/lodging",
                                                          "se-2026/3.2/invitation-elements"),
                           rulebook_version="se-2026@1"),
        decision=Decision(verdict="non_compliant", needs_review=True, reasons=("finding below threshold",)),
        timings_ms={"parse": 1.5, "extract": 12.25},
    )


def count(session: Session, entity: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(entity)) or 0)


# --- exactly once ------------------------------------------------------------------------------

def test_same_uid_twice_is_stored_once(db_session: Session) -> None:
    raw = raw_mail()
    first, created = store.record_message(db_session, "unit-a", 1700, 5, raw, simple_result(raw))
    again, created_again = store.record_message(db_session, "unit-a", 1700, 5, raw, simple_result(raw))
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert count(db_session, Message) == 1 and count(db_session, Result) == 1


def test_same_message_id_under_new_uidvalidity_is_recognised_and_relocated(db_session: Session) -> None:
    raw = raw_mail()
    first, _ = store.record_message(db_session, "unit-a", 1700, 5, raw, simple_result(raw))
    # The server rebuilt the mailbox: new UIDVALIDITY, new UID, and new Received headers.
    redelivered = b"Received: from mx2.region.example\r\n" + raw
    again, created = store.record_message(db_session, "unit-a", 9999, 1, redelivered, simple_result(redelivered))
    assert created is False and again.id == first.id
    assert (again.uidvalidity, again.uid) == (9999, 1)
    assert again.raw == raw  # the first bytes stay
    assert count(db_session, Message) == 1
    assert store.find_known(db_session, "unit-a", uidvalidity=9999, uid=1).id == first.id


def test_message_id_is_matched_without_angle_brackets_or_space(db_session: Session) -> None:
    raw = raw_mail()
    first, _ = store.record_message(db_session, "unit-a", 1, 1, raw, simple_result(raw, message_id="<inv-1@pharma.example>"))
    found = store.find_known(db_session, "unit-a", message_id="  inv-1@pharma.example ")
    assert found is not None and found.id == first.id


def test_same_bytes_without_message_id_are_stored_once(db_session: Session) -> None:
    raw = raw_mail(message_id=None)
    first, created = store.record_message(db_session, "folder", None, None, raw, simple_result(raw, message_id=None),
                                          origin="inbox/a.eml")
    again, created_again = store.record_message(db_session, "folder", None, None, raw,
                                                simple_result(raw, message_id=None), origin="inbox/copy-of-a.eml")
    assert (created, created_again) == (True, False) and again.id == first.id
    assert first.dedup_key.startswith("sha256:")
    # And under a UID too: same bytes at another UID without a Message-ID is the same mail.
    third, created_third = store.record_message(db_session, "folder", 1, 77, raw, None)
    assert created_third is False and third.id == first.id
    assert count(db_session, Message) == 1


def test_identical_from_subject_date_are_two_different_mails(db_session: Session) -> None:
    a = raw_mail("Första inbjudan: hjärtsvikt.", message_id=None)
    b = raw_mail("Andra inbjudan: diabetes.", message_id=None)
    _, created_a = store.record_message(db_session, "unit-a", None, None, a, simple_result(a, message_id=None))
    _, created_b = store.record_message(db_session, "unit-a", None, None, b, simple_result(b, message_id=None))
    c = raw_mail("Tredje", message_id="<c@pharma.example>")
    d = raw_mail("Fjärde", message_id="<d@pharma.example>")
    _, created_c = store.record_message(db_session, "unit-a", 1, 1, c, simple_result(c, message_id="<c@pharma.example>"))
    _, created_d = store.record_message(db_session, "unit-a", 1, 2, d, simple_result(d, message_id="<d@pharma.example>"))
    assert (created_a, created_b, created_c, created_d) == (True, True, True, True)
    assert count(db_session, Message) == 4


def test_same_message_in_two_mailboxes_is_kept_in_each(db_session: Session) -> None:
    raw = raw_mail()
    _, created_a = store.record_message(db_session, "unit-a", 1, 1, raw, simple_result(raw))
    _, created_b = store.record_message(db_session, "unit-b", 1, 1, raw, simple_result(raw))
    assert created_a and created_b
    assert count(db_session, Message) == 2


def test_message_id_read_from_the_header_when_the_pipeline_gave_none(db_session: Session) -> None:
    raw = raw_mail()
    failed = TriageResult(file=None, error="parse: truncated MIME")
    row, _ = store.record_message(db_session, "unit-a", 1, 1, raw, failed)
    assert row.message_id == "<inv-1@pharma.example>"
    assert row.status == "failed" and row.error == "parse: truncated MIME"
    # A later delivery that parses fine is still the same message.
    _, created = store.record_message(db_session, "unit-a", 2, 1, b"X-Extra: 1\r\n" + raw, simple_result(raw))
    assert created is False


def test_uid_conflict_inside_the_database_is_a_unique_key(db_session: Session) -> None:
    """The constraints themselves hold, not only the store's look-before-insert."""
    raw = raw_mail()
    store.record_message(db_session, "unit-a", 1, 1, raw, None)
    db_session.commit()
    db_session.add(Message(mailbox="unit-a", uidvalidity=1, uid=1, dedup_key="sha256:other", raw_sha256="0" * 64,
                           raw=b"x", size=1, status="received", attempts=0, filed=False))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    db_session.add(Message(mailbox="unit-a", uidvalidity=1, uid=2, dedup_key=store.message_key("<inv-1@pharma.example>", ""),
                           raw_sha256="0" * 64, raw=b"x", size=1, status="received", attempts=0, filed=False))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_raw_bytes_are_kept_exactly(db_session: Session) -> None:
    raw = raw_mail("Hälsningar\x00\xff".encode("latin-1").decode("latin-1")) + bytes(range(256))
    row, _ = store.record_message(db_session, "unit-a", 1, 1, raw, None)
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Message, row.id).raw == raw
    assert row.size == len(raw) and row.status == "received"


# --- results round-trip --------------------------------------------------------------------------

def test_result_with_findings_and_evidence_round_trips(db_sessions: sessionmaker[Session]) -> None:
    original = rich_result()
    raw = raw_mail(message_id="<inv-rich@pharma.example>")
    with db_sessions() as session, session.begin():
        row, created = store.record_message(session, "unit-a", 1, 42, raw, original, origin="cases/001.eml",
                                            received_at=T0, now=T0)
        assert created
        pk = row.id
    with db_sessions() as session:
        loaded = store.load_result(session, pk)
        assert loaded is not None
        assert loaded.to_json() == original.to_json()
        assert loaded.event.evidence == original.event.evidence
        assert loaded.event.amounts == original.event.amounts
        assert loaded.event.start == original.event.start and loaded.event.start.utcoffset() == timedelta(hours=1)
        assert loaded.check.findings == original.check.findings
        assert loaded.check.rules_ran == original.check.rules_ran
        assert loaded.check.rules_hit == ("se-2026/3.2/invitation-elements", "se-2026/3.1/travel")
        assert loaded.check.rulebook_version == "se-2026@1"
        assert loaded.classification.model_version == "chapter-2026.03.1"
        assert loaded.classification.probabilities == {"3.2": 0.91, "2": 0.09}
        assert loaded.decision == original.decision
        assert loaded.timings_ms == original.timings_ms
        stored = session.get(Message, pk)
        assert stored.result.rules_hit == list(loaded.check.rules_hit)
        assert stored.status == "processed" and stored.processed_at == T0 and stored.received_at == T0
        # One event_fields row per evidence: title 1, start 2, costs_covered 1, and value-only rows.
        by_field: dict[str, int] = {}
        for field_row in stored.result.event_fields:
            by_field[field_row.field] = by_field.get(field_row.field, 0) + 1
        assert by_field["start"] == 2 and by_field["title"] == 1 and by_field["costs_covered"] == 1
        assert by_field["location"] == 1  # a value without evidence still gets its row
        assert "purpose" not in by_field  # nothing found, nothing stored
        ics = [f for f in stored.result.event_fields if f.evidence_part == "inbjudan.ics"]
        assert ics[0].value == "2026-03-24T12:00:00+01:00" and ics[0].evidence_start is None


def test_reprocessing_replaces_the_result_and_duplicates_nothing(db_session: Session) -> None:
    raw = raw_mail(message_id="<inv-rich@pharma.example>")
    row, _ = store.record_message(db_session, "unit-a", 1, 1, raw, rich_result())
    assert count(db_session, FindingRow) == 2
    newer = rich_result()
    newer.check = CheckOutcome(findings=newer.check.findings[:1], rules_ran=newer.check.rules_ran, rulebook_version="se-2026@2")
    newer.decision = Decision(verdict="needs_info")
    store.replace_result(db_session, row, newer)
    store.replace_result(db_session, row.id, newer)
    db_session.commit()
    assert count(db_session, Result) == 1
    assert count(db_session, FindingRow) == 1
    assert count(db_session, EventField) == len(db_session.get(Message, row.id).result.event_fields)
    loaded = store.load_result(db_session, row.id)
    assert loaded.decision.verdict == "needs_info" and loaded.check.rulebook_version == "se-2026@2"
    assert db_session.get(Message, row.id).attempts == 3


def test_unjudged_message_has_no_result_and_is_pending(db_session: Session) -> None:
    raw = raw_mail()
    row, _ = store.record_message(db_session, "unit-a", 1, 1, raw, None)
    assert store.load_result(db_session, row) is None
    assert [m.id for m in store.pending_messages(db_session, "unit-a")] == [row.id]
    assert store.unfiled_messages(db_session, "unit-a") == []  # nothing to file before judging
    # Re-fetched after a crash and judged this time: the judgement is attached, no new row.
    again, created = store.record_message(db_session, "unit-a", 1, 1, raw, simple_result(raw))
    assert created is False and again.id == row.id and again.status == "processed"
    assert store.load_result(db_session, row).decision.verdict == "needs_info"
    assert store.pending_messages(db_session, "unit-a") == []
    assert count(db_session, Message) == 1 and count(db_session, Result) == 1


def test_mark_filed_and_unfiled_recovery(db_session: Session) -> None:
    a, b = raw_mail("a", message_id="<a@x>"), raw_mail("b", message_id="<b@x>")
    ra, _ = store.record_message(db_session, "unit-a", 1, 1, a, simple_result(a, message_id="<a@x>"))
    rb, _ = store.record_message(db_session, "unit-a", 1, 2, b, simple_result(b, message_id="<b@x>", error="check: boom"))
    assert [m.id for m in store.unfiled_messages(db_session, "unit-a")] == [ra.id, rb.id]
    store.mark_filed(db_session, ra, "Triage/Processed", now=T0)
    store.mark_filed(db_session, rb.id, "Triage/Failed", now=T0)
    assert store.unfiled_messages(db_session, "unit-a") == []
    assert (rb.filed, rb.filed_folder, rb.filed_at, rb.status) == (True, "Triage/Failed", T0, "failed")
    assert store.known_uids(db_session, "unit-a", 1) == {1, 2}


def test_list_results_for_a_period(db_session: Session) -> None:
    for i, when in enumerate([T0 - timedelta(days=2), T0 - timedelta(hours=3), T0 + timedelta(hours=1)]):
        raw = raw_mail(str(i), message_id=f"<{i}@x>")
        store.record_message(db_session, "unit-a", 1, i + 1, raw, simple_result(raw, message_id=f"<{i}@x>"), now=when)
    rows = store.list_results(db_session, mailbox="unit-a", since=T0 - timedelta(days=1), until=T0)
    assert [m.uid for m, _ in rows] == [2]
    assert rows[0][1] is not None and rows[0][1].verdict == "needs_info"
    assert len(store.list_results(db_session, mailbox="unit-a")) == 3
    assert store.list_results(db_session, mailbox="unit-b") == []


# --- mailbox state -------------------------------------------------------------------------------

def test_mailbox_state_get_and_update(db_session: Session) -> None:
    assert store.get_mailbox_state(db_session, "unit-a") is None
    store.update_mailbox_state(db_session, "unit-a", uidvalidity=4294967295, last_uid=4294967294, uidnext=4294967295,
                               highestmodseq=2**63 - 1, now=T0)
    store.record_poll(db_session, "unit-a", error="LOGIN failed: AUTHENTICATIONFAILED", now=T0)
    db_session.commit()
    db_session.expire_all()
    state = store.get_mailbox_state(db_session, "unit-a")
    assert (state.uidvalidity, state.last_uid, state.uidnext, state.highestmodseq) == (
        4294967295, 4294967294, 4294967295, 2**63 - 1)
    assert state.last_error.startswith("LOGIN failed") and state.last_error_at == T0 and state.last_poll_at == T0
    store.record_poll(db_session, "unit-a", now=T0 + timedelta(minutes=1))
    assert state.last_error is None and state.last_success_at == T0 + timedelta(minutes=1)
    assert [s.mailbox for s in store.mailbox_states(db_session)] == ["unit-a"]
    with pytest.raises(TypeError):
        store.update_mailbox_state(db_session, "unit-a", password="x")


# --- replies ----------------------------------------------------------------------------------------

def test_at_most_one_reply_per_message(db_session: Session) -> None:
    raw = raw_mail()
    row, _ = store.record_message(db_session, "unit-a", 1, 1, raw, simple_result(raw))
    reply, created = store.claim_reply(db_session, row, mode="draft", recipient="Anna@Pharma.example",
                                       subject="Sv: Inbjudan", rfc_message_id="<r1@triage.region.example>", now=T0)
    again, created_again = store.claim_reply(db_session, row.id, mode="send", recipient="anna@pharma.example")
    assert (created, created_again) == (True, False) and again.id == reply.id and again.mode == "draft"
    store.mark_reply(db_session, reply, "sent", sent_by="kerstin", now=T0)
    assert (reply.status, reply.sent_at, reply.sent_by) == ("sent", T0, "kerstin")
    assert store.count_replies_to(db_session, "anna@pharma.example", T0 - timedelta(days=1)) == 1
    assert store.find_reply_by_rfc_message_id(db_session, "<r1@triage.region.example>").id == reply.id
    # The database itself refuses a second reply row.
    db_session.add(Reply(message_pk=row.id, mode="send", status="pending"))
    with pytest.raises(IntegrityError):
        db_session.flush()


# --- digests ----------------------------------------------------------------------------------------

def test_digest_is_made_once_per_mailbox_and_period_and_never_repeats_a_message(db_session: Session) -> None:
    for i in range(3):
        raw = raw_mail(str(i), message_id=f"<{i}@x>")
        store.record_message(db_session, "unit-a", 1, i + 1, raw, simple_result(raw, message_id=f"<{i}@x>"),
                             now=T0 - timedelta(hours=3 - i))
    digest, created = store.create_digest(db_session, "unit-a", "2026-03-03", T0, language="sv", now=T0)
    again, created_again = store.create_digest(db_session, "unit-a", "2026-03-03", T0, now=T0)
    assert (created, created_again) == (True, False) and again.id == digest.id
    assert digest.message_count == 3 and len(store.digest_messages(db_session, digest)) == 3
    # Next day: only what is new, though one message was judged "before" the last period ended
    # (a slow worker committed late): it comes now instead of being lost.
    late = raw_mail("late", message_id="<late@x>")
    store.record_message(db_session, "unit-a", 1, 10, late, simple_result(late, message_id="<late@x>"),
                         now=T0 - timedelta(minutes=1))
    nxt, _ = store.create_digest(db_session, "unit-a", "2026-03-04", T0 + timedelta(days=1), now=T0 + timedelta(days=1))
    assert nxt.period_start == T0  # catches up from where the previous digest ended
    assert [m.uid for m, _ in store.digest_messages(db_session, nxt)] == [10]
    # The other mailbox has its own digest for the same period.
    other, created_other = store.create_digest(db_session, "unit-b", "2026-03-03", T0, now=T0)
    assert created_other and other.message_count == 0
    db_session.add(Digest(mailbox="unit-a", period="2026-03-03", period_end=T0, message_count=0))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_digest_delivery_once_per_channel_and_target(db_session: Session) -> None:
    digest, _ = store.create_digest(db_session, "unit-a", "2026-03-03", T0, now=T0)
    smtp, created = store.claim_delivery(db_session, digest, "smtp", "chef@region.example")
    again, created_again = store.claim_delivery(db_session, digest, "smtp", "chef@region.example")
    _, created_other = store.claim_delivery(db_session, digest, "smtp", "biträdande@region.example")
    _, created_file = store.claim_delivery(db_session, digest, "file", "var/digests/unit-a/2026-03-03.html")
    assert (created, created_again, created_other, created_file) == (True, False, True, True)
    assert again.id == smtp.id
    store.mark_delivery(db_session, smtp, "delivered", now=T0)
    assert (smtp.status, smtp.delivered_at, smtp.attempts) == ("delivered", T0, 1)
    with pytest.raises(ValueError):
        store.claim_delivery(db_session, digest, "fax", "123")
    db_session.add(DigestDelivery(digest_pk=digest.id, channel="smtp", target="chef@region.example", status="pending",
                                  attempts=0))
    with pytest.raises(IntegrityError):
        db_session.flush()


# --- reviews and users ------------------------------------------------------------------------------

def test_review_records_who_when_before_after(db_session: Session) -> None:
    raw = raw_mail()
    row, _ = store.record_message(db_session, "unit-a", 1, 1, raw, simple_result(raw))
    review = store.record_review(db_session, row, "kerstin", before={"chapter": "2", "verdict": "needs_info"},
                                 after={"chapter": "3.2", "verdict": "non_compliant"}, comment="Det är en sammankomst.",
                                 now=T0)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Message, row.id).reviews
    assert [(r.reviewer, r.created_at, r.before["chapter"], r.after["chapter"], r.comment) for r in stored] == [
        ("kerstin", T0, "2", "3.2", "Det är en sammankomst.")]
    assert review.id == stored[0].id


def test_users_hold_argon2_hashes_only(db_session: Session) -> None:
    user = store.add_user(db_session, "kerstin", "manager", password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
    assert store.get_user(db_session, "kerstin").id == user.id
    with pytest.raises(ValueError, match="never stored"):
        store.add_user(db_session, "olle", password_hash="hunter2")
    with pytest.raises(ValueError):
        store.add_user(db_session, "olle", "admin")
    db_session.add(User(username="kerstin", role="reviewer", active=True))
    with pytest.raises(IntegrityError):
        db_session.flush()


# --- retention --------------------------------------------------------------------------------------

def test_purge_deletes_old_messages_and_everything_hanging_off_them(db_sessions: sessionmaker[Session]) -> None:
    now = datetime(2029, 6, 1, tzinfo=UTC)
    cutoff = now - timedelta(days=3 * 365)
    with db_sessions() as session, session.begin():
        for name, stored in (("old", cutoff - timedelta(days=1)), ("new", cutoff + timedelta(days=1))):
            raw = raw_mail(name, message_id=f"<{name}@x>")
            result = rich_result()
            result.message_id = f"<{name}@x>"
            row, _ = store.record_message(session, "unit-a", 1, len(name) + (0 if name == "old" else 100), raw,
                                          result, now=stored)
            store.claim_reply(session, row, mode="draft", recipient="anna@pharma.example", now=stored)
            store.record_review(session, row, "kerstin", before={"chapter": "2"}, after={"chapter": "3.2"}, now=stored)
            digest, _ = store.create_digest(session, "unit-a", name, stored + timedelta(hours=1),
                                            now=stored + timedelta(hours=1))
            store.claim_delivery(session, digest, "file", f"var/{name}.html")
    with db_sessions() as session, session.begin():
        fields_per_result = count(session, EventField) // 2
        planned = store.purge_older_than(session, cutoff, dry_run=True)
    assert fields_per_result == 14  # 4 evidences (start has 2) + 10 values without evidence
    assert planned == {"findings": 2, "event_fields": fields_per_result, "results": 1, "replies": 1, "reviews": 1, "messages": 1,
                       "digest_deliveries": 1, "digests": 1}
    with db_sessions() as session, session.begin():
        assert count(session, Message) == 2  # the dry run changed nothing
        done = store.purge_older_than(session, cutoff)
    assert done == planned
    with db_sessions() as session:
        assert [m.message_id for m in session.scalars(sa.select(Message))] == ["<new@x>"]
        assert (count(session, Result), count(session, FindingRow), count(session, EventField), count(session, Reply),
                count(session, Review), count(session, Digest), count(session, DigestDelivery)) == (
            1, 2, fields_per_result, 1, 1, 1, 1)
    with db_sessions() as session, session.begin():
        assert set(store.purge_older_than(session, cutoff).values()) == {0}


def test_deleting_a_message_cascades_in_the_database(db_sessions: sessionmaker[Session]) -> None:
    """ON DELETE CASCADE holds on both backends (SQLite needs foreign_keys=ON for that)."""
    with db_sessions() as session, session.begin():
        row, _ = store.record_message(session, "unit-a", 1, 1, raw_mail(message_id="<inv-rich@pharma.example>"),
                                      rich_result())
        store.claim_reply(session, row, mode="draft")
        pk = row.id
    with db_sessions() as session, session.begin():
        session.execute(sa.delete(Message).where(Message.id == pk))
    with db_sessions() as session:
        assert (count(session, Result), count(session, FindingRow), count(session, EventField), count(session, Reply)) == (
            0, 0, 0, 0)


# --- leases ---------------------------------------------------------------------------------------

def test_lease_is_held_by_one_owner_until_it_expires(db_session: Session) -> None:
    ttl = timedelta(seconds=60)
    assert store.acquire_lease(db_session, "mailbox:unit-a", "worker-1", ttl, now=T0)
    assert not store.acquire_lease(db_session, "mailbox:unit-a", "worker-2", ttl, now=T0 + timedelta(seconds=30))
    assert store.acquire_lease(db_session, "mailbox:unit-a", "worker-1", ttl, now=T0 + timedelta(seconds=30))  # renew
    assert store.lease_holder(db_session, "mailbox:unit-a", now=T0 + timedelta(seconds=60)) == "worker-1"
    # worker-1 died: after expiry worker-2 takes over.
    assert store.acquire_lease(db_session, "mailbox:unit-a", "worker-2", ttl, now=T0 + timedelta(seconds=91))
    assert not store.release_lease(db_session, "mailbox:unit-a", "worker-1")
    assert store.release_lease(db_session, "mailbox:unit-a", "worker-2", now=T0 + timedelta(seconds=95))
    assert store.lease_holder(db_session, "mailbox:unit-a", now=T0 + timedelta(seconds=96)) is None
    assert store.acquire_lease(db_session, "mailbox:unit-a", "worker-3", ttl, now=T0 + timedelta(seconds=96))
