"""Scale-out: three `triage run` workers on one PostgreSQL and one Dovecot, one of them SIGKILLed.

20 function mailboxes (one Dovecot user each) hold a few hundred mails made from `samples/` and
`training_data/mails/` (each with a Message-ID of its own). Three workers — real processes with
one config, as three machines would run them — share the mailboxes through leases; replies are
sent (reply_mode = "send") to a real SMTP server, the digest goes there too. Once every worker
holds mailboxes and part of the mail is stored, the worker with the most mailboxes is killed with
SIGKILL; the other two take its mailboxes over when its leases expire. Then:

- every mail is stored exactly once, judged once, filed, and in exactly one folder (none left
  in INBOX);
- no mail is answered twice (by SMTP or as a draft), and every reply that arrived is recorded;
- one digest per mailbox and period, delivered at most once to its recipient, however many
  workers fired the digest job (the job_runs row says which one ran it);
- the survivors stop cleanly on SIGTERM and free their leases.

CI runs 20 mailboxes × 20 mails; TRIAGE_LONG_TESTS=1 runs 20 × 100.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from tests.support.intake import Account, _pool, append, client, folder_flags, subprocess_env
from tests.support.outbound import SmtpSink
from triage.db import migrate, store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import Digest, DigestDelivery, Message, Reply

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
LONG = os.environ.get("TRIAGE_LONG_TESTS") == "1"
MAILBOXES = 20
WORKERS = 3
LEASE_SECONDS = 6
TIMEZONE = "Europe/Stockholm"
DIGEST_TO = "verksamhetschef@region.test"
FOLDERS = ("INBOX", "Triage/Processed", "Triage/Needs review", "Triage/Failed")
#: How long the whole run may take before the test gives up waiting (not a performance target).
PATIENCE = 240


def corpus() -> list[bytes]:
    """The bundled samples and the training mails, in a fixed order."""
    paths = sorted((ROOT / "samples").glob("*.eml")) + sorted((ROOT / "training_data" / "mails").glob("*.eml"))
    return [path.read_bytes() for path in paths]


def with_message_id(raw: bytes, message_id: str) -> bytes:
    """The mail with every Message-ID header replaced by `message_id`."""
    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    head = re.sub(rb"(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*", b"", head + newline).rstrip(b"\r\n")
    return b"Message-ID: " + message_id.encode() + newline + head + sep + body


def headers_in(account: Account, folder: str, name: str) -> list[str]:
    """The `name` header of every message in a folder of the account (read-only)."""
    c = client(account)
    try:
        if not c.folder_exists(folder):
            return []
        c.select_folder(folder, readonly=True)
        uids = c.search("ALL")
        if not uids:
            return []
        data = c.fetch(uids, [f"BODY.PEEK[HEADER.FIELDS ({name.upper()})]"])
        out = []
        for item in data.values():
            header = next(v for k, v in item.items() if k.startswith(b"BODY[HEADER")).decode()
            out.append(header.partition(":")[2].strip())
        return out
    finally:
        c.logout()


def wait_for(predicate, timeout: float, what: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting ({timeout:.0f} s) for: {what}")
        time.sleep(step)


def write_config(path: Path, accounts: list[Account], smtp_port: int) -> None:
    # The digest time is the minute now in Stockholm: every worker starts within its misfire
    # grace and fires the digest job at start-up, all three at about the same moment.
    digest_time = datetime.now(ZoneInfo(TIMEZONE)).strftime("%H:%M")
    lines = [
        'log_level = "info"',
        "poll_interval_seconds = 5",
        "judge_processes = 1",
        "",
        "[cluster]",
        f"lease_seconds = {LEASE_SECONDS}",
        "",
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {smtp_port}",
        'tls = "none"',
        'sender = "triage@region.test"',
        "max_replies_per_sender_per_day = 100000",
        "",
        "[digest]",
        f'time = "{digest_time}"',
        f'timezone = "{TIMEZONE}"',
        f'recipients = ["{DIGEST_TO}"]',
        f'directory = "{path.parent / "digests"}"',
    ]
    for i, account in enumerate(accounts):
        lines += [
            "", "[[mailbox]]", f'name = "m{i:02d}"', 'kind = "imap"', 'host = "127.0.0.1"', f"port = {account.port}",
            'tls = "none"', f'username = "{account.user}"', 'password_env = "TRIAGE_TEST_PW"',
            f'address = "samverkan.m{i:02d}@region.test"', 'reply_mode = "send"', "timeout_seconds = 30",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_three_workers_one_killed_every_mail_once_every_reply_at_most_once_one_digest(pg_url: URL, tmp_path):
    per_mailbox = 100 if LONG else 20
    total = MAILBOXES * per_mailbox
    pool = _pool("normal", "cluster")
    accounts = [pool.take() for _ in range(MAILBOXES)]
    run = uuid.uuid4().hex[:8]
    texts = corpus()
    expected: dict[str, set[str]] = {}
    for i, account in enumerate(accounts):
        mails = []
        for n in range(per_mailbox):
            message_id = f"<cluster-{run}-{i:02d}-{n:03d}@test.triage>"
            mails.append(with_message_id(texts[(i * per_mailbox + n) % len(texts)], message_id))
            expected.setdefault(f"m{i:02d}", set()).add(message_id)
        append(account, *mails)

    url = pg_url.render_as_string(hide_password=False)
    migrate.upgrade(url)
    smtp = SmtpSink(tls="none").start()
    config = tmp_path / "triage.toml"
    write_config(config, accounts, smtp.port)
    env = subprocess_env(TRIAGE_DATABASE_URL=url, TRIAGE_TEST_PW=accounts[0].password)
    engine = make_engine(url)
    sessions = session_factory(engine)
    logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
    workers: list[subprocess.Popen] = []

    def stored() -> int:
        with sessions() as session:
            return int(session.scalar(select(func.count(Message.id))) or 0)

    def lease_owners() -> dict[str, str]:
        with sessions() as session:
            return {name.removeprefix("mailbox:"): owner for name, owner in store.live_leases(session, "mailbox:").items()}

    def tail(n: int) -> str:
        return logs[n].read_text(errors="replace")[-3000:]

    try:
        for n in range(WORKERS):
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "triage.cli", "run", "--config", str(config)], env=env, cwd=tmp_path,
                stdout=subprocess.DEVNULL, stderr=logs[n].open("wb"),
            ))
        by_pid = {w.pid: w for w in workers}

        # Every worker polls its share, and part of the mail is in: kill the busiest worker.
        def balanced() -> bool:
            owners = lease_owners()
            return len(owners) == MAILBOXES and sorted(collections.Counter(owners.values()).values()) == [6, 7, 7]

        # Fair: 20 mailboxes over 3 workers, each mailbox leased by one (the first worker up took
        # them all and hands the surplus over as the others join).
        wait_for(lambda: balanced() or any(w.poll() is not None for w in workers), PATIENCE,
                 "the mailboxes shared 7/7/6 among the three workers")
        assert all(w.poll() is None for w in workers), "\n".join(tail(n) for n in range(WORKERS))
        shares = collections.Counter(lease_owners().values())
        wait_for(lambda: stored() >= total // 4, PATIENCE, "a quarter of the mail stored")
        victim_id, _ = shares.most_common(1)[0]
        victim = by_pid[int(victim_id.rpartition(":")[2])]
        victim_mailboxes = {m for m, owner in lease_owners().items() if owner == victim_id}
        victim.send_signal(signal.SIGKILL)  # no shutdown, no lease released: a crash
        victim.wait(30)
        at_kill = stored()
        assert victim.returncode == -signal.SIGKILL
        assert at_kill < total, "the kill did not land midway: every mail was stored already"
        survivors = [w for w in workers if w is not victim]

        # Its mailboxes are taken over once its leases expire, and the work is finished.
        def finished() -> bool:
            with sessions() as session:
                done = session.scalar(select(func.count(Message.id)).where(Message.filed.is_(True)))
            return done == total

        wait_for(finished, PATIENCE, f"all {total} mails stored and filed")
        assert set(lease_owners().values()) <= {f"{victim_id.rpartition(':')[0]}:{w.pid}" for w in survivors}
        assert victim_mailboxes and not victim_mailboxes & {m for m, o in lease_owners().items() if o == victim_id}

        for worker in survivors:
            worker.send_signal(signal.SIGTERM)
        for worker in survivors:
            assert worker.wait(60) == 0, "\n".join(tail(n) for n in range(WORKERS))
        assert lease_owners() == {}  # a clean stop frees the leases at once

        with sessions() as session:
            rows = list(session.scalars(select(Message)))
            replies = list(session.scalars(select(Reply)))
            digests = list(session.scalars(select(Digest)))
            deliveries = list(session.scalars(select(DigestDelivery).where(DigestDelivery.channel == "smtp")))
            digest_runs = store.job_runs(session, "digest")
            origin = {r.id: (r.mailbox, r.message_id) for r in rows}
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        engine.dispose()
        smtp.stop()

    # Every mail stored exactly once, judged once, filed.
    assert len(rows) == total
    by_mailbox = collections.defaultdict(set)
    for row in rows:
        by_mailbox[row.mailbox].add(f"<{row.message_id.strip('<>')}>")
    assert by_mailbox == expected
    assert all(row.attempts == 1 for row in rows), collections.Counter(row.attempts for row in rows)
    assert all(row.filed for row in rows)

    # In the mailboxes: each mail in exactly one folder, tagged; nothing left in INBOX.
    for i, account in enumerate(accounts):
        seen: collections.Counter[str] = collections.Counter()
        for folder in FOLDERS:
            for message_id, flags in folder_flags(account, folder).items():
                assert folder != "INBOX", f"m{i:02d}: {message_id} left in INBOX"
                assert "$Triaged" in flags and "\\Deleted" not in flags
                seen[message_id] += 1
        assert set(seen) == expected[f"m{i:02d}"] and max(seen.values()) == 1

    # No mail answered twice, by SMTP or as a draft; every reply that arrived is recorded as sent.
    received = smtp.received
    sent = [r for r in received if DIGEST_TO not in r.rcpt_tos]
    answered = collections.Counter(str(r.message["In-Reply-To"]).strip() for r in sent)
    assert not answered or max(answered.values()) == 1, answered.most_common(3)
    recorded = {r.in_reply_to.strip() for r in replies if r.sent_at is not None and r.mode == "send"}
    assert set(answered) <= {f"<{m.strip('<>')}>" for m in recorded} | recorded
    assert len(sent) <= sum(r.sent_at is not None for r in replies)
    assert len({r.message_pk for r in replies}) == len(replies)  # one reply row per mail, ever
    drafted: collections.Counter[str] = collections.Counter()
    for account in accounts:
        drafted.update(h for h in headers_in(account, "Drafts", "In-Reply-To") if h)
    assert not drafted or max(drafted.values()) == 1, drafted.most_common(3)
    assert not set(drafted) & set(answered)  # a mail is either sent an answer or has a draft
    assert {origin[r.message_pk][1] for r in replies} <= {row.message_id for row in rows}

    # One digest per mailbox and period, made by one worker, delivered at most once.
    assert len(digest_runs) >= 1 and all(run_.status == "done" for run_ in digest_runs)
    periods = {run_.period for run_ in digest_runs}
    made = collections.Counter((d.mailbox, d.period) for d in digests)
    assert set(made) == {(m, p) for m in expected for p in periods} and max(made.values()) == 1
    digest_mails = collections.Counter(str(r.message["X-Triage-Digest"]) for r in received if DIGEST_TO in r.rcpt_tos)
    assert max(digest_mails.values()) == 1, digest_mails.most_common(3)
    assert sum(digest_mails.values()) == sum(d.status == "delivered" for d in deliveries) >= 1
    assert len(deliveries) == len(digests)  # one SMTP delivery claimed per digest
