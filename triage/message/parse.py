"""Parse raw RFC 5322 bytes into a ParsedMessage (placeholder: the full parser is being built)."""

from __future__ import annotations

from dataclasses import dataclass

from triage.message.envelope import ParsedMessage


class MessageParseError(ValueError):
    """The bytes cannot be read as a mail at all; the message is kept with this error."""


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep one hostile mail from eating the worker's memory or time."""

    max_message_bytes: int = 30 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_header_bytes: int = 256 * 1024
    max_attachment_text_chars: int = 200_000
    max_body_chars: int = 500_000


def parse_message(raw: bytes, *, limits: ParseLimits | None = None) -> ParsedMessage:
    raise NotImplementedError
