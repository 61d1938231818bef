"""The managers' digest: grouping, the golden plain text, catch-up, and delivery once (SMTP, files).

The golden test stores a fixed set of results modelled on the bundled samples (every verdict,
a needs-review mail, a mail judged before classification existed, a failed one), makes the
digest with a fixed clock, and compares its plain text with tests/data/golden/. Regenerate
after an intended change with:  TRIAGE_REGENERATE_GOLDEN=1 python -m pytest tests/test_outbound_digest.py
It runs on SQLite and on the real PostgreSQL (db_url fixtures).
"""

from __future__ import annotations

import email.policy
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support.outbound import SmtpSink, aware, finding, result, sample
from triage.config import DigestConfig, MailboxConfig, Settings, SmtpConfig
from triage.db import store
from triage.db.schema import Digest, DigestDelivery, Message
from triage.message.parse import parse_message
from triage.outbound.digest import (
    DigestPeriodError,
    make_digest,
    preview_digest,
    run_mailbox_digest,
    write_digest_to_disk,
)
from triage.outbound.digest.collect import digest_period, digest_view
from triage.outbound.digest.render import render_digest
from triage.outbound.replies import prepare_reply

GOLDEN = Path(__file__).parent / "data" / "golden"
REGENERATE = os.environ.get("TRIAGE_REGENERATE_GOLDEN") == "1"

#: The fixed clock: the digest of Saturday 21 February 2026 at 07:00 Stockholm time.
NOW = aware(2026, 2, 21, 6, 0)
PROCESSED = aware(2026, 2, 20, 9, 0)


def settings_for(tmp_path: Path, **mailbox_changes) -> Settings:
    mailbox = MailboxConfig(
        name="hjarta", kind="folder", path=str(tmp_path), address="samverkan.hjartkliniken@skane.se",
        signature="Funktionsbrevlådan Hjärtkliniken\nSkånes universitetssjukhus", **mailbox_changes,
    )
    return Settings(
        database_url="sqlite://", mailboxes=[mailbox],
        digest=DigestConfig(directory=str(tmp_path / "digests"), review_url="https://triage.example.se/"),
    )


def from_sample(name: str, **kwargs):
    parsed = parse_message(sample(name))
    return result(name, message_id=parsed.message_id, subject=parsed.subject, sender=str(parsed.original_sender),
                  language=parsed.language, **kwargs)


def golden_results():
    """(sample file, TriageResult) for every case the digest must show."""
    return [
        ("02-dinner-resort-sv.eml", from_sample(
            "02-dinner-resort-sv.eml", chapter="3.2", confidence=0.88, verdict="non_compliant",
            organizer="Medivio AB", start=aware(2026, 3, 13, 8), end=aware(2026, 3, 15, 14),
            location="Copperhill Mountain Lodge, Åre", costs_covered=["travel", "lodging", "meal"],
            registration_deadline=date(2026, 3, 1),
            findings=(
                finding("se-2026/3.1/travel", "violation", "travel_paid_by_industry",
                        "Företaget betalar deltagarnas flyg.", "Vi står för flyg tur och retur från Malmö", "high"),
                finding("se-2026/3.1/lodging", "violation", "lodging_paid_by_industry",
                        "Företaget betalar hotellnätter.", "två nätter på hotellet", "high"),
                finding("se-2026/3.1/entertainment", "violation", "entertainment",
                        "Skidåkning och spa är fritidsaktiviteter.", "skidåkning och spa", "high"),
                finding("se-2026/grundregel/companion", "violation", "companion_invited",
                        "Respektive bjuds in.", "dig och din partner", "high"),
                finding("se-2026/3.2/invitation-elements", "missing", "target_group",
                        "Inbjudan anger inte målgruppen."),
            ))),
        ("01-lunch-lecture-sv.eml", from_sample(
            "01-lunch-lecture-sv.eml", chapter="3.2", confidence=0.93, verdict="needs_info",
            organizer="Nordlys Pharma AB", start=aware(2026, 3, 3, 11), end=aware(2026, 3, 3, 12),
            location="Konferensrum 3, Skånes universitetssjukhus, Lund",
            target_group="läkare och sjuksköterskor på hjärtmottagningen", costs_covered=["meal"],
            registration_deadline=date(2026, 2, 24),
            findings=(
                finding("se-2026/3.2/invitation-elements", "missing", "costs_covered",
                        "Det framgår inte vad måltiden består av och var den serveras."),
            ))),
        ("03-kurs-no.eml", from_sample(
            "03-kurs-no.eml", jurisdiction="NO", chapter="3.2", confidence=0.81, no_section="LMI 17.2",
            verdict="needs_info", organizer="Fjordmed AS", start=aware(2026, 3, 12, 7, 30), end=aware(2026, 3, 12, 14, 30),
            location="Scandic Ørnen, Bergen", target_group="leger ved lungeavdelingen", costs_covered=["meal"],
            registration_deadline=date(2026, 3, 1),
            findings=(
                finding("no-2023/5/payer", "missing", "payer", "Invitasjonen sier ikke hvem som betaler."),
            ))),
        ("04-advisory-board-en.eml", from_sample(
            "04-advisory-board-en.eml", chapter="4", confidence=0.48, verdict="non_compliant", needs_review=True,
            organizer="Altavita Biosciences",
            findings=(
                finding("se-2026/4/individual", "violation", "agreement_with_individual",
                        "The assignment is agreed with the person, not the employer.",
                        "we handle everything directly with you", "high"),
                finding("se-2026/4/exclusivity", "violation", "exclusivity", "Non-compete clause.",
                        "you agree not to advise any competing company for two years", "high"),
            ))),
        ("06-symposium-pdf-sv.eml", from_sample("06-symposium-pdf-sv.eml")),  # judged before the classifier existed
        ("05-service-info-ics-sv.eml", from_sample(
            "05-service-info-ics-sv.eml", chapter="1.1", confidence=0.9, verdict="compliant",
            organizer="Helixa Diagnostics", start=aware(2026, 3, 5, 13), end=aware(2026, 3, 5, 14),
            location="Klinisk kemi, Lund", online=True, target_group="biomedicinska analytiker")),
        ("08-newsletter-html-sv.eml", from_sample(
            "08-newsletter-html-sv.eml", chapter="not_invitation", confidence=0.97, verdict="not_applicable")),
        ("09-auto-reply-sv.eml", from_sample(
            "09-auto-reply-sv.eml", chapter="not_invitation", confidence=0.99, verdict="not_applicable")),
        ("16-malformed.eml", result(
            "16-malformed.eml", message_id=None, subject=None, sender=None, language=None, jurisdiction=None,
            error="parse: not a mail: no header section (input starts '\\x00\\x00\\x1f')")),
    ]


def store_golden_set(session: Session, settings: Settings) -> dict[str, Message]:
    """Store the golden results as the worker would (processed a day before NOW), with replies."""
    rows: dict[str, Message] = {}
    for index, (name, res) in enumerate(golden_results()):
        row, created = store.record_message(
            session, "hjarta", None, None, sample(name), res, origin=name,
            received_at=aware(2026, 2, 20, 8, index), now=replace_minute(PROCESSED, index),
        )
        assert created
        rows[name] = row
        prepare_reply(session, settings, settings.mailboxes[0], row, res, now=replace_minute(PROCESSED, index))
    session.flush()
    return rows


def replace_minute(value, minute):
    return value.replace(minute=minute)


def golden_compare(text: str, name: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with TRIAGE_REGENERATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8")


# --- the golden digest --------------------------------------------------------------------------------

def test_golden_digest_text(db_session: Session, tmp_path: Path) -> None:
    """The plain-text digest of a fixed set of stored results, with a fixed clock, on SQLite and PostgreSQL."""
    settings = settings_for(tmp_path)
    store_golden_set(db_session, settings)
    digest, created = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    assert created and digest.period == "2026-02-21" and digest.message_count == 9
    golden_compare(digest.body_text, "digest_sv.txt")


def test_golden_digest_text_english(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, language="en")
    store_golden_set(db_session, settings)
    digest, _ = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    golden_compare(digest.body_text, "digest_en.txt")


def test_digest_groups_actions_and_highlights(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rows = store_golden_set(db_session, settings)
    digest, _ = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    view = digest_view(db_session, settings.mailboxes[0], digest)
    assert view.counts() == {"non_compliant": 1, "needs_info": 2, "needs_review": 2, "compliant": 1, "failed": 1,
                             "not_applicable": 2}
    text = digest.body_text
    # Order: non-compliant first, then needs-info, needs-review, compliant, failed, not-invitations.
    order = [text.index(h) for h in ("FÖLJER INTE REGLERNA (1) – Tacka nej",
                                     "UPPGIFTER SAKNAS (2) – Begär kompletterande uppgifter",
                                     "BEHÖVER GRANSKAS (2) – Granska", "FÖLJER REGLERNA (1) – Får delta – beslut av chefen",
                                     "KUNDE INTE LÄSAS (1)", "Inte inbjudningar (2)")]
    assert order == sorted(order)
    # Chapter in words, findings with rule id and quoted evidence, the reply's state, the review link.
    assert "3.2 Sammankomst arrangerad av företag" in text
    assert "se-2026/3.1/travel" in text and "”Vi står för flyg tur och retur från Malmö”" in text
    assert "Svarsutkast väntar på granskning" in text
    assert f"https://triage.example.se/messages/{rows['01-lunch-lecture-sv.eml'].id}" in text
    # The deadline 24 February is 3 days ahead: highlighted; 1 March (8 days) is not.
    assert "(!) tis 24 februari 2026 (om 3 dagar)" in text
    assert "sön 1 mars 2026 (om 8 dagar)\n" in text
    # A failed message shows its error; a provisional verdict shows under review.
    assert "parse: not a mail" in text
    assert "preliminär bedömning: Följer inte reglerna" in text


def test_hostile_text_is_escaped_in_html(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    hostile = "<script>alert(1)</script>"
    res = result("x.eml", message_id="<hostile@evil.example>", subject=hostile, sender=f"Evil {hostile} <evil@evil.example>",
                 chapter="3.2", verdict="needs_info", location='"><img src=x onerror=alert(2)>',
                 findings=(finding("se-2026/3.2/invitation-elements", "missing", "content", hostile, hostile),))
    store.record_message(db_session, "hjarta", None, None, b"Subject: x\n\nx", res, now=PROCESSED)
    digest, _ = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    html = digest.body_html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert hostile in digest.body_text  # plain text shows it as text


def test_nothing_new_still_makes_an_empty_digest(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    digest, created = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    assert created and digest.message_count == 0
    assert "Inga nya meddelanden sedan förra sammanfattningen." in digest.body_text
    assert digest.subject == "Triage hjarta 2026-02-21: inga nya meddelanden"


# --- periods: catch up, never repeat -------------------------------------------------------------------

def _store(session: Session, n: int, when) -> None:
    res = result(f"{n}.eml", message_id=f"<m{n}@example.com>", subject=f"Mail {n}", sender="a@example.com",
                 chapter="not_invitation", verdict="not_applicable")
    store.record_message(session, "hjarta", None, None, f"Message-ID: <m{n}@example.com>\n\nx".encode(), res, now=when)


def test_catch_up_after_a_missed_day_and_never_repeat(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    box = settings.mailboxes[0]
    _store(db_session, 1, aware(2026, 2, 18, 10))
    d1, created = make_digest(db_session, settings, box, now=aware(2026, 2, 19, 6))
    assert created and d1.message_count == 1
    # 19 Feb: a mail; the job of 20 Feb does not run; 20 Feb: another mail.
    _store(db_session, 2, aware(2026, 2, 19, 12))
    _store(db_session, 3, aware(2026, 2, 20, 12))
    d3, created = make_digest(db_session, settings, box, now=aware(2026, 2, 21, 6))
    assert created and d3.message_count == 2 and d3.period_start == d1.period_end
    assert "Mail 2" in d3.body_text and "Mail 3" in d3.body_text and "Mail 1" not in d3.body_text
    # Running the same day again makes nothing new, even with new mail meanwhile.
    _store(db_session, 4, aware(2026, 2, 21, 6, 30))
    again, created = make_digest(db_session, settings, box, now=aware(2026, 2, 21, 7))
    assert not created and again.id == d3.id and again.message_count == 2
    # The missed day cannot be made afterwards: its mail was reported on 21 Feb.
    with pytest.raises(DigestPeriodError, match="reported in the digest of 2026-02-21"):
        make_digest(db_session, settings, box, on=date(2026, 2, 20), now=aware(2026, 2, 21, 8))
    with pytest.raises(DigestPeriodError, match="future"):
        make_digest(db_session, settings, box, on=date(2026, 2, 23), now=aware(2026, 2, 21, 8))
    # Mail 4 comes in the next day's digest.
    d4, created = make_digest(db_session, settings, box, now=aware(2026, 2, 22, 6))
    assert created and d4.message_count == 1 and "Mail 4" in d4.body_text


def test_period_of_a_past_day_ends_at_its_digest_time(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    period = digest_period(settings, aware(2026, 2, 21, 12), date(2026, 2, 20))
    assert period.label == "2026-02-20" and period.end == aware(2026, 2, 20, 6)  # 07:00 Stockholm
    assert digest_period(settings, aware(2026, 2, 21, 23, 30)).label == "2026-02-22"  # already Sunday in Stockholm


def test_dry_run_preview_writes_nothing(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    _store(db_session, 1, aware(2026, 2, 20, 10))
    rendered = preview_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    assert "Mail 1" in rendered.text
    assert db_session.scalar(select(func.count(Digest.id))) == 0
    assert db_session.scalar(select(func.count(Message.id)).where(Message.digest_pk.is_not(None))) == 0


def test_write_digest_to_disk_for_the_demo(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store_golden_set(db_session, settings)
    html_path, text_path, text = write_digest_to_disk(db_session, settings, "hjarta", now=NOW)
    assert html_path == tmp_path / "digests" / "hjarta" / "2026-02-21.html"
    assert text_path.read_text(encoding="utf-8") == text and "UPPGIFTER SAKNAS" in text
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # Again: the same digest, the same files, one recorded delivery.
    again = write_digest_to_disk(db_session, settings, "hjarta", now=aware(2026, 2, 21, 9))
    assert again[2] == text
    assert db_session.scalar(select(func.count(DigestDelivery.id))) == 1


# --- SMTP delivery against a real server ----------------------------------------------------------------

@pytest.fixture
def smtp_server():
    server = SmtpSink(tls="starttls", users={"digest": "digest-pw"}).start()
    try:
        yield server
    finally:
        server.stop()


def smtp_settings(tmp_path: Path, server: SmtpSink, **changes) -> Settings:
    settings = settings_for(tmp_path)
    smtp = SmtpConfig(host="127.0.0.1", port=server.port, tls="starttls", ca_file=str(server.cert),
                      username="digest", password_env="TEST_DIGEST_SMTP_PW", sender="triage@skane.se")
    digest = replace(settings.digest, recipients=["chef@skane.se", "bitr.chef@skane.se"], **changes)
    return replace(settings, smtp=smtp, digest=digest)


@pytest.mark.smtp
def test_digest_by_smtp_arrives_once_as_valid_mime(db_session: Session, tmp_path: Path, smtp_server: SmtpSink,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DIGEST_SMTP_PW", "digest-pw")
    settings = smtp_settings(tmp_path, smtp_server)
    hostile = "<script>alert(1)</script>"
    store_golden_set(db_session, settings)
    store.record_message(db_session, "hjarta", None, None, b"Subject: y\n\ny", result(
        "h.eml", message_id="<h@evil.example>", subject=hostile, sender="evil@evil.example",
        chapter="3.2", verdict="compliant"), now=PROCESSED)
    db_session.commit()

    outcome = run_mailbox_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    assert outcome.ok and outcome.created and outcome.message_count == 10
    assert sorted((d.channel, d.status) for d in outcome.deliveries) == [
        ("file", "delivered"), ("smtp", "delivered"), ("smtp", "delivered")]
    received = smtp_server.received
    assert sorted(r.rcpt_tos[0] for r in received) == ["bitr.chef@skane.se", "chef@skane.se"]
    for item in received:
        assert item.mail_from == "triage@skane.se" and len(item.rcpt_tos) == 1
        mail = item.message
        assert mail.get_content_type() == "multipart/alternative"
        parts = list(mail.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        assert all(p.get_content_charset() == "utf-8" for p in parts)
        assert mail["Subject"] == "Triage hjarta 2026-02-21: 10 nya, 6 att åtgärda"
        assert mail["From"] == "triage@skane.se" and mail["To"] == item.rcpt_tos[0]
        assert mail["Auto-Submitted"] == "auto-generated" and mail["Message-ID"] and mail["Date"]
        text, html = parts[0].get_content(), parts[1].get_content()
        assert text.replace("\r\n", "\n") == outcome.text
        assert hostile in text
        assert "<script" not in html.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert not mail.defects and all(not p.defects for p in parts)

    # A second run sends nothing.
    again = run_mailbox_digest(db_session, settings, settings.mailboxes[0], now=aware(2026, 2, 21, 8))
    assert not again.created and {d.status for d in again.deliveries} == {"done"}
    assert len(smtp_server.received) == 2
    rows = db_session.scalars(select(DigestDelivery)).all()
    assert {(r.channel, r.status, r.attempts) for r in rows} == {("smtp", "delivered", 1), ("file", "delivered", 1)}


@pytest.mark.smtp
def test_failed_smtp_delivery_is_retried_by_the_next_run(db_session: Session, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DIGEST_SMTP_PW", "digest-pw")
    server = SmtpSink(tls="starttls", users={"digest": "digest-pw"})
    settings = smtp_settings(tmp_path, server)
    settings = replace(settings, digest=replace(settings.digest, recipients=["chef@skane.se"], directory=""))
    _store(db_session, 1, PROCESSED)
    db_session.commit()
    # The server is not running yet (and its certificate does not exist): the delivery fails.
    settings = replace(settings, smtp=replace(settings.smtp, ca_file=None))
    first = run_mailbox_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    assert not first.ok and first.deliveries[0].status == "failed" and "cannot connect" in first.deliveries[0].error
    server.start()
    try:
        settings = replace(settings, smtp=replace(settings.smtp, ca_file=str(server.cert)))
        second = run_mailbox_digest(db_session, settings, settings.mailboxes[0], now=aware(2026, 2, 21, 7))
        assert second.ok and second.deliveries[0].status == "delivered"
        third = run_mailbox_digest(db_session, settings, settings.mailboxes[0], now=aware(2026, 2, 21, 8))
        assert third.deliveries[0].status == "done"
        assert len(server.received) == 1
        row = db_session.scalars(select(DigestDelivery)).one()
        assert row.status == "delivered" and row.attempts == 2
    finally:
        server.stop()


def test_html_is_outlook_safe(db_session: Session, tmp_path: Path) -> None:
    """Inline styles only: no <style>, no scripts, no external resources, tables for layout."""
    settings = settings_for(tmp_path)
    store_golden_set(db_session, settings)
    digest, _ = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    html = digest.body_html.lower()
    for forbidden in ("<style", "<script", "<link", "<img", "javascript:", "@import", "class="):
        assert forbidden not in html
    assert html.count("<table") > 5 and 'lang="sv"' in html


def test_norwegian_digest_labels(db_session: Session, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, language="nb")
    store_golden_set(db_session, settings)
    view_rendered = render_digest(
        digest_view(db_session, settings.mailboxes[0], make_digest(db_session, settings, settings.mailboxes[0], now=NOW)[0]),
        language="nb", timezone="Europe/Oslo", now=NOW,
    )
    assert "MANGLER OPPLYSNINGER (2) – Be om opplysninger" in view_rendered.text
    assert "3.2 Møte arrangert av firma (LMI 17.2)" in view_rendered.text
    assert "Påmeldingsfrist" in view_rendered.text


def test_email_policy_parses_digest_bytes(db_session: Session, tmp_path: Path) -> None:
    """The digest mail survives a round trip through bytes (what IMAP APPEND and SMTP carry)."""
    from triage.outbound.digest.deliver import digest_mail

    settings = settings_for(tmp_path)
    store_golden_set(db_session, settings)
    digest, _ = make_digest(db_session, settings, settings.mailboxes[0], now=NOW)
    raw = digest_mail(settings, settings.mailboxes[0], digest, ["chef@skane.se"], "x").as_bytes()
    assert b"\r\n" in raw and max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == digest.body_text
