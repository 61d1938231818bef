"""The worker on the embedded kinds (a folder of .eml files, a Maildir), and `triage run` itself."""

from __future__ import annotations

import json
import mailbox
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.intake import GARBAGE, db, mail, runner, sqlite_db  # noqa: F401 - fixtures
from triage.cli.app import app
from triage.config import MailboxConfig
from triage.mailbox.maildir import MaildirMailbox

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(autouse=True)
def _keep_logging_for_pytest(monkeypatch):
    """`triage run` configures logging for the process; inside pytest that would outlive the test."""
    monkeypatch.setattr("triage.cli.run_cmd.configure_logging", lambda *args, **kwargs: None)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_folder_mailbox_is_read_once_and_never_changed(tmp_path, db):
    folder = tmp_path / "mail"
    shutil.copytree(SAMPLES, folder)
    before = snapshot(folder)
    config = MailboxConfig(name="demo", kind="folder", path=str(folder))
    count = len(list(folder.glob("*.eml")))

    first = runner(db, config).poll()
    assert first.error is None and first.new == count
    assert first.processed + first.failed == count and first.failed >= 1  # 16-malformed.eml
    rows = db.messages()
    assert len(rows) == count and all(r.filed and r.filed_folder is None for r in rows)
    assert {r.origin for r in rows} == {str(folder / name) for name in before if name.endswith(".eml")}
    assert snapshot(folder) == before  # read-only: nothing moved, renamed or written

    restarted = runner(db, config).poll()  # a new process: files recognised by the store, not judged again
    assert (restarted.new, restarted.processed, restarted.known) == (0, 0, count)
    assert all(r.attempts == 1 for r in db.messages())

    (folder / "99-new.eml").write_bytes(mail())
    again = runner(db, config).poll()
    assert again.processed == 1 and len(db.messages()) == count + 1


def make_maildir(path: Path, *messages: bytes) -> Path:
    md = mailbox.Maildir(str(path), create=True)
    for raw in messages:
        md.add(raw)
    return path


def test_maildir_mailbox_is_filed_into_subfolders(tmp_path, db):
    root = make_maildir(tmp_path / "Maildir", mail(), mail(), GARBAGE)
    config = MailboxConfig(name="md", kind="maildir", path=str(root))
    worker = runner(db, config)
    report = worker.poll()
    assert report.error is None and (report.processed, report.failed, report.filed) == (2, 1, 3)
    assert len(mailbox.Maildir(str(root), create=False)) == 0
    filed = len(mailbox.Maildir(str(root / ".Triage.Processed"), create=False)) + \
        len(mailbox.Maildir(str(root / ".Triage.Needs review"), create=False))
    assert filed == 2 and len(mailbox.Maildir(str(root / ".Triage.Failed"), create=False)) == 1
    assert worker.poll().new == 0 and len(db.messages()) == 3


def test_maildir_crash_between_store_and_move_is_recovered(tmp_path, db, monkeypatch):
    root = make_maildir(tmp_path / "Maildir", mail(), mail())
    config = MailboxConfig(name="md", kind="maildir", path=str(root))
    real_file = MaildirMailbox.file

    def crash(*args, **kwargs):
        raise OSError("simulated crash")

    monkeypatch.setattr(MaildirMailbox, "file", crash)
    first = runner(db, config).poll()
    assert first.error and first.processed == 2 and not any(m.filed for m in db.messages())
    monkeypatch.setattr(MaildirMailbox, "file", real_file)
    second = runner(db, config).poll()
    assert second.error is None and second.recovered == 2 and second.processed == 0
    assert len(mailbox.Maildir(str(root), create=False)) == 0
    assert all(m.filed and m.attempts == 1 for m in db.messages())


# --- the command ------------------------------------------------------------------------------

def write_config(tmp_path: Path, database_url: str, folder: Path) -> Path:
    config = tmp_path / "triage.toml"
    config.write_text(
        f'database_url = "{database_url}"\nlog_level = "warning"\n\n'
        f'[[mailbox]]\nname = "demo"\nkind = "folder"\npath = "{folder}"\n'
    )
    return config


def test_run_once_json_and_dry_run(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail())
    (folder / "b.eml").write_bytes(GARBAGE)
    database = sqlite_db(tmp_path, migrate_schema=True)
    config = write_config(tmp_path, database.url, folder)
    cli = CliRunner()

    dry = cli.invoke(app, ["run", "--once", "--dry-run", "--json", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout.strip().splitlines()[-1])
    assert report["dry_run"] and len(report["planned"]) == 2 and database.messages() == []

    real = cli.invoke(app, ["run", "--once", "--json", "--mailbox", "demo", "--config", str(config)])
    assert real.exit_code == 0, real.output
    report = json.loads(real.stdout.strip().splitlines()[-1])
    assert (report["mailbox"], report["processed"], report["failed"]) == ("demo", 1, 1)
    assert len(database.messages()) == 2

    human = cli.invoke(app, ["run", "--once", "--config", str(config)])
    assert human.exit_code == 0 and "demo" in human.stdout and "2 already known" in human.stdout


def test_run_refuses_an_unmigrated_database_and_unknown_mailbox(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}", folder)
    result = CliRunner().invoke(app, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 2 and "triage db upgrade" in result.output
    database = sqlite_db(tmp_path, migrate_schema=True)
    config = write_config(tmp_path, database.url, folder)
    result = CliRunner().invoke(app, ["run", "--once", "--mailbox", "nope", "--config", str(config)])
    assert result.exit_code == 2 and "no mailbox named 'nope'" in result.output


def test_a_failing_mailbox_makes_run_once_exit_1(tmp_path):
    database = sqlite_db(tmp_path, migrate_schema=True)
    config = write_config(tmp_path, database.url, tmp_path / "missing-folder")
    result = CliRunner().invoke(app, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 1 and "stopped" in result.stdout and "does not exist" in result.stdout


def test_help_shows_examples():
    cli = CliRunner()
    run_help = cli.invoke(app, ["run", "--help"])
    assert run_help.exit_code == 0
    for text in ("triage run --once", "--dry-run", "--mailbox", "Examples"):
        assert text in run_help.stdout
    bench_help = cli.invoke(app, ["bench", "imap", "--help"])
    assert bench_help.exit_code == 0 and "--messages" in bench_help.stdout and "triage bench imap" in bench_help.stdout
