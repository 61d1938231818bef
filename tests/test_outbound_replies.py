"""Replies to suppliers: what they say (exactly the missing elements, in the supplier's language),
how they thread, the limits (one per original ever, a few per sender per day), and sending them
once by SMTP through a real aiosmtpd server — automatically (send mode) and by a person.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.outbound import SmtpSink, aware, finding, result, sample
from triage.config import MailboxConfig, Settings, SmtpConfig
from triage.db import store
from triage.db.schema import Message, Reply
from triage.message.parse import parse_message
from triage.outbound.hooks import draft_reply_for, reply_hook
from triage.outbound.replies import ReplyNotSendable, compose_reply, prepare_reply, send_reply
from triage.outbound.replies.limits import sender_limit
from triage.outbound.send import send_stored_reply
from triage.vocabulary import MISSING_CODES, VIOLATION_CODES

NOW = aware(2026, 2, 20, 9)


def flat(text: str) -> str:
    """Text with its line wrapping undone, for phrase checks."""
    return " ".join(text.split())


def settings(**mailbox) -> Settings:
    box = dict(name="hjarta", kind="folder", path=".", address="samverkan.hjartkliniken@skane.se",
               signature="Funktionsbrevlådan Hjärtkliniken\nSkånes universitetssjukhus")
    box.update(mailbox)
    return Settings(mailboxes=[MailboxConfig(**box)], smtp=SmtpConfig(sender="triage@skane.se"))


def judged(name: str, verdict: str = "needs_info", findings=(), **kwargs):
    parsed = parse_message(sample(name))
    res = result(name, message_id=parsed.message_id, subject=parsed.subject, sender=str(parsed.sender),
                 language=parsed.language, chapter=kwargs.pop("chapter", "3.2"), verdict=verdict, findings=findings,
                 **kwargs)
    return parsed, res


MISSING = (
    finding("se-2026/3.2/invitation-elements", "missing", "content", "Inbjudan saknar program."),
    finding("se-2026/3.2/invitation-elements", "missing", "costs_covered", "Kostnader framgår inte."),
    finding("se-2026/3.2/invitation-elements", "missing", "target_group", "Målgrupp saknas."),
)
VIOLATIONS = (
    finding("se-2026/3.1/travel", "violation", "travel_paid_by_industry", "Flyg betalas.",
            "Vi står för flyg tur och retur från Malmö", "high"),
    finding("se-2026/3.1/entertainment", "violation", "entertainment", "Spa.", "skidåkning och spa", "high"),
)


# --- what the reply says --------------------------------------------------------------------------------

def test_swedish_reply_asks_for_exactly_what_is_missing() -> None:
    parsed, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    s = settings()
    reply = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    body = reply.body_text
    assert reply.language == "sv" and reply.recipient == "karin.ek@nordlys-pharma.se"
    assert body.startswith("Hej Karin Ek,\n")
    assert "Programmet med tider" in body and "varje måltid och aktivitet" in flat(body) and "Målgruppen" in body
    # Only what is missing: nothing about purpose, place, who pays, no rule codes, no violations.
    assert "Syftet" not in body and "Platsen" not in body and "Vem som betalar" not in body
    for code in MISSING_CODES + VIOLATION_CODES:
        assert not re.search(rf"\b{code}\b", body), code
    assert body.count("\n- ") == 3
    # The rule by name and section, the signature, a brief quote of the original.
    assert "Samverkansreglerna för vård och industri 2026, avsnitt 3.2" in flat(body)
    assert "Funktionsbrevlådan Hjärtkliniken\nSkånes universitetssjukhus" in body
    assert "Den 9 februari 2026 kl. 09.12 skrev Karin Ek <karin.ek@nordlys-pharma.se>:" in body
    assert "> Nordlys Pharma AB bjuder härmed in" in body
    assert max(len(line) for line in body.splitlines() if not line.startswith("Den ")) <= 76


def test_threading_and_headers() -> None:
    parsed, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    s = settings()
    reply = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    mail = reply.to_message(NOW)
    assert mail["Subject"] == "Sv: Inbjudan: Lunchföreläsning om hjärtsvikt 3 mars"
    assert mail["In-Reply-To"] == parsed.message_id
    assert mail["References"] == parsed.message_id
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["From"] == "samverkan.hjartkliniken@skane.se"
    assert mail["To"] == "Karin Ek <karin.ek@nordlys-pharma.se>"
    assert mail["Message-ID"] == reply.message_id and reply.message_id.endswith("@skane.se>")
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"


def test_norwegian_and_english_replies() -> None:
    s = settings()
    parsed, res = judged("03-kurs-no.eml", jurisdiction="NO", findings=(
        finding("no-2023/5/payer", "missing", "payer", "Hvem betaler?"),
        finding("no-2023/5/organizer", "missing", "organizer", "Hvem arrangerer?")))
    no = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    assert no.language == "nb" and no.subject.startswith("SV: ")
    assert no.body_text.startswith("Hei Ingrid Solberg,")
    assert "Hvem som betaler" in flat(no.body_text) and "Hvem som arrangerer" in flat(no.body_text)
    assert "Samarbeidsavtalene mellom de regionale helseforetakene og LMI/Melanor 2023, punkt 5" in flat(no.body_text)
    assert "Med vennlig hilsen" in no.body_text

    parsed, res = judged("04-advisory-board-en.eml", chapter="4", findings=(
        finding("se-2026/4/agreement", "missing", "agreement", "No agreement."),))
    en = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    assert en.language == "en" and en.subject.startswith("Re: ")
    assert en.body_text.startswith("Dear Mark Jensen,")
    assert "A draft written agreement" in flat(en.body_text) and "the proposal" in flat(en.body_text)
    assert "Kind regards" in en.body_text


def test_violations_cited_only_when_configured() -> None:
    parsed, res = judged("02-dinner-resort-sv.eml", verdict="non_compliant", findings=VIOLATIONS + MISSING[:1])
    s = settings(reply_to_non_compliant=True)
    cited = flat(compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW).body_text)
    assert "Företaget erbjuder sig att betala deltagarnas resor." in cited
    assert "Ni skrev: ”Vi står för flyg tur och retur från Malmö”" in cited
    assert "Regel: Samverkansreglerna för vård och industri 2026, avsnitt 3.1" in cited
    assert "innehåller också sådant som reglerna inte tillåter" in cited
    s = settings(reply_to_non_compliant=True, reply_cite_violations=False)
    plain = flat(compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW).body_text)
    assert "resor" not in plain and "Regel:" not in plain
    assert "kan inte godtas i sin nuvarande form" in plain


def test_subject_prefix_is_not_doubled_and_reply_to_wins() -> None:
    raw = sample("01-lunch-lecture-sv.eml").replace(
        b"Subject: Inbjudan:", b"Reply-To: Anna Berg <events@nordlys-pharma.se>\nSubject: SV: Inbjudan:")
    parsed = parse_message(raw)
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    s = settings()
    reply = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    assert reply.subject.startswith("SV: Inbjudan") and not reply.subject.startswith("Sv: SV:")
    assert reply.recipient == "events@nordlys-pharma.se" and reply.body_text.startswith("Hej Anna Berg,")


# --- decided and claimed ---------------------------------------------------------------------------------

def _stored(session: Session, name: str, res, mailbox: str = "hjarta", raw: bytes | None = None) -> Message:
    row, _ = store.record_message(session, mailbox, None, None, raw or sample(name), res, now=NOW)
    return row


def test_only_needs_info_is_answered_unless_configured(db_session: Session) -> None:
    s = settings()
    for verdict in ("compliant", "not_applicable", None):
        parsed, res = judged("06-symposium-pdf-sv.eml", verdict=verdict, findings=MISSING)
        row = _stored(db_session, f"x-{verdict}", res, raw=sample("06-symposium-pdf-sv.eml").replace(
            b"Message-ID: <", f"Message-ID: <{verdict}.".encode()))
        assert prepare_reply(db_session, s, s.mailboxes[0], row, res) is None
    parsed, res = judged("02-dinner-resort-sv.eml", verdict="non_compliant", findings=VIOLATIONS)
    row = _stored(db_session, "02-dinner-resort-sv.eml", res)
    assert prepare_reply(db_session, s, s.mailboxes[0], row, res) is None
    s2 = settings(reply_to_non_compliant=True)
    reply, created = prepare_reply(db_session, s2, s2.mailboxes[0], row, res)
    assert created and reply.status == "drafted"
    off = settings(reply_mode="off")
    parsed, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    assert prepare_reply(db_session, off, off.mailboxes[0], _stored(db_session, "01-lunch-lecture-sv.eml", res), res) is None


def test_per_sender_daily_limit(db_session: Session) -> None:
    s = replace(settings(), smtp=SmtpConfig(sender="triage@skane.se", max_replies_per_sender_per_day=2))
    base = sample("01-lunch-lecture-sv.eml")
    statuses = []
    for n in range(3):
        raw = base.replace(b"Message-ID: <", f"Message-ID: <n{n}.".encode())
        _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
        res.message_id = parse_message(raw).message_id
        row = _stored(db_session, "x", res, raw=raw)
        reply, _ = prepare_reply(db_session, s, s.mailboxes[0], row, res, now=NOW + timedelta(minutes=n))
        statuses.append((reply.status, reply.reason))
    assert [st for st, _ in statuses] == ["drafted", "drafted", "suppressed"]
    assert statuses[2][1].startswith("sender_limit: 2 replies to karin.ek@nordlys-pharma.se")
    # A day later the sender may get a reply again; 0 switches the limit off.
    assert sender_limit(db_session, "karin.ek@nordlys-pharma.se", 2, NOW + timedelta(hours=25)) is None
    assert sender_limit(db_session, "KARIN.EK@nordlys-pharma.se", 2, NOW + timedelta(hours=1)) is not None
    assert sender_limit(db_session, "karin.ek@nordlys-pharma.se", 0, NOW) is None


def test_one_reply_per_original_across_mailboxes(db_session: Session) -> None:
    """The same mail reached two watched mailboxes (function mailbox and head of unit): one reply."""
    s = Settings(mailboxes=[MailboxConfig(name="hjarta", kind="folder", path=".", address="a@skane.se"),
                            MailboxConfig(name="chef", kind="folder", path=".", address="b@skane.se")])
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    first = _stored(db_session, "01-lunch-lecture-sv.eml", res, mailbox="hjarta")
    second = _stored(db_session, "01-lunch-lecture-sv.eml", res, mailbox="chef")
    assert first.id != second.id
    r1, _ = prepare_reply(db_session, s, s.mailboxes[0], first, res)
    r2, _ = prepare_reply(db_session, s, s.mailboxes[1], second, res)
    assert r1.status == "drafted"
    assert r2.status == "suppressed" and "answered from mailbox hjarta" in r2.reason


def test_needs_review_is_never_sent_automatically(db_session: Session) -> None:
    s = settings(reply_mode="send")
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING, needs_review=True)
    reply, _ = prepare_reply(db_session, s, s.mailboxes[0], _stored(db_session, "01-lunch-lecture-sv.eml", res), res)
    assert reply.mode == "draft" and reply.status == "drafted"


# --- sent by SMTP, once -------------------------------------------------------------------------------------

@pytest.fixture
def smtp_server():
    server = SmtpSink(tls="none").start()
    try:
        yield server
    finally:
        server.stop()


def _send_settings(server: SmtpSink, **mailbox) -> Settings:
    s = settings(**mailbox)
    return replace(s, smtp=SmtpConfig(host="127.0.0.1", port=server.port, tls="none", sender="triage@skane.se"))


def _as_worker(sessions: sessionmaker, s: Settings, name: str, res, raw: bytes | None = None) -> int:
    """What the worker does per message: one transaction, the hook in a savepoint, commit."""
    session = sessions()
    try:
        with session.begin():
            row, created = store.record_message(session, "hjarta", None, None, raw or sample(name), res, now=NOW)
            if created:
                with session.begin_nested():
                    reply_hook(s)(session, row, res)
            return row.id
    finally:
        session.close()


@pytest.mark.smtp
def test_send_mode_sends_once_after_commit(db_sessions: sessionmaker, smtp_server: SmtpSink) -> None:
    s = _send_settings(smtp_server, reply_mode="send")
    parsed, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    _as_worker(db_sessions, s, "01-lunch-lecture-sv.eml", res)
    assert len(smtp_server.received) == 1
    item = smtp_server.received[0]
    assert item.rcpt_tos == ["karin.ek@nordlys-pharma.se"] and item.mail_from == "triage@skane.se"
    mail = item.message
    assert mail["In-Reply-To"] == parsed.message_id and mail["References"] == parsed.message_id
    assert mail["Subject"] == "Sv: Inbjudan: Lunchföreläsning om hjärtsvikt 3 mars"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert "Programmet med tider" in mail.get_content()
    with db_sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "sent" and reply.sent_by == "triage" and reply.sent_at is not None
        assert reply.rfc_message_id == mail["Message-ID"]
    # The same mail again (a re-poll): stored already, no hook, no second reply.
    _as_worker(db_sessions, s, "01-lunch-lecture-sv.eml", res)
    assert len(smtp_server.received) == 1


@pytest.mark.smtp
def test_rolled_back_transaction_sends_nothing(db_sessions: sessionmaker, smtp_server: SmtpSink) -> None:
    s = _send_settings(smtp_server, reply_mode="send")
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    session = db_sessions()
    with pytest.raises(RuntimeError):
        with session.begin():
            row, _ = store.record_message(session, "hjarta", None, None, sample("01-lunch-lecture-sv.eml"), res, now=NOW)
            with session.begin_nested():
                draft_reply_for(session, s, s.mailboxes[0], row, res)
            raise RuntimeError("the worker died before the commit")
    session.close()
    assert smtp_server.received == []
    with db_sessions() as check:
        assert check.scalars(select(Reply)).all() == []


@pytest.mark.smtp
def test_a_person_sends_a_draft_once(db_sessions: sessionmaker, smtp_server: SmtpSink) -> None:
    s = _send_settings(smtp_server)  # draft mode; a folder mailbox keeps the draft in the database
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    _as_worker(db_sessions, s, "01-lunch-lecture-sv.eml", res)
    assert smtp_server.received == []
    with db_sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "drafted" and reply.mode == "draft"
        reply.body_text = reply.body_text.replace("Hej Karin Ek,", "Hej Karin,")  # a person edits it
        session.commit()
        sent = send_reply(session, s, reply.id, sent_by="eva")
        assert sent.status == "sent" and sent.sent_by == "eva"
        with pytest.raises(ReplyNotSendable, match="is sent"):
            send_reply(session, s, reply.id, sent_by="eva")
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].message.get_content().startswith("Hej Karin,")


@pytest.mark.smtp
def test_suppressed_reply_needs_force(db_sessions: sessionmaker, smtp_server: SmtpSink) -> None:
    s = _send_settings(smtp_server)
    raw = sample("01-lunch-lecture-sv.eml").replace(b"MIME-Version", b"Precedence: bulk\nMIME-Version")
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    _as_worker(db_sessions, s, "x", res, raw=raw)
    with db_sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "suppressed"
        with pytest.raises(ReplyNotSendable, match="--force"):
            send_reply(session, s, reply.id, sent_by="eva")
        send_reply(session, s, reply.id, sent_by="eva", force=True)
    assert len(smtp_server.received) == 1


@pytest.mark.smtp
def test_web_send_button_path(db_sessions: sessionmaker, smtp_server: SmtpSink) -> None:
    s = _send_settings(smtp_server)
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    _as_worker(db_sessions, s, "01-lunch-lecture-sv.eml", res)
    with db_sessions() as session:
        reply = session.scalars(select(Reply)).one()
        send_stored_reply(s, reply.message, reply)
    mail = smtp_server.received[0].message
    assert mail["To"] == "Karin Ek <karin.ek@nordlys-pharma.se>" and mail["Auto-Submitted"] == "auto-replied"


def test_no_address_means_no_sending(db_session: Session) -> None:
    s = Settings(mailboxes=[MailboxConfig(name="hjarta", kind="folder", path=".")])
    _, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    reply, _ = prepare_reply(db_session, s, s.mailboxes[0], _stored(db_session, "01-lunch-lecture-sv.eml", res), res)
    assert reply.status == "drafted"
    with pytest.raises(ReplyNotSendable, match="set `address`"):
        send_reply(db_session, s, reply.id, sent_by="eva")


def test_reply_bytes_are_valid_mime() -> None:
    parsed, res = judged("01-lunch-lecture-sv.eml", findings=MISSING)
    s = settings()
    raw = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW).to_message(NOW).as_bytes()
    again = email.message_from_bytes(raw, policy=email.policy.default)
    assert not again.defects and again["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Programmet med tider" in again.get_content()


def test_a_forward_from_a_colleague_is_answered_to_the_supplier(db_session: Session) -> None:
    """The head of unit forwards an invitation she got directly: the supplier is asked, never automatically."""
    s = settings(reply_mode="send")
    parsed, res = judged("07-forward-sv.eml", chapter="2", findings=MISSING[:1])
    reply = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    assert reply.recipient == "peter.wall@kardio-nord.se" and reply.via_forward
    assert reply.subject == "Sv: Produktlunch – nya Cardiozen"
    assert reply.body_text.startswith("Hej Peter Wall,")
    assert "skrev Peter Wall <peter.wall@kardio-nord.se>:" in reply.body_text
    assert "> Vi vill gärna komma till er avdelning" in reply.body_text
    assert "Vidarebefordrar" not in reply.body_text
    stored, created = prepare_reply(db_session, s, s.mailboxes[0], _stored(db_session, "07-forward-sv.eml", res), res)
    assert created and stored.mode == "draft" and stored.status == "drafted"


def test_forward_without_a_configured_address_uses_the_domain_it_was_sent_to() -> None:
    s = Settings(mailboxes=[MailboxConfig(name="demo", kind="folder", path=".")])
    parsed, res = judged("07-forward-sv.eml", chapter="2", findings=MISSING[:1])
    reply = compose_reply(parsed, res, settings=s, mailbox=s.mailboxes[0], now=NOW)
    assert reply.recipient == "peter.wall@kardio-nord.se" and reply.via_forward


@pytest.mark.parametrize("name,greeted", [
    ("Karin Ek", "Karin Ek"), ("Ek, Karin", "Karin Ek"), ("Dr Anders Holm", "Dr Anders Holm"),
    ("Events at Borealis Medtech", None), ("Svensk förening för njurmedicin", None), ("Nordlys Pharma AB", None),
    ("Helixa Diagnostics utbildning", None), ("info@x.se", None), ("", None), (None, None), ("Team 42", None),
])
def test_greeting_names(name, greeted) -> None:
    from triage.outbound.replies.compose import greeting_name

    assert greeting_name(name) == greeted
