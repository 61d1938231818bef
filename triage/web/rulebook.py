"""Citation and description of a rule, for the message page, from the loaded rulebook.

A finding stores its rule id, citation and message; the rulebook knows the rule's plain-words
description too. The rulebooks are loaded once (the rules stage owns the loading); when a rule
id is not in them (a rule retired since the message was judged), the stored citation is shown
without a description, and when there is no citation either, the rule id alone.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _rulebooks() -> dict[str, Any]:
    """Rulebook id → Rulebook, as the rules stage loads them; {} when they cannot be loaded."""
    try:
        from triage.rules import loading  # type: ignore[attr-defined]
    except ImportError:
        return {}
    for name in ("load_shipped_rulebooks", "load_rulebooks", "shipped_rulebooks"):
        loader = getattr(loading, name, None)
        if loader is None:
            continue
        try:
            books = loader()
        except Exception as exc:  # noqa: BLE001 - a page with rule ids only beats no page
            log.warning("rulebooks could not be loaded for the review UI: %s", exc)
            return {}
        if isinstance(books, dict):
            return dict(books)
        return {book.id: book for book in books}
    return {}


def rule_details(rule_id: str, citation: str | None, language: str = "en") -> tuple[str | None, str | None]:
    """(citation, description) of a rule from its rulebook; else the stored citation and no description."""
    book = _rulebooks().get(rule_id.split("/", 1)[0])
    if book is not None:
        try:
            rule = book.rule(rule_id)
        except KeyError:
            rule = None
        if rule is not None:
            describe = getattr(rule, "describe", None)
            description = describe(language) if callable(describe) else None
            return rule.citation or citation, description
    return citation, None
