"""`triage process --json`: the SPEC §4 contract, key for key and type for type."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.eml"))

TOP_KEYS = {
    "file": (str,), "message_id": (str, type(None)), "language": (str, type(None)),
    "jurisdiction": (str, type(None)), "rulebook": (str, type(None)), "chapter": (str, type(None)),
    "chapter_confidence": (float, int, type(None)), "no_section": (str, type(None)), "needs_review": (bool,),
    "event": (dict,), "missing": (list,), "violations": (list,), "findings": (list,), "verdict": (str, type(None)),
}
EVENT_KEYS = {
    "title": (str, type(None)), "organizer": (str, type(None)), "sponsors": (list,),
    "arranger": (str, type(None)), "start": (str, type(None)), "end": (str, type(None)),
    "duration_minutes": (int, type(None)), "location": (str, type(None)), "online": (bool, type(None)),
    "target_group": (str, type(None)), "purpose": (str, type(None)), "content": (str, type(None)),
    "costs_covered": (list,), "registration_deadline": (str, type(None)), "contact": (str, type(None)),
    "products": (list,),
}
FINDING_KEYS = {"rule": (str,), "kind": (str,), "code": (str,), "severity": (str,), "message": (str,), "evidence": (str, type(None))}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def sample_lines() -> list[dict]:
    proc = run_cli("process", *map(str, SAMPLES), "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_one_json_object_per_mail(sample_lines):
    assert len(SAMPLES) >= 15
    assert [line["file"] for line in sample_lines] == [str(p) for p in SAMPLES]


def test_every_key_has_the_contract_type(sample_lines):
    for line in sample_lines:
        for key, types in TOP_KEYS.items():
            assert key in line, f"{line['file']}: no {key}"
            assert isinstance(line[key], types), f"{line['file']}: {key}={line[key]!r}"
        assert set(line["event"]) == set(EVENT_KEYS)
        for key, types in EVENT_KEYS.items():
            assert isinstance(line["event"][key], types), f"{line['file']}: event.{key}={line['event'][key]!r}"
        for finding in line["findings"]:
            assert set(finding) == set(FINDING_KEYS)
            for key, types in FINDING_KEYS.items():
                assert isinstance(finding[key], types)


def test_the_malformed_sample_gets_an_error_and_the_rest_do_not(sample_lines):
    by_name = {Path(line["file"]).name: line for line in sample_lines}
    assert "error" in by_name["16-malformed.eml"] and by_name["16-malformed.eml"]["error"].startswith("parse:")
    good = [line for name, line in by_name.items() if name != "16-malformed.eml"]
    assert all("error" not in line for line in good)
    assert all(line["message_id"] for line in good)


def test_languages_are_recognised(sample_lines):
    by_name = {Path(line["file"]).name: line for line in sample_lines}
    assert by_name["01-lunch-lecture-sv.eml"]["language"] == "sv"
    assert by_name["03-kurs-no.eml"]["language"] == "nb"
    assert by_name["04-advisory-board-en.eml"]["language"] == "en"
    assert by_name["03-kurs-no.eml"]["jurisdiction"] == "NO"
    assert by_name["01-lunch-lecture-sv.eml"]["rulebook"] == "se-2026"


def test_missing_path_is_a_usage_error():
    proc = run_cli("process", "no/such/file.eml", "--json")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_human_form_names_file_verdict_and_error():
    proc = run_cli("process", str(SAMPLES[0]), str(ROOT / "samples" / "16-malformed.eml"))
    assert proc.returncode == 0, proc.stderr
    assert "Verdict:" in proc.stdout and "Chapter:" in proc.stdout
    assert "error:" in proc.stdout
