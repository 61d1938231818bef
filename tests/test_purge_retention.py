"""Retention: `triage purge` and the daily job delete what is older than the period, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from structlog.testing import capture_logs
from typer.testing import CliRunner

from triage.cli.app import app
from triage.config import Settings
from triage.db import migrate, store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Message, Reply, Result, Review, utcnow
from triage.results import Decision, TriageResult
from triage.worker import jobs


def _url(db_url: URL) -> str:
    return db_url.render_as_string(hide_password=False)


def _mail(name: str) -> tuple[bytes, TriageResult]:
    raw = (f"From: a@pharma.example\r\nTo: samverkan@region.example\r\nSubject: {name}\r\n"
           f"Message-ID: <{name}@x>\r\n\r\nHej {name}\r\n").encode()
    result = TriageResult(file=None, message_id=f"<{name}@x>", subject=name, sender="a@pharma.example",
                          language="sv", decision=Decision(verdict="needs_info"))
    return raw, result


def _seed(url: str, ages: dict[str, datetime]) -> None:
    """One message per name, stored at the given moment, with a reply and a review."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            for uid, (name, stored) in enumerate(ages.items(), start=1):
                raw, result = _mail(name)
                row, _ = store.record_message(session, "unit-a", 1, uid, raw, result, now=stored)
                store.claim_reply(session, row, mode="draft", recipient="a@pharma.example", now=stored)
                store.record_review(session, row, "kerstin", before={"chapter": "2"}, after={"chapter": "3.2"},
                                    now=stored)
    finally:
        engine.dispose()


def _left(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return {
                "messages": sorted(session.scalars(sa.select(Message.subject))),
                "results": session.scalar(sa.select(sa.func.count()).select_from(Result)),
                "replies": session.scalar(sa.select(sa.func.count()).select_from(Reply)),
                "reviews": session.scalar(sa.select(sa.func.count()).select_from(Review)),
            }
    finally:
        engine.dispose()


@pytest.fixture
def migrated(db_url: URL) -> str:
    url = _url(db_url)
    if db_url.drivername.startswith("sqlite"):
        Path(db_url.database).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)
    return url


def test_daily_job_deletes_exactly_what_passed_the_retention_on_a_controlled_clock(migrated: str) -> None:
    now = datetime(2030, 1, 15, 3, 30, tzinfo=UTC)
    settings = Settings(database_url=migrated, retention_days=3 * 365)
    cutoff = now - timedelta(days=3 * 365)
    _seed(migrated, {"old": cutoff - timedelta(minutes=1), "edge": cutoff + timedelta(minutes=1),
                     "new": now - timedelta(days=1)})

    planned = jobs.run_purge(settings, now=now, dry_run=True)
    assert planned is not None and planned["messages"] == 1 and planned["replies"] == 1 and planned["reviews"] == 1
    assert _left(migrated)["messages"] == ["edge", "new", "old"]  # a dry run deletes nothing

    done = jobs.run_purge(settings, now=now)
    assert done == planned
    assert _left(migrated) == {"messages": ["edge", "new"], "results": 2, "replies": 2, "reviews": 2}

    # A day later the "edge" message has passed the period too; the clock decides, not the run count.
    assert jobs.run_purge(settings, now=now + timedelta(days=1))["messages"] == 1
    assert _left(migrated)["messages"] == ["new"]


def test_retention_is_configurable(migrated: str) -> None:
    now = datetime(2030, 1, 15, tzinfo=UTC)
    _seed(migrated, {"ten-days": now - timedelta(days=10), "two-days": now - timedelta(days=2)})
    assert jobs.run_purge(Settings(database_url=migrated, retention_days=30), now=now)["messages"] == 0
    assert jobs.run_purge(Settings(database_url=migrated, retention_days=7), now=now)["messages"] == 1
    assert _left(migrated)["messages"] == ["two-days"]


def test_purge_runs_once_per_cluster_while_another_worker_holds_the_lease(migrated: str) -> None:
    now = datetime(2030, 1, 15, tzinfo=UTC)
    _seed(migrated, {"old": now - timedelta(days=4 * 365)})
    engine = make_engine(migrated)
    try:
        with session_factory(engine)() as session, session.begin():
            assert store.acquire_lease(session, jobs.PURGE_LEASE, "other-host:1", timedelta(hours=1), now=now)
    finally:
        engine.dispose()
    settings = Settings(database_url=migrated)
    assert jobs.run_purge(settings, now=now, owner="me:2") is None
    assert _left(migrated)["messages"] == ["old"]
    # The other worker died: once its lease has expired, the purge is taken over.
    assert jobs.run_purge(settings, now=now + timedelta(hours=2), owner="me:2")["messages"] == 1


def test_cli_dry_run_then_purge(migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("triage.cli.purge_cmd.configure_logging", lambda *args, **kwargs: None)
    now = utcnow()
    _seed(migrated, {"ancient": now - timedelta(days=4 * 365), "recent": now - timedelta(days=3)})
    config = tmp_path / "triage.toml"
    config.write_text(f'database_url = "{migrated}"\nretention_days = 1095\n')
    cli = CliRunner()
    with capture_logs() as events:
        dry = cli.invoke(app, ["purge", "--dry-run", "--json", "--config", str(config)], catch_exceptions=False)
    assert any(e["event"] == "purge job: dry run" and e["messages"] == 1 for e in events)
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["counts"]["messages"] == 1 and report["retention_days"] == 1095
    assert _left(migrated)["messages"] == ["ancient", "recent"]
    with capture_logs():
        real = cli.invoke(app, ["purge", "--config", str(config)], catch_exceptions=False)
    assert real.exit_code == 0, real.output
    assert "deleted" in real.stdout and "messages" in real.stdout
    assert _left(migrated)["messages"] == ["recent"]


def test_cli_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    config = tmp_path / "triage.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "empty.db"}"\n')
    result = CliRunner().invoke(app, ["purge", "--config", str(config)])
    assert result.exit_code == 2 and "triage db upgrade" in result.output
