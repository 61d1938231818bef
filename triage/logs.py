"""Structured logging for the worker and the web app: JSON lines when not on a terminal.

Secrets never reach a log line: the config holds them as `Secret` (masked repr), and the
`redact_secrets` processor masks any value under a key that names a secret, as a second guard.
"""

from __future__ import annotations

import logging
import sys

import structlog

SECRET_KEYS = ("password", "passwd", "secret", "token", "authorization", "cookie", "api_key")


def redact_secrets(_logger, _method, event_dict: dict) -> dict:
    """Mask the value of any key that looks like it holds a secret."""
    for key in list(event_dict):
        if any(word in key.lower() for word in SECRET_KEYS):
            event_dict[key] = "********"
    return event_dict


class _StderrLogger:
    """Writes each line to whatever sys.stderr is *now*, so a replaced stream (tests, daemons) is honoured."""

    def msg(self, message: str) -> None:
        # One write per line: print() writes the text and the newline separately, and a line
        # another thread (APScheduler's logging) wrote in between would end up glued to ours.
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger_factory(*_args) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str = "info", *, json_output: bool | None = None) -> None:
    """Set up structlog once per process; JSON when stderr is not a TTY unless told otherwise."""
    if json_output is None:
        json_output = not sys.stderr.isatty()
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s")
    renderer = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None):
    """A bound structlog logger."""
    return structlog.get_logger(name)
