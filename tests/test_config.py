"""Configuration: defaults → TOML → environment, typed, with secrets that never show."""

from __future__ import annotations

import json
import tomllib

import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.config import ConfigError, Secret, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "triage.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_sqlite_setup():
    settings = load_settings(environ={})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.retention_days == 1095
    assert settings.mailboxes == []


def test_toml_then_environment_override(tmp_path):
    path = write(tmp_path, """
database_url = "sqlite:///from-file.db"
poll_interval_seconds = 30
[smtp]
host = "smtp.region.se"
[[mailbox]]
name = "hjarta"
kind = "imap"
host = "imap.region.se"
password_env = "HJARTA_PW"
jurisdiction = "SE"
""")
    settings = load_settings(path, environ={"TRIAGE_POLL_INTERVAL_SECONDS": "15", "TRIAGE_SMTP__PORT": "2525"})
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.poll_interval_seconds == 15
    assert settings.smtp.host == "smtp.region.se" and settings.smtp.port == 2525
    assert settings.mailbox("hjarta").host == "imap.region.se"


def test_secret_comes_from_environment_and_never_shows(tmp_path):
    path = write(tmp_path, '[[mailbox]]\nname = "a"\nkind = "imap"\nhost = "h"\npassword_env = "PW_A"\n')
    settings = load_settings(path, environ={})
    secret = settings.mailbox("a").password({"PW_A": "hunter2-very-secret"})
    assert isinstance(secret, Secret) and secret.reveal() == "hunter2-very-secret"
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)


def test_secret_from_file(tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text("s3cret\n")
    path = write(tmp_path, f'[[mailbox]]\nname = "a"\nkind = "imap"\nhost = "h"\npassword_file = "{secret_file}"\n')
    assert load_settings(path, environ={}).mailbox("a").password({}).reveal() == "s3cret"


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("poll_interval_seconds = 'often'", "whole number"),
        ("colour = 'blue'", "unknown key"),
        ('[[mailbox]]\nname = "a"\nkind = "pop3"\npath = "x"', "kind must be"),
        ('[[mailbox]]\nname = "a"\nkind = "imap"', "needs host"),
        ("[classifier]\nreview_threshold = 1.5", "between 0 and 1"),
    ],
)
def test_bad_config_says_what_is_wrong(tmp_path, text, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_settings(write(tmp_path, text), environ={})


def test_config_show_masks_secrets(tmp_path, monkeypatch):
    path = write(tmp_path, '[[mailbox]]\nname = "a"\nkind = "imap"\nhost = "h"\npassword_env = "PW_A"\n')
    monkeypatch.setenv("PW_A", "hunter2-very-secret")
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql+psycopg://triage:dbpass-secret@db/triage")
    result = CliRunner().invoke(app, ["config", "show", "--json", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "dbpass-secret" not in result.output
    data = json.loads(result.output)
    assert data["mailboxes"][0]["password"] == "********"
    assert data["database_url"] == "postgresql+psycopg://triage:********@db/triage"


def test_config_show_reports_a_bad_file_with_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["config", "show", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.split())


def test_config_show_prints_toml_that_loads_back(tmp_path, monkeypatch):
    """The default form is TOML a site can start its own file from; secrets stay masked."""
    path = write(tmp_path, '[[mailbox]]\nname = "a"\nkind = "imap"\nhost = "h"\npassword_env = "PW_A"\n')
    monkeypatch.setenv("PW_A", "hunter2-very-secret")
    result = CliRunner().invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    shown = tomllib.loads(result.output)
    assert shown["mailbox"][0]["host"] == "h"
