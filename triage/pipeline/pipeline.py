"""The one place where the order of the judging stages is written.

`Pipeline.judge(raw)` is what `triage process`, the demo and the worker all call, so a mail is
judged the same way whichever door it came in by. It never raises for a bad message: a stage
that fails leaves its fields empty and the result carries an `error` naming the stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from triage.message.envelope import ParsedMessage
from triage.message.parse import MessageParseError, ParseLimits, parse_message
from triage.pipeline.stages import (
    Checker,
    Classifier,
    Decider,
    Extractor,
    NullChecker,
    NullClassifier,
    NullExtractor,
    Router,
    VerdictDecider,
)
from triage.results import TriageResult

#: The stage order, as the product description reads it. `act` (store, file, reply) belongs to
#: the worker, which calls the judging stages through `Pipeline.judge`.
STAGE_ORDER: tuple[str, ...] = ("parse", "extract", "classify", "check", "decide")


@dataclass
class Pipeline:
    """The judging stages, each injected, run in STAGE_ORDER."""

    router: Router
    extractor: Extractor = field(default_factory=NullExtractor)
    classifier: Classifier = field(default_factory=NullClassifier)
    checker: Checker = field(default_factory=NullChecker)
    decider: Decider = field(default_factory=VerdictDecider)
    limits: ParseLimits = field(default_factory=ParseLimits)

    def judge(self, raw: bytes, file: str | None = None) -> TriageResult:
        """Judge one raw RFC 5322 message; failures become `error`, never exceptions."""
        result = TriageResult(file=file)
        message: ParsedMessage | None = None

        def parse() -> None:
            nonlocal message
            message = parse_message(raw, limits=self.limits)
            result.message_id = message.message_id
            result.raw_sha256 = message.raw_sha256
            result.subject = message.subject
            result.sender = str(message.original_sender) if message.original_sender else None
            result.language = message.language

        def extract() -> None:
            result.event = self.extractor.extract(message)

        def classify() -> None:
            result.classification = self.classifier.classify(message, result.event)
            result.routing = self.router.route(message, result.classification)

        def check() -> None:
            result.check = self.checker.check(message, result.event, result.classification, result.routing)

        def decide() -> None:
            result.decision = self.decider.decide(result.classification, result.check)

        steps: dict[str, Callable[[], None]] = {
            "parse": parse, "extract": extract, "classify": classify, "check": check, "decide": decide,
        }
        for name in STAGE_ORDER:
            started = time.perf_counter()
            try:
                steps[name]()
            except MessageParseError as exc:
                result.error = f"parse: {exc}"
                break
            except Exception as exc:  # noqa: BLE001 - one bad message must never stop the others
                result.error = f"{name}: {type(exc).__name__}: {exc}"
                break
            finally:
                result.timings_ms[name] = round((time.perf_counter() - started) * 1000, 3)
        return result
