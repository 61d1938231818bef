"""No secret (password, token) is ever logged or stored (SPEC §5), whatever the log level."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

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

from tests.support.db import postgres_server_url  # noqa: E402, F401 - fixture

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


# --- SMTP AUTH and a PostgreSQL URL with a password: the real processes, the real servers ------

SMTP_PW = "Smtp-P4ss-5512-never-log-me"
SMTP_WRONG = "Smtp-Wr0ng-8821-never-log-me"
PG_PW = "Pg-P4ss-9043-never-log-me"


def smtp_secrets() -> list[str]:
    """The SMTP and database passwords, and how SMTP AUTH (PLAIN, LOGIN) would carry them."""
    found = [SMTP_PW, SMTP_WRONG, PG_PW, quote(PG_PW, safe="")]
    for password in (SMTP_PW, SMTP_WRONG):
        found.append(base64.b64encode(f"\0triage\0{password}".encode()).decode())
        found.append(base64.b64encode(password.encode()).decode())
    return found


def stored_values(url) -> list[object]:  # noqa: ANN001 - a SQLAlchemy URL
    """Every value of every column of every table in the test schema (text, JSON and bytes)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        values: list[object] = []
        with engine.connect() as connection:
            assert "messages" in metadata.tables and "replies" in metadata.tables
            for table in metadata.sorted_tables:
                for row in connection.execute(sa.select(table)):
                    values.extend(row)
        return values
    finally:
        engine.dispose()


@pytest.mark.smtp
@pytest.mark.postgres
def test_smtp_and_database_passwords_reach_no_log_line_and_no_column(postgres_server_url, tmp_path):
    """`triage db upgrade`, `run --once` (replies sent with SMTP AUTH, then refused with a wrong
    password), `replies send`, `digest` and `config show`, at debug level, as real processes."""
    from sqlalchemy.engine import make_url

    from tests.support.db import postgres_schema
    from tests.support.dovecot import free_port
    from tests.support.outbound import SmtpSink

    server = SmtpSink(tls="starttls", users={"triage": SMTP_PW}).start()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = Path(__file__).resolve().parents[1]
    for name in ("03-kurs-no.eml", "06-symposium-pdf-sv.eml", "10-sponsorship-3-4-sv.eml", "02-dinner-resort-sv.eml"):
        (inbox / name).write_bytes((root / "samples" / name).read_bytes())
    with_password = make_url(postgres_server_url).set(password=PG_PW)
    try:
        with postgres_schema(with_password.render_as_string(hide_password=False)) as url:
            rendered = url.render_as_string(hide_password=False)
            assert PG_PW in rendered or quote(PG_PW, safe="") in rendered

            def config(password_env: str) -> Path:
                path = tmp_path / f"{password_env}.toml"
                path.write_text(
                    f'database_url = "{rendered}"\nlog_level = "debug"\n\n'
                    f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\nca_file = "{server.cert}"\n'
                    f'username = "triage"\npassword_env = "{password_env}"\nsender = "triage@region.example"\n\n'
                    f'[digest]\nrecipients = ["chef@region.example"]\ndirectory = "{tmp_path / "digests"}"\n\n'
                    f'[[mailbox]]\nname = "box"\nkind = "folder"\npath = "{inbox}"\n'
                    f'address = "samverkan@region.example"\nreply_mode = "send"\nreply_to_non_compliant = true\n',
                    encoding="utf-8")
                return path

            good, bad = config("TRIAGE_TEST_SMTP_PW"), config("TRIAGE_TEST_SMTP_BAD_PW")
            env = subprocess_env(TRIAGE_TEST_SMTP_PW=SMTP_PW, TRIAGE_TEST_SMTP_BAD_PW=SMTP_WRONG)

            def triage(*args: str) -> subprocess.CompletedProcess:
                return subprocess.run([sys.executable, "-m", "triage.cli", *args], capture_output=True, env=env,
                                      cwd=tmp_path, timeout=300)

            runs = [triage("db", "upgrade", "--config", str(good))]
            # The first mail with the wrong password (its reply fails), then the rest with the right one.
            (inbox / "later").mkdir()
            for name in ("06-symposium-pdf-sv.eml", "10-sponsorship-3-4-sv.eml", "02-dinner-resort-sv.eml"):
                (inbox / name).rename(inbox / "later" / name)
            runs.append(triage("run", "--once", "--config", str(bad)))
            for name in ("06-symposium-pdf-sv.eml", "10-sponsorship-3-4-sv.eml", "02-dinner-resort-sv.eml"):
                (inbox / "later" / name).rename(inbox / name)
            runs.append(triage("run", "--once", "--config", str(good)))
            listed = triage("replies", "list", "--config", str(good))
            runs.append(listed)
            failed_ids = [line.split()[0] for line in listed.stdout.decode().splitlines() if " failed " in f" {line} "]
            for reply_id in failed_ids:
                runs.append(triage("replies", "send", reply_id, "--by", "tester", "--config", str(good)))
            runs.append(triage("digest", "--config", str(good)))
            runs.append(triage("config", "show", "--json", "--config", str(good)))
            # A database that cannot be reached: the error names it, without its password.
            unreachable = tmp_path / "unreachable.toml"
            unreachable.write_text(good.read_text(encoding="utf-8").replace(
                f"@{url.host}:{url.port}/", f"@127.0.0.1:{free_port()}/"), encoding="utf-8")
            for args in (("run", "--once"), ("db", "upgrade"), ("digest",)):
                runs.append(triage(*args, "--config", str(unreachable)))
            output = "\n".join((done.stdout + done.stderr).decode(errors="replace") for done in runs)
            assert runs[0].returncode == 0, output
            assert "refused the login" in output and "TRIAGE_TEST_SMTP_BAD_PW" in output  # the bad run said why
            assert failed_ids, output  # the reply refused with the wrong password was then sent by a person
            assert '"level": "debug"' in output or "database engine for" in output  # debug logging was on
            assert output.count("cannot open the database") + output.count("migration failed") >= 3, output
            assert len(server.received) >= 2, output  # replies and the digest went out with AUTH
            for secret in smtp_secrets():
                assert secret not in output, f"a secret in the output: …{output[output.find(secret) - 200:][:400]}…"
            values = stored_values(url)
            assert any(isinstance(v, str) and "Sv: " in v for v in values)  # the replies are there to scan
            for value in values:
                text = value.decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else repr(value)
                for secret in smtp_secrets():
                    assert secret not in text, f"a secret stored in the database: {text[:300]}"
    finally:
        server.stop()
