"""The judging pipeline: parse → extract → classify → check → decide, written once."""

from triage.pipeline.pipeline import STAGE_ORDER, Pipeline

__all__ = ["STAGE_ORDER", "Pipeline"]
