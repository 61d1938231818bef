"""No secret (password, token) is ever logged or stored (SPEC §5), whatever the log level."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.support.intake import (  # noqa: F401 - fixtures
    append,
    db,
    dovecot_auth,
    imap_mailbox,
    mail,
    runner,
    sqlite_db,
    subprocess_env,
)
from triage.config import OAuthConfig

pytestmark = pytest.mark.dovecot

WRONG = "Wr0ng-PASSWORD-7731-never-log-me"
TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6-token-never-log-me"


def secrets_of(account) -> list[str]:
    """The secrets in play, and the encodings in which they could leak (SASL PLAIN / XOAUTH2)."""
    plain = base64.b64encode(f"\0{account.user}\0{account.password}".encode()).decode()
    xoauth = base64.b64encode(f"user={account.user}\1auth=Bearer {TOKEN}\1\1".encode()).decode()
    return [account.password, WRONG, TOKEN, plain, xoauth]


def test_nothing_secret_in_the_logs_even_with_imap_protocol_debugging(dovecot_auth, db, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="imapclient")  # every protocol line, even if `triage run` quieted it
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    append(dovecot_auth, mail())
    environ = {"PW": dovecot_auth.password, "BAD": WRONG}
    with capture_logs() as events:
        reports = [
            runner(db, imap_mailbox(dovecot_auth, name="login", password_env="PW"), environ=environ).poll(),
            runner(db, imap_mailbox(dovecot_auth, name="plain", auth="plain", password_env="PW"), environ=environ).poll(),
            runner(db, imap_mailbox(dovecot_auth, name="wrong", password_env="BAD"), environ=environ).poll(),
            runner(db, imap_mailbox(dovecot_auth, name="oauth", auth="xoauth2",
                                    oauth=OAuthConfig(token_file=str(token_file))), environ=environ).poll(),
        ]
    assert reports[0].processed == 1 and reports[1].error is None
    assert reports[2].stopped and reports[3].stopped
    assert "**REDACTED**" in caplog.text  # the protocol log was on, and imapclient masked the login
    everything = caplog.text + repr(events) + "".join(f"{r!r}" for r in reports)
    for secret in secrets_of(dovecot_auth):
        assert secret not in everything
    stored = Path(db.url.removeprefix("sqlite:///")).read_bytes()
    for secret in secrets_of(dovecot_auth):
        assert secret.encode() not in stored


def test_triage_run_at_debug_level_never_prints_a_secret(dovecot_auth, tmp_path):
    database = sqlite_db(tmp_path, migrate_schema=True)
    append(dovecot_auth, mail())
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    config = tmp_path / "triage.toml"
    config.write_text(
        f'database_url = "{database.url}"\nlog_level = "debug"\n\n'
        f'[[mailbox]]\nname = "good"\nkind = "imap"\nhost = "127.0.0.1"\nport = {dovecot_auth.port}\ntls = "none"\n'
        f'username = "{dovecot_auth.user}"\npassword_env = "TRIAGE_TEST_PW"\n\n'
        f'[[mailbox]]\nname = "wrong"\nkind = "imap"\nhost = "127.0.0.1"\nport = {dovecot_auth.port}\ntls = "none"\n'
        f'username = "{dovecot_auth.user}"\npassword_env = "TRIAGE_TEST_BAD_PW"\n\n'
        f'[[mailbox]]\nname = "oauth"\nkind = "imap"\nhost = "127.0.0.1"\nport = {dovecot_auth.port}\ntls = "none"\n'
        f'username = "{dovecot_auth.user}"\nauth = "xoauth2"\n[mailbox.oauth]\ntoken_file = "{token_file}"\n'
    )
    env = subprocess_env(TRIAGE_TEST_PW=dovecot_auth.password, TRIAGE_TEST_BAD_PW=WRONG)
    done = subprocess.run([sys.executable, "-m", "triage.cli", "run", "--once", "--config", str(config)],
                          capture_output=True, env=env, cwd=tmp_path, timeout=120)
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 1, output  # two mailboxes fail, clearly
    assert "good" in output and "1 processed" in output
    assert "wrong" in output and "refused" in output and "TRIAGE_TEST_BAD_PW" in output
    for secret in secrets_of(dovecot_auth):
        assert secret not in output
    stored = Path(database.url.removeprefix("sqlite:///")).read_bytes()
    for secret in secrets_of(dovecot_auth):
        assert secret.encode() not in stored
    shown = subprocess.run([sys.executable, "-m", "triage.cli", "config", "show", "--config", str(config)],
                           capture_output=True, env=env, cwd=tmp_path, timeout=60)
    for secret in secrets_of(dovecot_auth):
        assert secret not in (shown.stdout + shown.stderr).decode(errors="replace")
