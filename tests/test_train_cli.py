"""`triage train`: runs the registered trainers, writes models/<name>/, and does it reproducibly."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import triage.classify.train as chapter_train
from triage.classify.model import CANDIDATES
from triage.cli.app import app
from triage.training.run import TRAINER_MODULES, TrainingError, registered_trainers, run_training

from tests.support.corpus_subset import small_corpus


@pytest.fixture
def fast_candidates(monkeypatch):
    """The two quick candidates only: what is tested is the command, not the model search."""
    monkeypatch.setattr(chapter_train, "CANDIDATES", tuple(c for c in CANDIDATES if c.name.startswith("svm")))


def test_trainers_are_registered_in_the_module_list_order():
    assert TRAINER_MODULES[:3] == ["triage.nlp.train", "triage.classify.train", "triage.rules.train"]
    assert registered_trainers()[:3] == ["extract", "chapter", "rules"]


def test_train_only_chapter_writes_the_model_card_and_metrics(tmp_path, fast_candidates):
    root = small_corpus(tmp_path / "corpus")
    models = tmp_path / "models"
    result = CliRunner().invoke(app, ["train", "--only", "chapter", "--models-dir", str(models), "--root", str(root)])
    assert result.exit_code == 0, result.output
    card = json.loads((models / "chapter" / "model.json").read_text())
    metrics = json.loads((models / "chapter" / "metrics.json").read_text())
    assert card["name"] == "chapter" and card["model_bytes"] > 0 and card["train_seconds"] > 0
    assert metrics["train_size"] == 14 * 6 and metrics["dev_size"] == 14 * 2
    assert "selected" in result.stdout
    assert [p.name for p in (models).iterdir()] == ["chapter"]  # --only: nothing else trained


def test_an_unknown_trainer_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["train", "--only", "nonsense", "--models-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no trainer named nonsense" in result.output
    with pytest.raises(TrainingError):
        run_training(tmp_path, only=["nonsense"])


def test_the_same_seed_gives_the_same_metrics(tmp_path, fast_candidates):
    root = small_corpus(tmp_path / "corpus")
    first, second = tmp_path / "one", tmp_path / "two"
    run_training(first, only=["chapter"], corpus_root=root)
    run_training(second, only=["chapter"], corpus_root=root)
    assert (first / "chapter" / "metrics.json").read_bytes() == (second / "chapter" / "metrics.json").read_bytes()
    cards = [json.loads((d / "chapter" / "model.json").read_text()) for d in (first, second)]
    assert cards[0]["version"] == cards[1]["version"]
    assert cards[0]["training_data_sha256"] == cards[1]["training_data_sha256"]


def test_trainers_run_in_the_order_of_the_module_list(monkeypatch):
    from triage.training import registry
    from triage.training import run as run_module

    def late(ctx):
        return {}

    late.__module__ = "tests.late_trainer"
    monkeypatch.setitem(registry.TRAINERS, "late", late)
    monkeypatch.setattr(run_module, "TRAINER_MODULES", ["tests.late_trainer", *run_module.TRAINER_MODULES])
    monkeypatch.setitem(__import__("sys").modules, "tests.late_trainer", __import__("types").ModuleType("late"))
    assert run_module.registered_trainers()[:2] == ["late", "extract"]
