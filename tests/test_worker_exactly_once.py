"""Exactly once across a crash: `triage run --once` is killed (SIGKILL) mid-batch and run again.

The worker is a separate process on the real PostgreSQL and a real Dovecot; it dies wherever
the kill finds it (judging, between commit and move, mid-COPY/EXPUNGE on the Exchange-like
profile). After the second run every message is stored exactly once, judged once, filed, and
present exactly once in the mailbox.
"""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from tests.support.intake import subprocess_env, GARBAGE, append, dovecot, folder_flags, mail  # noqa: F401 - fixtures
from triage.db import migrate
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Message

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres, pytest.mark.slow]

COUNT = 120
FOLDERS = ("INBOX", "Triage/Processed", "Triage/Needs review", "Triage/Failed")


def test_killed_mid_batch_then_restarted_processes_each_message_exactly_once(dovecot, pg_url: URL, tmp_path):
    url = pg_url.render_as_string(hide_password=False)
    migrate.upgrade(url)
    messages = [mail() for _ in range(COUNT - 2)] + [GARBAGE + b"1", GARBAGE + b"2"]
    append(dovecot, *messages)
    config = tmp_path / "triage.toml"
    config.write_text(
        f'log_level = "warning"\n\n[[mailbox]]\nname = "crash"\nkind = "imap"\nhost = "127.0.0.1"\n'
        f'port = {dovecot.port}\ntls = "none"\nusername = "{dovecot.user}"\npassword_env = "TRIAGE_TEST_PW"\n'
    )
    env = subprocess_env(TRIAGE_DATABASE_URL=url, TRIAGE_TEST_PW=dovecot.password)
    command = [sys.executable, "-m", "triage.cli", "run", "--once", "--config", str(config)]
    engine = make_engine(url)
    sessions = session_factory(engine)

    def stored() -> int:
        with sessions() as session:
            return int(session.scalar(select(func.count(Message.id))) or 0)

    try:
        worker = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while stored() < COUNT // 4 and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)  # no cleanup, no finally: a crash
        _out, err = worker.communicate(timeout=30)
        at_kill = stored()
        assert worker.returncode == -signal.SIGKILL, f"the worker ended before it was killed: {err.decode()[-2000:]}"
        assert 0 < at_kill < COUNT, f"the kill did not land mid-batch ({at_kill} of {COUNT} stored)"

        again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=180)
        assert again.returncode == 0, (again.stdout + again.stderr).decode()[-3000:]

        with sessions() as session:
            rows = list(session.scalars(select(Message).where(Message.mailbox == "crash")))
        assert len(rows) == COUNT
        assert len({row.message_id or row.raw_sha256 for row in rows}) == COUNT
        assert len({row.uid for row in rows}) == COUNT
        assert all(row.attempts == 1 for row in rows)  # judged once each, none re-judged after the crash
        assert all(row.filed for row in rows)
        assert sum(row.status == "failed" for row in rows) == 2
    finally:
        engine.dispose()

    # In the mailbox: nothing left behind, nothing copied twice.
    seen: collections.Counter[str] = collections.Counter()
    for folder in FOLDERS:
        for message_id, flags in folder_flags(dovecot, folder).items():
            if folder == "INBOX":
                pytest.fail(f"{message_id} is still in INBOX with {flags}")
            assert "$Triaged" in flags and "\\Deleted" not in flags
            seen[message_id] += 1
    assert sum(seen.values()) == COUNT and max(seen.values()) == 1
