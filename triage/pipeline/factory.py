"""Build the judging pipeline from the settings: load each trained stage once, at start-up.

This is the only module that knows which implementation serves each stage; the CLI, the worker
and the web app all get their Pipeline from here, so they judge with exactly the same code.
Loading is cached per settings object, so a worker with many mailboxes loads the models once.
"""

from __future__ import annotations

from dataclasses import replace

from triage.classify.loader import load_classifier
from triage.classify.routing import JurisdictionRouter
from triage.config import MailboxConfig, Settings
from triage.message.parse import ParseLimits
from triage.nlp.loader import load_extractor
from triage.pipeline.pipeline import Pipeline
from triage.pipeline.stages import VerdictDecider
from triage.rules.loader import load_checker


def parse_limits(settings: Settings) -> ParseLimits:
    """The parser's bounds, from the [limits] table of the config."""
    limits = settings.limits
    return ParseLimits(
        max_message_bytes=limits.max_message_bytes,
        max_parts=limits.max_parts,
        max_depth=limits.max_depth,
        max_header_bytes=limits.max_header_bytes,
        max_attachment_text_chars=limits.max_attachment_text_chars,
        max_body_chars=limits.max_body_chars,
        max_unpacked_bytes=limits.max_unpacked_bytes,
        max_compression_ratio=limits.max_compression_ratio,
    )


_LOADED: dict[int, tuple[Settings, Pipeline]] = {}


def _base_pipeline(settings: Settings) -> Pipeline:
    """The stages loaded for these settings; loaded once, on first use."""
    cached = _LOADED.get(id(settings))
    if cached is not None and cached[0] is settings:
        return cached[1]
    pipeline = Pipeline(
        router=JurisdictionRouter(None),
        extractor=load_extractor(settings),
        classifier=load_classifier(settings),
        checker=load_checker(settings),
        decider=VerdictDecider(settings.classifier.finding_review_threshold),
        limits=parse_limits(settings),
    )
    _LOADED[id(settings)] = (settings, pipeline)
    return pipeline


def build_pipeline(settings: Settings, mailbox: MailboxConfig | None = None) -> Pipeline:
    """A Pipeline for one mailbox (its jurisdiction), or for loose files when mailbox is None."""
    base = _base_pipeline(settings)
    if mailbox is None or not mailbox.jurisdiction:
        return base
    return replace(base, router=JurisdictionRouter(mailbox.jurisdiction))
