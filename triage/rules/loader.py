"""Load the rule checker (the rules stage replaces this with its real loader)."""

from __future__ import annotations

from triage.config import Settings
from triage.pipeline.stages import Checker, NullChecker


def load_checker(settings: Settings) -> Checker:
    """The rulebook checker; runs no rules until the rulebooks are built."""
    return NullChecker()
