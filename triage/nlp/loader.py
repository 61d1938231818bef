"""Load the extraction stage once at start-up: the spaCy pipelines and models/extract/ (offline)."""

from __future__ import annotations

from pathlib import Path

from triage.config import Settings
from triage.nlp.components.fields import FIELD_LABELS
from triage.nlp.extractor import EventExtractor
from triage.nlp.pipeline import LANGUAGES, ModelMissingError, load_nlp
from triage.pipeline.stages import Extractor
from triage.training.registry import read_model_card

MODEL_NAME = "extract"


def load_extractor(settings: Settings) -> Extractor:
    """The EventExtractor with its trained components; a clear error when models/extract/ is missing."""
    return load_from(Path(settings.models_dir) / MODEL_NAME)


def load_from(model_dir: Path) -> EventExtractor:
    """An EventExtractor from one model directory (model.json, triage_fields/, arranger/)."""
    card = read_model_card(model_dir)
    if not card:
        raise ModelMissingError(
            f"no extraction model at {model_dir} (model.json missing); run `triage train` to build it"
        )
    languages = [lang for lang in card.get("languages", LANGUAGES) if lang in LANGUAGES]
    pipelines = {lang: load_nlp(lang, model_dir) for lang in languages}
    extractor = EventExtractor(
        pipelines,
        thresholds=card.get("thresholds"),
        arranger_threshold=float(card.get("arranger_threshold", 0.4)),
        model_version=f"{card.get('name', MODEL_NAME)}-{card.get('version', '?')}",
    )
    # The scorer keeps a span only from the lowest field threshold up: the extractor drops anything
    # below its field's threshold anyway, so fewer Span objects are made (training keeps them all,
    # to tune the thresholds).
    lowest = min(extractor.thresholds.get(label, 0.5) for label in FIELD_LABELS)
    for nlp in pipelines.values():
        if "triage_fields" in nlp.pipe_names:
            scorer = nlp.get_pipe("triage_fields")
            scorer.cfg["threshold"] = max(float(scorer.cfg["threshold"]), lowest)
    return extractor
