"""The .eml fixtures of the message parser tests (tests/data/mail/) and small helpers around them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from triage.message.envelope import ParsedMessage
from triage.message.parse import parse_message

MAIL_DIR = Path(__file__).resolve().parent.parent / "data" / "mail"


def mail_bytes(name: str) -> bytes:
    """The raw bytes of a fixture, by file name."""
    return (MAIL_DIR / name).read_bytes()


@cache
def parsed(name: str) -> ParsedMessage:
    """A fixture parsed with the default limits (cached: ParsedMessage is immutable)."""
    return parse_message(mail_bytes(name))


def fixture_names() -> list[str]:
    """Every fixture's file name, sorted."""
    return sorted(path.name for path in MAIL_DIR.glob("*.eml"))


def lines(text: str) -> list[str]:
    """The text's lines with surrounding spaces removed, blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]
