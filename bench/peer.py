"""Peer benchmark: SpamAssassin and `triage process` on the same 1,000 mails, one core each.

Run it as `triage bench peer [--messages N] [--json]`. The mails are cycled from
training_data/mails and samples/ (sorted, so every run judges the same ones). Both run as
separate processes pinned to the same single CPU, one after the other, in the same run:

- **SpamAssassin** (`spamassassin -L --mbox`, Debian package): local tests only (-L), with a
  private prefs file turning Bayes, autolearn, the auto-whitelist, Razor, Pyzor and DCC off;
- **triage**: `triage process DIR --json` over the same mails as .eml files (models loaded once).

Each is timed by wall clock and by CPU time (user + system of the child); messages/s include
start-up, as an operator would see it. Aim: triage ≥ 5× SpamAssassin's throughput.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

from bench.extract import corpus_messages  # noqa: E402

AIM_RATIO = 5.0
SA_PREFS = """\
use_bayes 0
bayes_auto_learn 0
use_auto_whitelist 0
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
use_dcc 0
"""


def _mbox(raws: list[bytes], path: Path) -> None:
    with path.open("wb") as handle:
        for raw in raws:
            lines = raw.replace(b"\r\n", b"\n").split(b"\n")
            body = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in lines)
            handle.write(b"From bench@triage Thu Jan  1 00:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n")


def _timed(command: list[str], cpu: int | None) -> dict[str, float]:
    """Run `command` pinned to `cpu`; wall and CPU seconds of the child."""
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
    return {"wall_seconds": round(wall, 2),
            "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)}


def run(messages: int = 1000, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Time SpamAssassin and triage on the same `messages` mails; return the figures."""
    say = progress or (lambda _text: None)
    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        raise RuntimeError("spamassassin is not installed (Debian package spamassassin)")
    triage = shutil.which("triage") or str(Path(sys.executable).with_name("triage"))
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    raws = corpus_messages(messages)
    with tempfile.TemporaryDirectory(prefix="triage-bench-peer-") as tmp:
        folder = Path(tmp) / "mails"
        folder.mkdir()
        for i, raw in enumerate(raws):
            (folder / f"{i:05d}.eml").write_bytes(raw)
        mbox = Path(tmp) / "mails.mbox"
        _mbox(raws, mbox)
        prefs = Path(tmp) / "prefs"
        prefs.write_text(SA_PREFS)
        say(f"SpamAssassin on {messages} mails (cpu {cpu})")
        sa = _timed([spamassassin, "-L", "-p", str(prefs), "--mbox", str(mbox)], cpu)
        say(f"triage process on the same {messages} mails (cpu {cpu})")
        tr = _timed([triage, "process", str(folder), "--json"], cpu)
    for figures in (sa, tr):
        figures["messages_per_second"] = round(messages / figures["wall_seconds"], 1)
        figures["messages_per_cpu_second"] = round(messages / max(figures["cpu_seconds"], 1e-9), 1)
    ratio = round(tr["messages_per_second"] / sa["messages_per_second"], 2)
    return {
        "benchmark": "peer", "messages": messages, "cpu": cpu,
        "spamassassin": {**sa, "command": "spamassassin -L -p prefs --mbox (Bayes, autolearn, AWL, net tests off)"},
        "triage": {**tr, "command": "triage process DIR --json"},
        "ratio_wall": ratio,
        "ratio_cpu": round(tr["messages_per_cpu_second"] / sa["messages_per_cpu_second"], 2),
        "aim_ratio": AIM_RATIO,
        "meets_aim": ratio >= AIM_RATIO,
    }


def summary(result: dict[str, Any]) -> str:
    sa, tr = result["spamassassin"], result["triage"]
    return (f"{result['messages']} mails, one core\n"
            f"  SpamAssassin  {sa['messages_per_second']:8.1f} msg/s  ({sa['wall_seconds']} s wall, {sa['cpu_seconds']} s CPU)\n"
            f"  triage        {tr['messages_per_second']:8.1f} msg/s  ({tr['wall_seconds']} s wall, {tr['cpu_seconds']} s CPU)\n"
            f"  ratio {result['ratio_wall']}× (CPU {result['ratio_cpu']}×); aim ≥ {result['aim_ratio']}×")


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, progress=print), indent=2))
