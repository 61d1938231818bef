"""The service behind `triage run`: its schedule, IDLE threads, stopped mailboxes, graceful shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.intake import (  # noqa: F401 - fixtures
    subprocess_env,
    ENVIRON,
    append,
    dovecot_auth,
    imap_mailbox,
    mail,
    sqlite_db,
)
from triage.config import DigestConfig, MailboxConfig, Settings
from triage.worker import jobs
from triage.worker.runner import WorkerError
from triage.worker.scheduler import Service



def wait_for(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def folder_settings(tmp_path: Path, **overrides) -> tuple[Settings, object]:
    folder = tmp_path / "mail"
    folder.mkdir(exist_ok=True)
    (folder / "a.eml").write_bytes(mail())
    database = sqlite_db(tmp_path, migrate_schema=True)
    settings = Settings(database_url=database.url, poll_interval_seconds=600,
                        mailboxes=[MailboxConfig(name="demo", kind="folder", path=str(folder))],
                        digest=DigestConfig(time="06:45", timezone="Europe/Stockholm",
                                            directory=str(tmp_path / "digests")), **overrides)
    return settings, database


def test_service_schedules_polls_digest_and_purge(tmp_path):
    settings, database = folder_settings(tmp_path)
    service = Service(settings, hooks=[])
    service.start()
    try:
        jobs_by_id = {job.id: job for job in service.scheduler.get_jobs()}
        # (+ "digest:late-start" when the test happens to start within 5 minutes after 06:45)
        assert {"poll:demo", "digest", "purge"} <= set(jobs_by_id) <= {"poll:demo", "digest", "purge",
                                                                           "digest:late-start", "purge:late-start"}
        assert jobs_by_id["poll:demo"].trigger.interval.total_seconds() == 600
        digest = {f.name: str(f) for f in jobs_by_id["digest"].trigger.fields}
        assert (digest["hour"], digest["minute"]) == ("6", "45")
        assert str(jobs_by_id["digest"].trigger.timezone) == "Europe/Stockholm"
        purge = {f.name: str(f) for f in jobs_by_id["purge"].trigger.fields}
        assert (purge["hour"], purge["minute"]) == ("3", "30")
        assert jobs_by_id["digest"].func == service._digest_job and jobs_by_id["purge"].func == service._purge_job
        assert service.leases is not None and service.leases.held() == {"demo"}  # alone: it holds every mailbox
        assert wait_for(lambda: len(database.messages()) == 1)  # the first poll runs at start-up
    finally:
        service.shutdown()
    assert not service.scheduler.running


def test_dry_run_service_schedules_no_digest_or_purge(tmp_path):
    settings, database = folder_settings(tmp_path)
    service = Service(settings, dry_run=True, hooks=[])
    service.start()
    try:
        assert {job.id for job in service.scheduler.get_jobs()} == {"poll:demo"}
    finally:
        service.shutdown()
    assert database.messages() == []


def test_every_mailbox_stopped_ends_the_service(tmp_path):
    settings, _database = folder_settings(tmp_path)
    settings.mailboxes[0].path = str(tmp_path / "missing")
    started = time.monotonic()
    assert Service(settings, hooks=[]).run_forever(handle_signals=False) == 1
    assert time.monotonic() - started < 10


def test_unmigrated_database_refuses_to_start(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}",
                        mailboxes=[MailboxConfig(name="demo", kind="folder", path=str(tmp_path))])
    with pytest.raises(WorkerError, match="triage db upgrade"):
        Service(settings).start()


@pytest.mark.dovecot
def test_idle_takes_new_mail_and_a_bad_password_stops_only_its_mailbox(dovecot_auth, tmp_path):
    database = sqlite_db(tmp_path, migrate_schema=True)
    good = imap_mailbox(dovecot_auth, name="good", idle=True, idle_renew_seconds=30)
    bad = imap_mailbox(dovecot_auth.other(), name="bad", password_env="TRIAGE_TEST_WRONG_PW")
    settings = Settings(database_url=database.url, poll_interval_seconds=600, mailboxes=[good, bad])
    service = Service(settings, hooks=[], environ={**ENVIRON, "TRIAGE_TEST_WRONG_PW": "wrong"})
    service.start()
    try:
        assert wait_for(lambda: service.runners["bad"].stopped_reason is not None)
        assert "refused" in service.runners["bad"].stopped_reason
        assert wait_for(lambda: service.runners["good"].source.connected)
        time.sleep(0.5)  # the IDLE thread is waiting now; the next poll job is 10 minutes away
        append(dovecot_auth, mail())
        assert wait_for(lambda: len(database.messages("good")) == 1, timeout=5), "not taken within 5 s"
        assert not service.all_stopped()
    finally:
        started = time.monotonic()
        service.shutdown()
    assert time.monotonic() - started < 10
    assert not any(thread.is_alive() for thread in service.idle_threads.values())


@pytest.mark.slow
def test_triage_run_stops_gracefully_on_sigterm(tmp_path):
    settings, database = folder_settings(tmp_path)
    config = tmp_path / "triage.toml"
    config.write_text(
        f'database_url = "{database.url}"\npoll_interval_seconds = 600\nlog_level = "info"\n\n'
        f'[[mailbox]]\nname = "demo"\nkind = "folder"\npath = "{settings.mailboxes[0].path}"\n'
    )
    env = subprocess_env()
    process = subprocess.Popen([sys.executable, "-m", "triage.cli", "run", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    try:
        wait_for(lambda: process.poll() is not None or len(database.messages()) == 1, timeout=60)
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        assert len(database.messages()) == 1
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err.decode()
    events = [json.loads(line)["event"] for line in err.decode().splitlines() if line.startswith("{")]
    assert "worker started" in events and "poll" in events
    assert events[-1] == "worker stopped" and "shutdown requested: finishing the current message" in events


def test_a_worker_started_just_after_the_digest_time_still_runs_it():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from triage.worker.scheduler import _just_missed

    zone = ZoneInfo("Europe/Stockholm")
    at = lambda h, m, s=0: datetime(2026, 3, 3, h, m, s, tzinfo=zone)  # noqa: E731
    assert _just_missed(7, 0, "Europe/Stockholm", now=at(7, 0))
    assert _just_missed(7, 0, "Europe/Stockholm", now=at(7, 4, 59))  # within APScheduler's misfire grace
    assert not _just_missed(7, 0, "Europe/Stockholm", now=at(7, 5, 1))  # later: tomorrow's digest catches up
    assert not _just_missed(7, 0, "Europe/Stockholm", now=at(6, 59))  # not yet: the cron job fires it
