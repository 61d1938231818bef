"""`triage users`, `triage serve` and `triage data export-reviews` as a person types them."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from triage.cli import data_cmd, serve_cmd, users_cmd
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Base, User
from triage.web.auth import verify_password

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = tmp_path / "triage.db"
    engine = make_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    engine.dispose()
    path = tmp_path / "triage.toml"
    path.write_text(f'database_url = "sqlite:///{db}"\n', encoding="utf-8")
    return path


def _users(config: Path) -> list[User]:
    text = config.read_text()
    url = text.split('"')[1]
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(User).order_by(User.username)))
    finally:
        engine.dispose()


def test_users_add_prompts_twice_and_stores_only_an_argon2_hash(config: Path) -> None:
    result = runner.invoke(users_cmd.app, ["add", "anna", "--role", "manager", "--config", str(config)],
                           input="hemligt-lösen-1\nhemligt-lösen-1\n")
    assert result.exit_code == 0, result.output
    assert "hemligt-lösen-1" not in result.output  # never echoed
    assert result.output.count("Password") >= 1 and "Repeat" in result.output
    [user] = _users(config)
    assert user.username == "anna" and user.role == "manager"
    assert user.password_hash.startswith("$argon2id$") and verify_password(user.password_hash, "hemligt-lösen-1")


def test_users_add_refuses_a_mismatch_a_short_password_and_a_bad_role(config: Path) -> None:
    mismatch = runner.invoke(users_cmd.app, ["add", "bo", "--config", str(config)],
                             input="första-lösenordet\nandra-lösenordet\n")
    assert mismatch.exit_code != 0 and _users(config) == []
    short = runner.invoke(users_cmd.app, ["add", "bo", "--password-stdin", "--config", str(config)], input="kort\n")
    assert short.exit_code == 2 and _users(config) == []
    role = runner.invoke(users_cmd.app, ["add", "bo", "--role", "admin", "--password-stdin", "--config", str(config)],
                         input="långt-nog-lösen\n")
    assert role.exit_code == 2 and _users(config) == []


def test_users_add_twice_and_passwd_and_list(config: Path) -> None:
    args = ["add", "cecilia", "--password-stdin", "--config", str(config)]
    assert runner.invoke(users_cmd.app, args, input="första-lösenordet\n").exit_code == 0
    again = runner.invoke(users_cmd.app, args, input="första-lösenordet\n")
    assert again.exit_code == 1 and "exists already" in again.output
    changed = runner.invoke(users_cmd.app, ["passwd", "cecilia", "--password-stdin", "--config", str(config)],
                            input="nya-lösenordet-2\n")
    assert changed.exit_code == 0
    [user] = _users(config)
    assert verify_password(user.password_hash, "nya-lösenordet-2")
    assert not verify_password(user.password_hash, "första-lösenordet")
    listing = runner.invoke(users_cmd.app, ["list", "--config", str(config)])
    assert listing.exit_code == 0 and "cecilia" in listing.output and "reviewer" in listing.output
    assert "$argon2" not in listing.output


def test_users_hash_prints_a_hash_for_the_config_file() -> None:
    result = runner.invoke(users_cmd.app, ["hash", "--password-stdin"], input="konfig-lösenord\n")
    assert result.exit_code == 0
    printed = result.output.strip().splitlines()[-1]
    assert printed.startswith("$argon2id$") and verify_password(printed, "konfig-lösenord")


def test_users_commands_say_when_the_database_is_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "triage.toml"
    path.write_text(f'database_url = "sqlite:///{tmp_path / "empty.db"}"\n', encoding="utf-8")
    result = runner.invoke(users_cmd.app, ["list", "--config", str(path)])
    assert result.exit_code == 1 and "triage db upgrade" in result.output


def test_serve_refuses_to_start_without_a_secret_key(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_WEB_SECRET", raising=False)
    started: list[object] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append((app, kw)))
    app = typer.Typer()
    app.command()(serve_cmd.serve)
    refused = runner.invoke(app, ["--config", str(config)])
    assert refused.exit_code == 2 and "TRIAGE_WEB_SECRET" in refused.output and started == []
    dev = runner.invoke(app, ["--dev", "--port", "8123", "--config", str(config)])
    assert dev.exit_code == 0 and "throwaway" in dev.output
    assert started and started[0][1]["port"] == 8123 and started[0][1]["host"] == "127.0.0.1"


def test_export_reviews_command_writes_the_batch(config: Path, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "labels").mkdir(parents=True)
    out = tmp_path / "reviews.jsonl"
    result = runner.invoke(data_cmd.app, ["export-reviews", "--out", str(out), "--root", str(root), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "wrote 0 reviewed mail(s)" in result.output and out.read_text() == ""
