"""The spaCy pipelines of the extraction stage: spacy.blank(lang) plus our registered components.

`build_nlp(lang)` gives the untrained pipeline (rule components ready, trained components empty);
`load_nlp(lang, model_dir)` also loads the trained field scorer and arranger categorizer from
models/extract/. Training and the service build the pipeline with this one function.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

import triage.nlp.components  # noqa: F401 - registers the factories
from triage.nlp.components.fields import ORGS_KEY

LANGUAGES: tuple[str, ...] = ("sv", "nb", "en")
#: The classes of the arranger categorizer; "none" when the mail names no arranger.
ARRANGER_LABELS: tuple[str, ...] = ("industry", "healthcare", "third_party", "joint", "none")
#: Components that only run on a whole message (all sections joined), not on each section.
MESSAGE_LEVEL = ("arranger",)
TRAINED = ("triage_fields", "arranger")

_ARRANGER_MODEL = {
    "@architectures": "spacy.TextCatBOW.v3",
    "exclusive_classes": True,
    "ngram_size": 1,
    "no_output_layer": False,
    "length": 2**16,
    "nO": None,
}


def build_nlp(lang: str) -> Language:
    """A blank pipeline for `lang` with every extraction component, the trained ones not yet trained."""
    if lang not in LANGUAGES:
        raise ValueError(f"no extraction pipeline for language {lang!r}; use one of {', '.join(LANGUAGES)}")
    nlp = spacy.blank(lang)
    nlp.add_pipe("triage_sentences")
    nlp.add_pipe("triage_cues")
    nlp.add_pipe("triage_dates")
    nlp.add_pipe("triage_orgs", config={"spans_key": ORGS_KEY})
    nlp.add_pipe("triage_costs")
    nlp.add_pipe("triage_contacts")
    nlp.add_pipe("triage_online")
    nlp.add_pipe("triage_field_scorer", name="triage_fields")
    arranger = nlp.add_pipe("textcat", name="arranger", config={"model": _ARRANGER_MODEL, "threshold": 0.0})
    for label in ARRANGER_LABELS:
        arranger.add_label(label)
    return nlp


class ModelMissingError(FileNotFoundError):
    """The trained extraction model is not where the settings say; `triage train` makes it."""


def load_nlp(lang: str, model_dir: Path) -> Language:
    """The pipeline for `lang` with the trained components read from `model_dir` (offline)."""
    nlp = build_nlp(lang)
    for name in TRAINED:
        path = model_dir / name
        if not path.is_dir():
            raise ModelMissingError(
                f"trained component {name!r} missing in {model_dir}; run `triage train` to build models/extract/"
            )
        nlp.get_pipe(name).from_disk(path, exclude=["vocab"])
    return nlp
