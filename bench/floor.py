"""Floor benchmark: the full pipeline against parse + blank-spaCy tokenising, on one core.

Run it as `triage bench floor [--messages N] [--json]`. On the same mails (cycled from
training_data/mails and samples/) it measures, in one process pinned to one CPU:

- **floor**: `parse_message` + tokenising every section with `spacy.blank(language)`;
- **full**: `build_pipeline(settings).judge(raw)` — parse, extract, classify, check, decide;

as CPU ms per message (best of `repeats` interleaved passes) and their ratio (aim ≤ 4×), plus the
model load time, the worker's RSS with every model loaded (aim ≤ 400 MB), the size of models/
(aim ≤ 50 MB), and the top entries of a pyinstrument profile of the full pipeline.
"""

from __future__ import annotations

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

    say(f"timing {messages} mails: floor and full pipeline, best of {repeats}, interleaved")
    best = {"floor": float("inf"), "full": float("inf")}
    for _ in range(repeats):
        for name, work in (("floor", floor), ("full", full)):
            best[name] = min(best[name], _cpu_seconds(work))
    say("profiling the full pipeline (pyinstrument)")
    top = _profile_top(full, profile_top)
    models_dir = Path(settings.models_dir)
    ratio = round(best["full"] / best["floor"], 2)
    rss_after = rss_mb()
    return {
        "benchmark": "floor", "messages": messages, "pinned": pinned,
        "floor": {"cpu_seconds": round(best["floor"], 3), "ms_per_message": round(1000 * best["floor"] / messages, 3)},
        "full": {"cpu_seconds": round(best["full"], 3), "ms_per_message": round(1000 * best["full"] / messages, 3),
                 "messages_per_second": round(messages / best["full"], 1)},
        "ratio": ratio, "aim_ratio": AIM_RATIO, "meets_ratio": ratio <= AIM_RATIO,
        "model_load_seconds": round(load_seconds, 2),
        "rss_mb": {"start": rss_start, "models_loaded": rss_loaded, "after_runs": rss_after},
        "aim_rss_mb": AIM_RSS_MB, "meets_rss": rss_after <= AIM_RSS_MB,
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
        f"  ratio {result['ratio']}× (aim ≤ {result['aim_ratio']}×)",
        f"  model load {result['model_load_seconds']} s; RSS {result['rss_mb']['models_loaded']} MB loaded, "
        f"{result['rss_mb']['after_runs']} MB after (aim ≤ {result['aim_rss_mb']}); models/ {result['models_mb']} MB",
        "  profile (self time):",
    ]
    lines += [f"    {e['share'] * 100:5.1f}%  {e['function']}" for e in result["profile_top"]]
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 500, progress=print), indent=2))
