"""The benchmarks run end to end on a few mails and report their figures as JSON (no timing is asserted)."""

from __future__ import annotations

import json
import shutil

import pytest

from triage.cli.bench_cmd import load_benchmark

pytestmark = pytest.mark.slow


def test_the_floor_benchmark_reports_medians_stages_start_up_and_memory():
    floor = load_benchmark("floor")
    result = floor.run(messages=4, repeats=2, profile_top=3)
    json.dumps(result)
    assert result["statistic"] == "median" and len(result["full"]["passes_cpu_seconds"]) == 2
    assert set(result["stages_wall"]) == {"parse", "extract", "classify", "check", "decide"}
    assert {"import_cpu_seconds", "load_cpu_seconds", "rss_mb_loaded", "rss_mb_after_first_mails"} <= set(
        result["startup"])
    assert result["ratio"] > 0 and result["models_mb"] > 0
    assert "ratio" in floor.summary(result)


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="spamassassin is not installed")
def test_the_peer_benchmark_reports_start_up_and_steady_state_beside_the_headline():
    peer = load_benchmark("peer")
    result = peer.run(messages=3, repeats=1)
    json.dumps(result)
    for tool in ("spamassassin", "triage"):
        assert {"messages_per_cpu_second", "startup_cpu_seconds", "steady_messages_per_cpu_second"} <= set(result[tool])
    assert result["meets_aim"] == (result["ratio_cpu"] >= result["aim_ratio"])
    assert "steady" in peer.summary(result)
