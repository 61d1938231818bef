"""The `extract` trainer: registered, reproducible, writes a model directory the loader reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.corpus.labels import DEFAULT_ROOT, load_split
from triage.message.parse import parse_message
from triage.nlp import train as extract_train
from triage.nlp.loader import load_from
from triage.training.registry import TRAINERS, TrainingContext


def small_context(models_dir: Path, train: int = 24, dev: int = 8) -> TrainingContext:
    return TrainingContext(corpus_root=DEFAULT_ROOT, models_dir=models_dir, train=load_split("train")[:train],
                           dev=load_split("dev")[:dev], progress=lambda _text: None)


@pytest.fixture()
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_train, "EPOCHS", 3)
    monkeypatch.setattr(extract_train, "ARRANGER_EPOCHS", 2)


def test_trainer_is_registered_as_extract() -> None:
    assert TRAINERS.get("extract") is extract_train.train_extract


def test_training_writes_a_loadable_model_with_dev_metrics(tmp_path: Path, quick: None) -> None:
    metrics = extract_train.train_extract(small_context(tmp_path))
    directory = tmp_path / "extract"
    card = json.loads((directory / "model.json").read_text(encoding="utf-8"))
    assert card["name"] == "extract"
    assert set(card["thresholds"]) == set(extract_train.FIELD_OF_LABEL)
    assert len(card["training_data_sha256"]) == 64
    written = json.loads((directory / "metrics.json").read_text(encoding="utf-8"))
    assert written["dev"]["mails"] == 8 == metrics["dev"]["mails"]
    assert "start" in written["dev"]["fields"]
    extractor = load_from(directory)
    sample = parse_message((Path(__file__).resolve().parents[1] / "samples" / "01-lunch-lecture-sv.eml").read_bytes())
    assert extractor.extract(sample).to_json()["start"].startswith("2026-03-03T")


def test_training_is_reproducible(tmp_path: Path, quick: None) -> None:
    extract_train.train_extract(small_context(tmp_path / "a", train=12, dev=4))
    extract_train.train_extract(small_context(tmp_path / "b", train=12, dev=4))
    for part in ("triage_fields/model", "arranger/model"):
        assert (tmp_path / "a" / "extract" / part).read_bytes() == (tmp_path / "b" / "extract" / part).read_bytes()


def test_gold_spans_are_found_in_the_sections() -> None:
    mail = next(m for m in load_split("train") if m.id == "a-008")
    pipelines = {lang: extract_train.build_nlp(lang) for lang in extract_train.LANGUAGES}
    prepared = extract_train.prepare(extract_train.EventExtractor(pipelines), [mail], DEFAULT_ROOT)[0]
    found = {(sd.doc[s:e].text, label) for sd in prepared.section_docs for s, e, label in extract_train.gold_spans(sd, mail)}
    assert ("Nevrin Pharma AB", "organizer") in found
    assert ("Föreläsningssal 3, ingång 70, Akademiska sjukhuset", "location") in found
    assert any(label == "start" and "24 februari 2026" in text for text, label in found)
