"""IMAP intake benchmark: backfill of a large mailbox, a poll of it unchanged, IDLE latency.

Run it as `triage bench imap [--messages 10000] [--json]` (or `python bench/imap.py`). It starts
a private Dovecot (tests/support/dovecot.py), writes N messages made from samples/ straight into
the user's Maildir (Dovecot indexes them before the clock starts), and measures with the real
worker code and the real pipeline, storing into a temporary SQLite database unless told
otherwise:

- **backfill**: one `MailboxRunner.poll()` over the whole mailbox: judge, store, file every
  message; seconds and messages per second (target: 10,000 in ≤ 120 s on 2 cores);
- **unchanged poll**: the next polls, with nothing new: IMAP round trips and time (target: 1);
- **IDLE latency**: the worker waits in IDLE; a second connection APPENDs a mail; the time
  until its row is committed in the database (target: ≤ 5 s).
"""

from __future__ import annotations

import os
import platform
import pwd
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.support.dovecot import DovecotServer  # noqa: E402
from triage.config import MailboxConfig, Settings  # noqa: E402
from triage.db import migrate  # noqa: E402
from triage.db.engine import make_engine, session_factory  # noqa: E402
from triage.db.schema import Message  # noqa: E402
from triage.worker.judging import default_processes  # noqa: E402
from triage.worker.runner import MailboxRunner  # noqa: E402

PASSWORD = "bench-imap-pw"
PASSWORD_ENV = "TRIAGE_BENCH_IMAP_PASSWORD"
TARGETS = {"backfill_seconds_per_10000": 120.0, "unchanged_poll_round_trips": 1, "idle_latency_seconds": 5.0}
_MESSAGE_ID = re.compile(rb"^Message-ID:[^\r\n]*(\r?\n[ \t][^\r\n]*)*\r?\n", re.IGNORECASE | re.MULTILINE)


def sample_messages(count: int, samples: Path = CHECKOUT / "samples") -> list[bytes]:
    """`count` distinct mails cycled from samples/*.eml: each gets its own Message-ID.

    The malformed sample keeps its bytes (plus a counter, so each copy is a different mail):
    the backfill includes the failure path at the rate the samples have it.
    """
    bases = [p.read_bytes() for p in sorted(samples.glob("*.eml"))]
    if not bases:
        raise RuntimeError(f"no samples in {samples}")
    out = []
    for i in range(count):
        raw = bases[i % len(bases)]
        mid = f"<bench-{i}@triage.bench>".encode()
        if _MESSAGE_ID.search(raw):
            raw = _MESSAGE_ID.sub(b"Message-ID: " + mid + b"\r\n", raw, count=1)
        elif b"\n\n" in raw or b"\r\n\r\n" in raw:
            raw = b"Message-ID: " + mid + b"\r\n" + raw
        else:
            raw = raw + b"\r\n" + str(i).encode()
        out.append(raw)
    return out


def fill_maildir(server: DovecotServer, user: str, messages: list[bytes]) -> None:
    """Write the messages into the user's Maildir/new as Dovecot's own files (owner dovecot)."""
    maildir = server.maildir(user)
    owner = pwd.getpwnam("dovecot")
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for i, raw in enumerate(messages):
        path = maildir / "new" / f"{stamp}.M{i}P{os.getpid()}.bench"
        path.write_bytes(raw)
        os.chown(path, owner.pw_uid, owner.pw_gid)
    for path in [maildir, *(maildir / sub for sub in ("cur", "new", "tmp"))]:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    for parent in (maildir.parent,):
        os.chown(parent, owner.pw_uid, owner.pw_gid)


def _client(server: DovecotServer) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=120)
    client.login("triage", PASSWORD)
    return client


def _dovecot_version() -> str:
    try:
        return subprocess.run(["dovecot", "--version"], capture_output=True, text=True, check=False).stdout.split()[0]
    except (OSError, IndexError):
        return "unknown"


def run(
    messages: int = 10_000,
    *,
    idle_samples: int = 5,
    database_url: str | None = None,
    judge_processes: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the whole benchmark and return its figures (see the module docstring)."""
    say = progress or (lambda _text: None)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM ends the benchmark through its finally: the private Dovecot is stopped too.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-imap-"))
    url = database_url or f"sqlite:///{tmp / 'triage.db'}"
    server = DovecotServer(users={"triage": PASSWORD}).start()
    try:
        setup_started = time.perf_counter()
        say(f"making {messages} messages and writing them into Dovecot's Maildir")
        client = _client(server)  # the first login creates the Maildir
        client.logout()
        fill_maildir(server, "triage", sample_messages(messages))
        client = _client(server)
        exists = client.select_folder("INBOX")[b"EXISTS"]  # Dovecot indexes the new files here
        client.logout()
        if exists != messages:
            raise RuntimeError(f"Dovecot sees {exists} messages, expected {messages}")
        migrate.upgrade(url)
        setup_seconds = time.perf_counter() - setup_started

        settings = Settings(database_url=url, poll_interval_seconds=600)
        if judge_processes is not None:
            settings.judge_processes = judge_processes
        processes = default_processes(settings.judge_processes)
        mailbox = MailboxConfig(
            name="bench", kind="imap", host="127.0.0.1", port=server.port, tls="none", username="triage",
            password_env=PASSWORD_ENV, idle=True, idle_renew_seconds=300,
        )
        engine = make_engine(url, sqlite_immediate=True)
        sessions = session_factory(engine)
        environ = {PASSWORD_ENV: PASSWORD}
        runner = MailboxRunner(settings, mailbox, sessions=sessions, hooks=[], environ=environ)
        runner.pipeline  # noqa: B018 - load the stages before the clock starts, as the service does at start-up
        runner.source.connect()

        say("judging alone, for comparison: 200 messages in this process")
        sample = sample_messages(200)
        for raw in sample[:20]:
            runner.pipeline.judge(raw)  # warm-up: lazy models
        started = time.perf_counter()
        for raw in sample:
            runner.pipeline.judge(raw)
        judge_ms = (time.perf_counter() - started) / len(sample) * 1000

        say("backfill: judging, storing and filing every message")
        started = time.perf_counter()
        backfill = runner.poll()
        backfill_seconds = time.perf_counter() - started
        with sessions() as session:
            stored = session.scalar(select(func.count(Message.id)).where(Message.mailbox == "bench"))
        if backfill.error:
            raise RuntimeError(f"backfill failed: {backfill.error}")

        say("polls of the unchanged mailbox")
        unchanged = []
        for _ in range(5):
            started = time.perf_counter()
            report = runner.poll()
            unchanged.append((report.round_trips, time.perf_counter() - started, report.unchanged))

        say(f"IDLE latency over {idle_samples} new mails")
        stop = threading.Event()
        thread = threading.Thread(target=runner.serve_idle, args=(stop,), kwargs={"poll_interval": 600}, daemon=True)
        thread.start()
        time.sleep(1.0)  # let the thread poll and enter IDLE
        appender = _client(server)
        latencies = []
        for i in range(idle_samples):
            mid = f"idle-{i}-{time.time_ns()}@triage.bench"
            raw = (f"From: bench@triage.bench\r\nTo: samverkan@region.se\r\nSubject: IDLE sample {i}\r\n"
                   f"Message-ID: <{mid}>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\nHello.\r\n").encode()
            appender.append("INBOX", raw)
            appended = time.perf_counter()
            deadline = appended + 30
            while time.perf_counter() < deadline:
                with sessions() as session:
                    if session.scalar(select(Message.id).where(Message.mailbox == "bench", Message.message_id == f"<{mid}>")):
                        break
                time.sleep(0.01)
            latencies.append(time.perf_counter() - appended)
            time.sleep(0.3)
        appender.logout()
        stop.set()
        runner.wake.set()
        thread.join(30)
        runner.close()
        engine.dispose()

        rate = messages / backfill_seconds if backfill_seconds else 0.0
        per_10000 = backfill_seconds * 10_000 / messages
        round_trips = [rt for rt, _s, _u in unchanged]
        return {
            "benchmark": "imap",
            "messages": messages,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "dovecot": _dovecot_version()},
            "database": url.split(":", 1)[0],
            "setup_seconds": round(setup_seconds, 2),
            "judge_processes": processes,
            "judging_alone_ms_per_message": round(judge_ms, 1),
            "backfill": {
                "seconds": round(backfill_seconds, 2),
                "messages_per_second": round(rate, 1),
                "stored": stored,
                "processed": backfill.processed,
                "failed": backfill.failed,
                "round_trips": backfill.round_trips,
                "target_seconds_per_10000": TARGETS["backfill_seconds_per_10000"],
                "met": per_10000 <= TARGETS["backfill_seconds_per_10000"] and stored == messages,
            },
            "unchanged_poll": {
                "round_trips": max(round_trips),
                "round_trips_each": round_trips,
                "seconds_median": round(statistics.median(s for _rt, s, _u in unchanged), 5),
                "target_round_trips": TARGETS["unchanged_poll_round_trips"],
                "met": max(round_trips) <= TARGETS["unchanged_poll_round_trips"] and all(u for *_x, u in unchanged),
            },
            "idle_latency": {
                "seconds_median": round(statistics.median(latencies), 3),
                "seconds_max": round(max(latencies), 3),
                "samples": [round(v, 3) for v in latencies],
                "target_seconds": TARGETS["idle_latency_seconds"],
                "met": max(latencies) <= TARGETS["idle_latency_seconds"],
            },
        }
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def summary(result: dict[str, Any]) -> str:
    """The figures for people, one line each, with the target and whether it was met."""
    b, u, i = result["backfill"], result["unchanged_poll"], result["idle_latency"]
    mark = {True: "ok", False: "MISSED"}
    return "\n".join([
        f"IMAP intake, {result['messages']} messages, Dovecot {result['machine']['dovecot']}, "
        f"{result['machine']['cpus']} CPUs, {result['database']}, {result['judge_processes']} judging process(es)",
        f"  judging alone   {result['judging_alone_ms_per_message']:8.1f} ms per message (in one process)",
        f"  backfill        {b['seconds']:8.1f} s  {b['messages_per_second']:8.1f} msg/s  "
        f"({b['processed']} processed, {b['failed']} failed; target ≤ {b['target_seconds_per_10000']:.0f} s per 10,000: "
        f"{mark[b['met']]})",
        f"  unchanged poll  {u['round_trips']} round trip(s), {u['seconds_median'] * 1000:.1f} ms  "
        f"(target {u['target_round_trips']}: {mark[u['met']]})",
        f"  IDLE latency    median {i['seconds_median']:.2f} s, max {i['seconds_max']:.2f} s  "
        f"(target ≤ {i['target_seconds']:.0f} s: {mark[i['met']]})",
    ])


if __name__ == "__main__":
    import json

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(run(count, progress=lambda text: print(text, file=sys.stderr)), indent=2))
