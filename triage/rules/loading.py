"""Read the rulebook files and refuse, with a clear message, any rule that cannot be trusted.

Validated at start-up: every rule has a citation, a description, a known kind, a code of the SPEC
vocabulary that fits its kind, a severity, chapters of the vocabulary, a registered check with the
params it needs, messages in sv, nb and en, and at least one hit and one miss example; every
exception names a lexicon group that exists and ships its own examples.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from triage.rules.checks import CHECK_PARAMS, CHECKS
from triage.rules.lexicons import Lexicons, load_lexicons
from triage.rules.model import Example, Rule, Rulebook, RulebookError, RuleException
from triage.vocabulary import (
    CHAPTERS,
    FINDING_KINDS,
    JURISDICTIONS,
    LANGUAGES,
    MISSING_CODES,
    NOT_INVITATION,
    SEVERITIES,
    VIOLATION_CODES,
)

RULEBOOK_DIR = Path(__file__).resolve().parent / "rulebooks"

_BOOK_KEYS = {"id", "version", "title", "source", "jurisdiction", "language", "rule"}
_RULE_KEYS = {
    "id", "citation", "description", "kind", "code", "severity", "chapters", "check", "messages",
    "example", "exception", "enabled", "scorer", "params",
}
_EXAMPLE_KEYS = {
    "expect", "text", "subject", "evidence", "chapter", "language", "to", "cc", "sender", "event", "note",
}
_EXCEPTION_KEYS = {"id", "description", "lexicon", "scope", "example"}


def _fail(where: str, problem: str) -> RulebookError:
    return RulebookError(f"{where}: {problem}")


def _unknown(where: str, data: dict[str, Any], known: set[str]) -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise _fail(where, f"unknown key(s) {', '.join(extra)}")


def _text(where: str, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"missing {key}")
    return value.strip()


def _examples(where: str, raw: Any, chapters: tuple[str, ...], *, kind: str | None) -> tuple[Example, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(where, "example must be an array of tables ([[...example]])")
    examples = []
    for number, data in enumerate(raw, start=1):
        at = f"{where} example {number}"
        if not isinstance(data, dict):
            raise _fail(at, "must be a table")
        _unknown(at, data, _EXAMPLE_KEYS)
        expect = data.get("expect")
        if expect not in {"hit", "miss"}:
            raise _fail(at, f"expect must be 'hit' or 'miss', not {expect!r}")
        text = _text(at, data, "text")
        chapter = data.get("chapter")
        if chapter is not None and str(chapter) not in chapters:
            raise _fail(at, f"chapter {chapter!r} is not one the rule applies to ({', '.join(chapters)})")
        evidence = data.get("evidence")
        if kind == "violation" and expect == "hit" and not evidence:
            raise _fail(at, "a violation's hit example must give the evidence its finding quotes")
        if evidence is not None and evidence not in text and evidence not in (data.get("subject") or ""):
            if not (data.get("to") or data.get("cc")):
                raise _fail(at, f"evidence {evidence!r} is not in the example's text")
        language = data.get("language")
        if language is not None and language not in LANGUAGES:
            raise _fail(at, f"language must be one of {', '.join(LANGUAGES)}")
        event = data.get("event") or {}
        if not isinstance(event, dict):
            raise _fail(at, "event must be a table of EventDetails fields")
        examples.append(Example(
            expect=expect, text=text, subject=str(data.get("subject") or ""), evidence=evidence,
            chapter=None if chapter is None else str(chapter), language=language,
            to=data.get("to"), cc=data.get("cc"), sender=data.get("sender"), event=dict(event),
            note=str(data.get("note") or ""),
        ))
    return tuple(examples)


def _require_both(where: str, examples: tuple[Example, ...]) -> None:
    kinds = {e.expect for e in examples}
    for wanted in ("hit", "miss"):
        if wanted not in kinds:
            raise _fail(where, f"missing example: needs at least one {wanted!r} example")


def _rule(book: str, data: dict[str, Any], lexicons: Lexicons, number: int) -> Rule:
    rule_id = data.get("id")
    where = f"{book}: rule {rule_id or '#' + str(number)}"
    if not isinstance(rule_id, str) or not rule_id.startswith(f"{book}/"):
        raise _fail(where, f"id must be a string starting with {book + '/'!r}")
    _unknown(where, data, _RULE_KEYS)
    citation = data.get("citation")
    if not isinstance(citation, str) or not citation.strip():
        raise _fail(where, "missing citation (chapter/section of the source)")
    description = data.get("description")
    if not isinstance(description, dict) or not any(isinstance(v, str) and v.strip() for v in description.values()):
        raise _fail(where, "missing description (description.en / description.sv)")
    kind = data.get("kind")
    if kind not in FINDING_KINDS:
        raise _fail(where, f"kind must be one of {', '.join(FINDING_KINDS)}, not {kind!r}")
    code = data.get("code")
    known_codes = MISSING_CODES if kind == "missing" else VIOLATION_CODES
    if code not in known_codes:
        raise _fail(where, f"unknown code {code!r} for kind {kind!r} (SPEC §3)")
    severity = data.get("severity")
    if severity not in SEVERITIES:
        raise _fail(where, f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    chapters = data.get("chapters")
    if not isinstance(chapters, list) or not chapters:
        raise _fail(where, "chapters must be a non-empty list")
    chapters = tuple(str(c) for c in chapters)
    for chapter in chapters:
        if chapter not in CHAPTERS or chapter == NOT_INVITATION:
            raise _fail(where, f"unknown chapter {chapter!r}")
    check = data.get("check")
    if check not in CHECKS:
        raise _fail(where, f"unknown check {check!r} (registered: {', '.join(sorted(CHECKS))})")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise _fail(where, "params must be a table")
    absent = [p for p in CHECK_PARAMS.get(check, ()) if p not in params]
    if absent:
        raise _fail(where, f"check {check!r} needs params {', '.join(absent)}")
    for name, value in params.items():
        refs = value if isinstance(value, list) else [value]
        for ref in refs:
            if isinstance(ref, str) and ":" in ref and ref not in lexicons:
                raise _fail(where, f"params.{name}: unknown lexicon group {ref!r}")
    messages = data.get("messages")
    if not isinstance(messages, dict):
        raise _fail(where, "missing messages (sv, nb, en)")
    for language in LANGUAGES:
        if not isinstance(messages.get(language), str) or not messages[language].strip():
            raise _fail(where, f"missing message in {language!r}")
    examples = _examples(where, data.get("example"), chapters, kind=kind)
    _require_both(where, examples)
    exceptions = []
    for index, raw in enumerate(data.get("exception") or [], start=1):
        at = f"{where} exception {raw.get('id', index) if isinstance(raw, dict) else index}"
        if not isinstance(raw, dict):
            raise _fail(at, "must be a table")
        _unknown(at, raw, _EXCEPTION_KEYS)
        lexicon = _text(at, raw, "lexicon")
        if lexicon not in lexicons:
            raise _fail(at, f"unknown lexicon group {lexicon!r}")
        scope = raw.get("scope", "sentence")
        if scope not in {"sentence", "context", "message"}:
            raise _fail(at, "scope must be 'sentence', 'context' or 'message'")
        ex_examples = _examples(at, raw.get("example"), chapters, kind=kind)
        _require_both(at, ex_examples)
        exceptions.append(RuleException(
            id=_text(at, raw, "id"), description=_text(at, raw, "description"), lexicon=lexicon,
            scope=scope, examples=ex_examples,
        ))
    return Rule(
        id=rule_id, citation=citation.strip(),
        description={k: v.strip() for k, v in description.items() if isinstance(v, str)},
        kind=kind, code=code, severity=severity, chapters=chapters, check=check,
        messages={k: v.strip() for k, v in messages.items()}, examples=examples,
        exceptions=tuple(exceptions), enabled=bool(data.get("enabled", True)),
        scorer=bool(data.get("scorer", False)), params=dict(params),
    )


def parse_rulebook(data: dict[str, Any], lexicons: Lexicons, name: str = "rulebook") -> Rulebook:
    """Build and validate a Rulebook from decoded TOML."""
    _unknown(name, data, _BOOK_KEYS)
    book_id = _text(name, data, "id")
    jurisdiction = _text(name, data, "jurisdiction")
    if jurisdiction not in JURISDICTIONS:
        raise _fail(name, f"jurisdiction must be one of {', '.join(JURISDICTIONS)}")
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(name, "a rulebook needs at least one [[rule]]")
    rules = [_rule(book_id, raw, lexicons, number) for number, raw in enumerate(raw_rules, start=1)]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise _fail(name, f"rule id {rule.id!r} is used twice")
        seen.add(rule.id)
    language = str(data.get("language") or ("nb" if jurisdiction == "NO" else "sv"))
    return Rulebook(
        id=book_id, version=_text(name, data, "version"), title=str(data.get("title") or book_id),
        source=_text(name, data, "source"), jurisdiction=jurisdiction, language=language, rules=tuple(rules),
    )


def load_rulebook(path: Path, lexicons: Lexicons | None = None) -> Rulebook:
    """Read and validate one rulebook file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulebookError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulebookError(f"{path.name}: not valid TOML: {exc}") from None
    book = parse_rulebook(data, lexicons or load_lexicons(), path.name)
    if book.id != path.stem:
        raise RulebookError(f"{path.name}: id {book.id!r} does not match the file name")
    return book


def load_rulebooks(directory: Path = RULEBOOK_DIR, lexicons: Lexicons | None = None) -> dict[str, Rulebook]:
    """Every rulebook of a folder, by id."""
    lexicons = lexicons or load_lexicons()
    books = {}
    for path in sorted(directory.glob("*.toml")):
        book = load_rulebook(path, lexicons)
        books[book.id] = book
    if not books:
        raise RulebookError(f"no rulebooks in {directory}")
    return books
