"""Crash safety on a Maildir: `triage run --once` SIGKILLed at several random points, then restarted.

200 mails in a Maildir, SQLite database. The worker (a child process, as cron runs it) is killed
with SIGKILL at four seeded-random moments of the run — whatever it is doing then, judging,
committing or moving a file — and started again each time; a last run finishes the work. After
it: every mail stored exactly once (0 lost, 0 duplicated rows), judged once, filed, and present
exactly once in the Maildir tree, none left in the inbox.
"""

from __future__ import annotations

import collections
import email
import mailbox
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.intake import mail, subprocess_env
from triage.db import migrate
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Message, Reply

pytestmark = pytest.mark.slow

COUNT = 200
KILLS = 4
SEED = 20261123


def maildir_contents(root: Path) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Anywhere in the Maildir tree: Message-ID → copies, and for the drafted replies
    In-Reply-To → how many replies answer that mail. A draft is known by its folder, its
    threading headers or our marker header (a reply to a mail without Message-ID has only that)."""
    mails: collections.Counter[str] = collections.Counter()
    replies: collections.Counter[str] = collections.Counter()
    for path in root.rglob("*"):
        if path.is_file() and path.parent.name in ("cur", "new"):
            message = email.message_from_bytes(path.read_bytes())
            if path.parent.parent.name == ".Drafts" or message["In-Reply-To"] or message["X-Triage-Reply"]:
                replies[(message["In-Reply-To"] or message["References"] or "?").strip()] += 1
            else:
                mails[message["Message-ID"]] += 1
    return mails, replies


def test_killed_four_times_then_restarted_loses_and_duplicates_nothing(tmp_path):
    root = tmp_path / "Maildir"
    box = mailbox.Maildir(root, create=True)
    sent = [mail() for _ in range(COUNT)]
    for raw in sent:
        box.add(raw)
    expected = {email.message_from_bytes(raw)["Message-ID"] for raw in sent}
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    migrate.upgrade(url)
    config = tmp_path / "triage.toml"
    config.write_text(f'log_level = "warning"\n\n[[mailbox]]\nname = "crash"\nkind = "maildir"\npath = "{root}"\n')
    env = subprocess_env(TRIAGE_DATABASE_URL=url)
    command = [sys.executable, "-m", "triage.cli", "run", "--once", "--config", str(config)]
    engine = make_engine(url)
    sessions = session_factory(engine)

    def stored() -> int:
        with sessions() as session:
            return int(session.scalar(select(func.count(Message.id))) or 0)

    rng = random.Random(SEED)
    thresholds = sorted(rng.sample(range(5, COUNT - 5), KILLS))
    kills_landed = []
    try:
        for threshold in thresholds:
            worker = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 180
            while stored() < threshold and worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))  # land anywhere around the threshold, not just after a commit
            worker.send_signal(signal.SIGKILL)
            _out, err = worker.communicate(timeout=30)
            if worker.returncode == -signal.SIGKILL:
                kills_landed.append(stored())
            else:
                assert worker.returncode in (0, 1), err.decode()[-3000:]
        final = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=300)
        assert final.returncode == 0, (final.stdout + final.stderr).decode()[-3000:]
        with sessions() as session:
            rows = list(session.scalars(select(Message).where(Message.mailbox == "crash")))
            judged = [row.result is not None for row in rows]
            reply_rows = int(session.scalar(select(func.count(Reply.id))) or 0)
    finally:
        engine.dispose()

    assert len(kills_landed) >= 3, f"the kills did not land mid-run: {kills_landed}"
    assert all(0 < n < COUNT for n in kills_landed)
    assert len(rows) == COUNT  # 0 lost
    assert {row.message_id for row in rows} == {m.strip("<>") for m in expected} or \
        {row.message_id for row in rows} == expected  # 0 duplicated: one row per Message-ID
    assert all(row.status == "processed" for row in rows) and all(judged)
    assert all(row.attempts == 1 for row in rows), collections.Counter(row.attempts for row in rows)
    assert all(row.filed for row in rows)
    in_tree, replies = maildir_contents(root)
    assert set(in_tree) == expected and max(in_tree.values()) == 1  # each mail once in the Maildir
    assert set(replies) <= expected
    assert not replies or max(replies.values()) == 1, "a mail was answered twice"  # 0 second replies
    assert sum(replies.values()) <= reply_rows  # no draft the database does not know of
    left = [p.name for sub in ("new", "cur") for p in (root / sub).iterdir()]
    assert not left, f"left in the inbox: {left[:5]}"
