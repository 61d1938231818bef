"""Extraction benchmark: throughput and memory of the extraction stage against the parse+tokenise floor.

Run it as `triage bench extract [--messages N] [--json]` (or `python bench/extract.py`). In one
process pinned to one core it takes N mails (cycled from training_data/mails and samples/),
and measures, on the same mails:

- **floor**: `parse_message` plus tokenising every section with the blank spaCy pipeline of the
  mail's language, in a memory zone as the extractor runs — what any spaCy-based extraction pays;
- **extraction**: `parse_message` plus `EventExtractor.extract` (all components, trained ones
  included), as the service runs it;

each as messages per second and milliseconds per message (CPU time of the process, best of `repeats` interleaved passes), the
extraction-only cost (extraction minus parsing), its ratio to the floor (aim: ≤ 2), and memory:
process RSS after loading the models and after the runs, and the tracemalloc peak of one pass
of each (a separate, slower pass, so the timings are not disturbed).
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

import spacy  # noqa: E402

from triage.config import Settings  # noqa: E402
from triage.message.parse import parse_message  # noqa: E402
from triage.nlp.loader import load_extractor  # noqa: E402

AIM_RATIO = 2.0


def corpus_messages(count: int) -> list[bytes]:
    """`count` raw mails, cycled from the corpus and the samples (sorted, so every run is the same)."""
    paths = sorted((CHECKOUT / "training_data" / "mails").glob("*.eml")) + sorted((CHECKOUT / "samples").glob("*.eml"))
    if not paths:
        raise RuntimeError("no mails in training_data/mails or samples/")
    raws = [p.read_bytes() for p in paths]
    return [raws[i % len(raws)] for i in range(count)]


def rss_mb() -> float:
    """Resident set size of this process now, in MB (from /proc, else the peak from getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def one_core() -> str:
    """Pin the process to one CPU and keep numeric libraries single-threaded."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    return "not pinned"


def _cpu_seconds(work: Callable[[], Any]) -> float:
    """CPU time of this process for one pass: on a shared machine, wall time measures the neighbours."""
    gc.collect()
    started = time.process_time()
    work()
    return time.process_time() - started


def _peak_mb(work: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 2)


def run(messages: int = 500, repeats: int = 3, settings: Settings | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure floor and extraction on the same `messages` mails; return the figures as a dict."""
    say = progress or (lambda _text: None)
    pinned = one_core()
    raws = corpus_messages(messages)
    rss_start = rss_mb()
    say(f"loading the extraction models ({pinned})")
    started = time.perf_counter()
    extractor = load_extractor(settings or Settings())
    load_seconds = time.perf_counter() - started
    blank = {lang: spacy.blank(lang) for lang in extractor.pipelines}
    rss_loaded = rss_mb()
    parsed = [parse_message(raw) for raw in raws[:20]]
    rss_parser_warm = rss_mb()  # the parser loads its own resources (language detector…) lazily
    for message in parsed:  # warm-up: caches, lazily built patterns
        extractor.extract(message)
    rss_warm = rss_mb()

    def parse_only() -> None:
        for raw in raws:
            parse_message(raw)

    def floor() -> None:
        for raw in raws:
            message = parse_message(raw)
            nlp = blank.get(extractor.language_of(message)) or blank["sv"]
            with nlp.memory_zone():  # as extraction does: a mail's new strings are freed after it
                for section in message.sections:
                    nlp.make_doc(section.text)

    def extraction() -> None:
        for raw in raws:
            extractor.extract(parse_message(raw))

    say(f"timing {messages} mails: parse only, floor (parse + tokenise), extraction; best of {repeats}, interleaved")
    best = {"parse": float("inf"), "floor": float("inf"), "extraction": float("inf")}
    for _ in range(repeats):  # interleaved, so a busy moment cannot favour one of them
        for name, work in (("parse", parse_only), ("floor", floor), ("extraction", extraction)):
            best[name] = min(best[name], _cpu_seconds(work))
    parse_seconds, floor_seconds, extract_seconds = best["parse"], best["floor"], best["extraction"]
    rss_after = rss_mb()
    say("tracemalloc peaks (one more pass of each)")
    floor_peak = _peak_mb(floor)
    extract_peak = _peak_mb(extraction)

    def per_message(seconds: float) -> dict[str, float]:
        return {"seconds": round(seconds, 3), "ms_per_message": round(1000 * seconds / messages, 3),
                "messages_per_second": round(messages / seconds, 1)}

    extraction_only = max(extract_seconds - parse_seconds, 0.0)
    floor_tokenise = max(floor_seconds - parse_seconds, 0.0)
    return {
        "benchmark": "extract",
        "messages": messages,
        "repeats": repeats,
        "cpu": pinned,
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "model": extractor.model_version,
        "load_seconds": round(load_seconds, 2),
        "parse": per_message(parse_seconds),
        "floor": {**per_message(floor_seconds), "tokenise_ms_per_message": round(1000 * floor_tokenise / messages, 3)},
        "extraction": {**per_message(extract_seconds),
                       "extract_only_ms_per_message": round(1000 * extraction_only / messages, 3)},
        "ratio_extraction_to_floor": round(extract_seconds / floor_seconds, 2),
        "ratio_extract_only_to_floor": round(extraction_only / floor_seconds, 2),
        "aim_ratio": AIM_RATIO,
        "memory_mb": {"rss_start": rss_start, "rss_models_loaded": rss_loaded, "rss_parser_warm": rss_parser_warm,
                      "rss_warm": rss_warm, "extraction_warmup_rss": round(rss_warm - rss_parser_warm, 1),
                      "growth_during_runs": round(rss_after - rss_warm, 1),
                      "rss_after_runs": rss_after,
                      "models_rss": round(rss_loaded - rss_start, 1),
                      "tracemalloc_peak_floor": floor_peak, "tracemalloc_peak_extraction": extract_peak},
    }


def summary(result: dict[str, Any]) -> str:
    """The figures as a few human lines."""
    floor, extraction, memory = result["floor"], result["extraction"], result["memory_mb"]
    return "\n".join([
        f"{result['messages']} mails, one core ({result['cpu']}), best of {result['repeats']}; model {result['model']}",
        f"floor (parse + tokenise): {floor['messages_per_second']} mails/s, {floor['ms_per_message']} ms/mail",
        f"extraction (parse + extract): {extraction['messages_per_second']} mails/s, {extraction['ms_per_message']} ms/mail "
        f"(extract only {extraction['extract_only_ms_per_message']} ms/mail)",
        f"extraction / floor: {result['ratio_extraction_to_floor']}×; extract only / floor: "
        f"{result['ratio_extract_only_to_floor']}× (aim ≤ {result['aim_ratio']}×)",
        f"memory: models {memory['models_rss']} MB RSS; extraction warm-up +{memory['extraction_warmup_rss']} MB; "
        f"growth over all runs +{memory['growth_during_runs']} MB (RSS {memory['rss_after_runs']} MB in all); "
        f"tracemalloc peak floor {memory['tracemalloc_peak_floor']} MB, extraction {memory['tracemalloc_peak_extraction']} MB",
    ])


if __name__ == "__main__":
    import json

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print(json.dumps(run(count, progress=lambda text: print(text, file=sys.stderr)), indent=2))
