"""`triage rules list | explain | check`: what a person sees of the rulebooks from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from triage.cli.app import app
from triage.rules.loading import load_rulebooks

RUNNER = CliRunner()


def test_list_prints_every_rule_with_code_chapters_severity_and_citation():
    result = RUNNER.invoke(app, ["rules", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    books = load_rulebooks()
    assert [r["id"] for r in rows] == [rule.id for book in books.values() for rule in book.rules]
    travel = next(r for r in rows if r["id"] == "se-2026/3.1/travel")
    assert travel["code"] == "travel_paid_by_industry" and "3.2" in travel["chapters"]
    assert travel["severity"] == "high" and travel["citation"].startswith("Specifikation kap. 3.1")
    assert travel["description"]


def test_list_shows_a_sites_override(tmp_path):
    config = tmp_path / "triage.toml"
    config.write_text('[rules.overrides."se-2026/3.1/travel"]\nenabled = false\nseverity = "low"\n', encoding="utf-8")
    result = RUNNER.invoke(app, ["rules", "list", "--json", "--rulebook", "se-2026", "--config", str(config)])
    assert result.exit_code == 0, result.output
    travel = next(json.loads(line) for line in result.output.splitlines() if '"se-2026/3.1/travel"' in line)
    assert travel["enabled"] is False and travel["severity"] == "low"


def test_explain_shows_description_citation_exceptions_and_examples():
    result = RUNNER.invoke(app, ["rules", "explain", "se-2026/3.1/travel"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Citation:" in result.output and "kap. 3.1" in result.output
    assert "shared-transfer" in result.output
    assert "Vi bokar och betalar flyg" in result.output and "FAIL" not in result.output


def test_explain_an_unknown_rule_is_an_error():
    result = RUNNER.invoke(app, ["rules", "explain", "se-2026/9/nope"])
    assert result.exit_code == 2


def test_check_runs_all_examples():
    result = RUNNER.invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
