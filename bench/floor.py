"""Floor benchmark: the full pipeline against parse + blank-spaCy tokenising, on one core.

Run it as `triage bench floor [--messages N] [--json]`. On the same mails (cycled from
training_data/mails and samples/) it measures, in one process pinned to one CPU:

- **floor**: `parse_message` + tokenising every section with `spacy.blank(language)`;
- **full**: `build_pipeline(settings).judge(raw)` — parse, extract, classify, check, decide;

as CPU ms per message (median of `repeats` interleaved passes; the best pass is reported too) and
their ratio (aim ≤ 4×), the full pipeline's time per stage, plus the start-up of a fresh process
(import and model load CPU time, RSS with every model loaded and after a short warm-up: aim ≤
400 MB), the size of models/ (aim ≤ 50 MB), and the top entries of a pyinstrument profile.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

import spacy  # noqa: E402

from bench.extract import _cpu_seconds, corpus_messages, one_core, rss_mb  # noqa: E402
from triage.config import Settings  # noqa: E402
from triage.message.parse import parse_message  # noqa: E402

AIM_RATIO = 4.0
AIM_RSS_MB = 400
AIM_MODELS_MB = 50


def _dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 2)


def _profile_top(work: Callable[[], Any], top: int) -> list[dict[str, Any]]:
    """The functions with the most own time in one pass, from pyinstrument (empty if not installed)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return []
    profiler = Profiler(interval=0.001)
    profiler.start()
    work()
    profiler.stop()
    own: dict[str, float] = {}

    def walk(frame: Any, parent: str) -> None:
        # A leaf's time is self time; pyinstrument puts a function's own time in a "[self]" leaf.
        synthetic = frame.function.startswith("[") or not frame.file_path
        key = parent if synthetic else f"{frame.function} ({Path(frame.file_path).name}:{frame.line_no})"
        if not frame.children:
            own[key] = own.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, key)

    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        return []
    walk(root, "<root>")
    total = sum(own.values()) or 1.0
    ranked = sorted(own.items(), key=lambda item: -item[1])[:top]
    return [{"function": name, "self_seconds": round(sec, 3), "share": round(sec / total, 3)} for name, sec in ranked]


#: Run in a fresh interpreter: what a worker pays to start, and its memory once judging.
_STARTUP = r"""
import json, os, sys, time
cpu, wall = time.process_time(), time.perf_counter()
sys.path.insert(0, sys.argv[1])
def rss_mb():
    with open("/proc/self/statm", encoding="ascii") as handle:
        return round(int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
from triage.config import Settings
from triage.pipeline.factory import build_pipeline
imported = time.process_time()
pipeline = build_pipeline(Settings())
loaded, loaded_wall = time.process_time(), time.perf_counter()
rss_loaded = rss_mb()
from bench.extract import corpus_messages
raws = corpus_messages(int(sys.argv[2]))
first = time.process_time()
for raw in raws:
    pipeline.judge(raw)
after = rss_mb()
from triage.worker.judging import release_memory
release_memory()  # what the worker does after each chunk it judges
print(json.dumps({"import_cpu_seconds": round(imported - cpu, 3), "load_cpu_seconds": round(loaded - imported, 3),
                  "import_and_load_wall_seconds": round(loaded_wall - wall, 3),
                  "first_mails_cpu_seconds": round(time.process_time() - first, 3), "first_mails": len(raws),
                  "rss_mb_loaded": rss_loaded, "rss_mb_after_first_mails": after,
                  "rss_mb_after_first_mails_released": rss_mb()}))
"""


def startup(mails: int = 200) -> dict[str, Any]:
    """Start-up of a fresh process: import and load CPU time, RSS loaded and after `mails` mails."""
    done = subprocess.run([sys.executable, "-c", _STARTUP, str(CHECKOUT), str(mails)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(messages: int = 500, repeats: int = 3, settings: Settings | None = None, profile_top: int = 15,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure floor and full pipeline on the same mails; return the figures as a dict."""
    from triage.pipeline.factory import build_pipeline

    say = progress or (lambda _text: None)
    settings = settings or Settings()
    pinned = one_core()
    raws = corpus_messages(messages)
    rss_start = rss_mb()
    say(f"loading every model ({pinned})")
    started = time.perf_counter()
    pipeline = build_pipeline(settings)
    load_seconds = time.perf_counter() - started
    for raw in raws[:20]:  # warm-up: lazily loaded resources (language detector, patterns)
        pipeline.judge(raw)
    rss_loaded = rss_mb()
    blank = {lang: spacy.blank(lang) for lang in ("sv", "nb", "en")}

    def floor() -> None:
        for raw in raws:
            message = parse_message(raw, limits=pipeline.limits)
            nlp = blank.get(message.language or "sv", blank["sv"])
            with nlp.memory_zone():
                for section in message.sections:
                    nlp.make_doc(section.text)

    def full() -> None:
        for raw in raws:
            pipeline.judge(raw)

    stage_ms: dict[str, list[float]] = {}

    def full_with_stages() -> None:
        for raw in raws:
            for stage, ms in pipeline.judge(raw).timings_ms.items():
                stage_ms.setdefault(stage, []).append(ms)

    say(f"timing {messages} mails: floor and full pipeline, {repeats} interleaved passes each")
    passes: dict[str, list[float]] = {"floor": [], "full": []}
    for _ in range(repeats):
        for name, work in (("floor", floor), ("full", full)):
            passes[name].append(_cpu_seconds(work))
    median = {name: statistics.median(values) for name, values in passes.items()}
    best = {name: min(values) for name, values in passes.items()}
    full_with_stages()
    stage_total = sum(sum(v) for v in stage_ms.values()) or 1.0
    stages = {stage: {"ms_per_message": round(sum(v) / messages, 3), "share": round(sum(v) / stage_total, 3)}
              for stage, v in stage_ms.items()}
    say("profiling the full pipeline (pyinstrument)")
    top = _profile_top(full, profile_top)
    models_dir = Path(settings.models_dir)
    ratio = round(median["full"] / median["floor"], 2)
    rss_after = rss_mb()
    say("start-up of a fresh process")
    fresh = startup()
    return {
        "benchmark": "floor", "messages": messages, "pinned": pinned, "repeats": repeats, "statistic": "median",
        "floor": {"cpu_seconds": round(median["floor"], 3), "ms_per_message": round(1000 * median["floor"] / messages, 3),
                  "best_ms_per_message": round(1000 * best["floor"] / messages, 3),
                  "passes_cpu_seconds": [round(v, 3) for v in passes["floor"]]},
        "full": {"cpu_seconds": round(median["full"], 3), "ms_per_message": round(1000 * median["full"] / messages, 3),
                 "best_ms_per_message": round(1000 * best["full"] / messages, 3),
                 "messages_per_second": round(messages / median["full"], 1),
                 "passes_cpu_seconds": [round(v, 3) for v in passes["full"]]},
        "ratio": ratio, "ratio_best": round(best["full"] / best["floor"], 2),
        "aim_ratio": AIM_RATIO, "meets_ratio": ratio <= AIM_RATIO,
        # Wall-clock ms of each stage (Pipeline.judge's timings) in one more pass: the shares are what matter.
        "stages_wall": stages,
        "model_load_seconds": round(load_seconds, 2),
        "startup": fresh,
        "rss_mb": {"start": rss_start, "models_loaded": rss_loaded, "after_runs": rss_after},
        # Judged on a fresh process after its first mails, before the release a worker makes after each chunk.
        "aim_rss_mb": AIM_RSS_MB, "meets_rss": fresh["rss_mb_after_first_mails"] <= AIM_RSS_MB,
        "models_mb": _dir_mb(models_dir), "aim_models_mb": AIM_MODELS_MB,
        "meets_models": _dir_mb(models_dir) <= AIM_MODELS_MB,
        "profile_top": top,
    }


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"{result['messages']} mails, {result['pinned']}",
        f"  floor (parse + blank tokenise) {result['floor']['ms_per_message']:8.2f} ms/msg",
        f"  full pipeline                  {result['full']['ms_per_message']:8.2f} ms/msg "
        f"({result['full']['messages_per_second']} msg/s)",
        f"  ratio {result['ratio']}× (median of {result['repeats']}; best passes {result['ratio_best']}×; "
        f"aim ≤ {result['aim_ratio']}×)",
        "  stages (wall): " + ", ".join(f"{stage} {100 * s['share']:.0f} %" for stage, s in result["stages_wall"].items()),
        f"  fresh process: import {result['startup']['import_cpu_seconds']} CPU-s, load "
        f"{result['startup']['load_cpu_seconds']} CPU-s; RSS {result['startup']['rss_mb_loaded']} MB loaded, "
        f"{result['startup']['rss_mb_after_first_mails']} MB after {result['startup']['first_mails']} mails "
        f"({result['startup']['rss_mb_after_first_mails_released']} MB once freed memory is released)",
        f"  this process: model load {result['model_load_seconds']} s; RSS {result['rss_mb']['models_loaded']} MB "
        f"loaded, {result['rss_mb']['after_runs']} MB after (aim ≤ {result['aim_rss_mb']}); models/ {result['models_mb']} MB",
        "  profile (self time):",
    ]
    lines += [f"    {e['share'] * 100:5.1f}%  {e['function']}" for e in result["profile_top"]]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 500, progress=print), indent=2))
