"""Load the rule checker once at start-up: the rulebooks, the lexicons, the site's overrides, the scorer."""

from __future__ import annotations

import logging

from triage.config import Settings
from triage.pipeline.stages import Checker
from triage.rules.checker import RulebookChecker
from triage.rules.lexicons import load_lexicons
from triage.rules.loading import load_rulebooks
from triage.rules.scorer import SentenceScorer, model_dir

log = logging.getLogger(__name__)


def load_checker(settings: Settings) -> Checker:
    """The rulebook checker; raises RulebookError when a rulebook or an override is not valid.

    Without a trained scorer (models/rules/ absent) the rules still run on their patterns alone.
    """
    lexicons = load_lexicons()
    rulebooks = load_rulebooks(lexicons=lexicons)
    scorer = SentenceScorer.load(model_dir(settings.models_dir))
    if scorer is None:
        log.warning("no trained rules scorer in %s; rules run on patterns only", model_dir(settings.models_dir))
    return RulebookChecker(rulebooks=rulebooks, lexicons=lexicons, settings=settings.rules, scorer=scorer)
