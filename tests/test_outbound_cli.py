"""`triage digest` and `triage replies` end to end: a migrated SQLite database, a config file, aiosmtpd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.support.outbound import SmtpSink, finding, result, sample
from triage.cli.app import app
from triage.config import load_settings
from triage.db import migrate, store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Digest, Reply
from triage.message.parse import parse_message
from triage.outbound.replies import prepare_reply

pytestmark = pytest.mark.smtp


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpSink(tls="none").start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path: Path, smtp: SmtpSink) -> Path:
    db = tmp_path / "triage.db"
    path = tmp_path / "triage.toml"
    path.write_text(f"""
database_url = "sqlite:///{db}"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
tls = "none"
sender = "triage@skane.se"

[digest]
recipients = ["chef@skane.se"]
directory = "{tmp_path / 'digests'}"

[[mailbox]]
name = "hjarta"
kind = "folder"
path = "{tmp_path}"
address = "samverkan.hjartkliniken@skane.se"
""", encoding="utf-8")
    migrate.upgrade(f"sqlite:///{db}")
    settings = load_settings(path, environ={})
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            parsed = parse_message(sample("01-lunch-lecture-sv.eml"))
            res = result("01", message_id=parsed.message_id, subject=parsed.subject, sender=str(parsed.sender),
                         chapter="3.2", verdict="needs_info",
                         findings=(finding("se-2026/3.2/invitation-elements", "missing", "content", "Program saknas."),))
            row, _ = store.record_message(session, "hjarta", None, None, sample("01-lunch-lecture-sv.eml"), res)
            prepare_reply(session, settings, settings.mailboxes[0], row, res)
            session.commit()
    finally:
        engine.dispose()
    return path


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def count(config: Path, query) -> int:
    settings = load_settings(config, environ={})
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(query) or 0)
    finally:
        engine.dispose()


def test_digest_command_delivers_once(config: Path, smtp: SmtpSink, tmp_path: Path) -> None:
    dry = run("digest", "--dry-run", "--config", str(config))
    assert dry.exit_code == 0 and "UPPGIFTER SAKNAS (1)" in dry.output
    assert count(config, select(func.count(Digest.id))) == 0 and smtp.received == []

    first = run("digest", "--config", str(config), "--show")
    assert first.exit_code == 0, first.output
    assert "made now, 1 message(s)" in first.output and "smtp  chef@skane.se: delivered" in first.output
    assert "UPPGIFTER SAKNAS (1)" in first.output
    assert len(smtp.received) == 1 and len(list((tmp_path / "digests" / "hjarta").glob("*.txt"))) == 1

    second = run("digest", "--config", str(config))
    assert second.exit_code == 0 and "made earlier" in second.output and "done" in second.output
    assert len(smtp.received) == 1


def test_digest_command_bad_input(config: Path) -> None:
    assert run("digest", "--date", "21/2", "--config", str(config)).exit_code == 2
    assert run("digest", "--mailbox", "nope", "--config", str(config)).exit_code == 2
    result_ = run("digest", "--date", "2999-01-01", "--config", str(config))
    assert result_.exit_code == 1 and "future" in result_.output


def test_replies_list_show_send(config: Path, smtp: SmtpSink) -> None:
    listing = run("replies", "list", "--config", str(config))
    assert listing.exit_code == 0 and "drafted" in listing.output and "karin.ek@nordlys-pharma.se" in listing.output
    reply_id = str(count(config, select(func.min(Reply.id))))
    shown = run("replies", "show", reply_id, "--config", str(config))
    assert shown.exit_code == 0 and "Programmet med tider" in shown.output and "drafted (draft)" in shown.output
    sent = run("replies", "send", reply_id, "--by", "eva", "--config", str(config))
    assert sent.exit_code == 0 and "sent to karin.ek@nordlys-pharma.se" in sent.output
    assert len(smtp.received) == 1 and smtp.received[0].rcpt_tos == ["karin.ek@nordlys-pharma.se"]
    again = run("replies", "send", reply_id, "--config", str(config))
    assert again.exit_code == 1 and "is sent" in again.output
    assert len(smtp.received) == 1
    assert run("replies", "show", "999", "--config", str(config)).exit_code == 1
    assert "sent" in run("replies", "list", "--status", "sent", "--config", str(config)).output


def test_worker_job_makes_the_digest(config: Path, smtp: SmtpSink) -> None:
    from triage.worker.jobs import run_digest

    run_digest(load_settings(config, environ={}))
    run_digest(load_settings(config, environ={}))
    assert len(smtp.received) == 1
    assert count(config, select(func.count(Digest.id))) == 1


