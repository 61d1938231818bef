"""Build the judging pipeline from the settings: load each trained stage once, at start-up.

This is the only module that knows which implementation serves each stage; the CLI, the worker
and the web app all get their Pipeline from here, so they judge with exactly the same code.
"""

from __future__ import annotations

from triage.classify.routing import JurisdictionRouter
from triage.config import MailboxConfig, Settings
from triage.message.parse import ParseLimits
from triage.pipeline.pipeline import Pipeline
from triage.pipeline.stages import VerdictDecider


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
    )


def build_pipeline(settings: Settings, mailbox: MailboxConfig | None = None) -> Pipeline:
    """A Pipeline for one mailbox (its jurisdiction), or for loose files when mailbox is None."""
    return Pipeline(
        router=JurisdictionRouter(mailbox.jurisdiction if mailbox else None),
        decider=VerdictDecider(settings.classifier.finding_review_threshold),
        limits=parse_limits(settings),
    )
