"""Every shipped rule's examples, run; every rule has them; every SPEC code has a rule where it belongs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triage.corpus.conventions import ALLOWED_MISSING, NO_VIOLATIONS
from triage.rules.examples import ExampleResult, example_message, run_example
from triage.rules.lexicons import load_lexicons
from triage.rules.loading import load_rulebooks
from triage.vocabulary import LANGUAGES, MISSING_CODES, VIOLATION_CODES

LEXICONS = load_lexicons()
BOOKS = load_rulebooks(lexicons=LEXICONS)
RULES = [(book, rule) for book in BOOKS.values() for rule in book.rules]


def _cases():
    for book, rule in RULES:
        for number, example in enumerate(rule.examples, start=1):
            yield pytest.param(book, rule, example, None, id=f"{rule.id}#{number}-{example.expect}")
        for exc in rule.exceptions:
            for number, example in enumerate(exc.examples, start=1):
                yield pytest.param(book, rule, example, exc.id, id=f"{rule.id}!{exc.id}#{number}-{example.expect}")


@pytest.mark.parametrize(("book", "rule", "example", "exception"), list(_cases()))
def test_example(book, rule, example, exception):
    """A hit example yields a finding of this rule quoting the expected evidence; a miss yields none."""
    result = ExampleResult(rule, example, tuple(run_example(book, rule, example, LEXICONS)), exception)
    assert result.ok, "; ".join(result.problems())
    if example.expect == "hit":
        finding = result.findings[0]
        assert finding.rule == rule.id
        assert finding.code == rule.code and finding.kind == rule.kind
        if rule.kind == "violation":
            assert finding.evidence is not None and example.evidence in finding.evidence.text
        language = example_message(example, book.jurisdiction).language
        assert finding.message == rule.message(language if language in LANGUAGES else book.language)


@pytest.mark.parametrize(("book", "rule"), RULES, ids=[rule.id for _, rule in RULES])
def test_every_rule_ships_a_hit_and_a_miss(book, rule):
    kinds = {example.expect for example in rule.examples}
    assert {"hit", "miss"} <= kinds, f"{rule.id} needs a hit and a miss example"
    for exc in rule.exceptions:
        assert {"hit", "miss"} <= {e.expect for e in exc.examples}, f"{rule.id} exception {exc.id} lacks examples"


@pytest.mark.parametrize(("book", "rule"), [(b, r) for b, r in RULES if r.exceptions],
                         ids=[r.id for _, r in RULES if r.exceptions])
def test_exceptions_are_what_silences_their_miss_examples(book, rule):
    """Without the exception, its miss examples would fire: the exception is doing the work."""
    bare = replace(rule, exceptions=())
    for exc in rule.exceptions:
        for example in exc.examples:
            if example.expect == "miss":
                assert run_example(book, bare, example, LEXICONS), f"{exc.id}: {example.text!r} fires without the exception"


def test_every_violation_code_has_a_rule_in_its_rulebook():
    se = {r.code for r in BOOKS["se-2026"].rules if r.kind == "violation"}
    no = {r.code for r in BOOKS["no-2023"].rules if r.kind == "violation"}
    assert se | no == set(VIOLATION_CODES)
    assert set(VIOLATION_CODES) - se == {"meeting_not_preagreed"}  # a Norwegian-only rule
    assert no == NO_VIOLATIONS


def test_missing_rules_match_the_labelling_tables():
    """A missing-element rule runs exactly in the chapters LABELLING.md says the code may be missing."""
    for jurisdiction, book_id in (("SE", "se-2026"), ("NO", "no-2023")):
        expected: dict[str, set[str]] = {}
        for (j, chapter), codes in ALLOWED_MISSING.items():
            if j == jurisdiction:
                for code in codes:
                    expected.setdefault(code, set()).add(chapter)
        found: dict[str, set[str]] = {}
        for rule in BOOKS[book_id].rules:
            if rule.kind == "missing":
                found.setdefault(rule.code, set()).update(rule.chapters)
        assert found == expected, book_id
    assert {r.code for b in BOOKS.values() for r in b.rules if r.kind == "missing"} == set(MISSING_CODES)


def test_rule_ids_are_stable_and_cite_their_source():
    for book, rule in RULES:
        assert rule.id.startswith(book.id + "/")
        assert rule.citation and rule.description
        assert set(rule.messages) >= {"sv", "nb", "en"}
