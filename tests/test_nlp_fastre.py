"""The first-character guard of triage/nlp/fastre.py: the same matches, found faster."""

from __future__ import annotations

import re

import pytest

from triage.nlp.fastre import compile_guarded, first_chars

TEXT = ("Syftet är att gå igenom riktlinjerna. Kursen riktar sig till sjuksköterskor på Universitetssjukhuset Örebro "
        "och arrangeras av Kardiora AS i samarbete med SYKEHUSET Innlandet. The aim is to review; Open to all nurses.")


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        (r"(?:syftet|the aim)\s+(?:är|is)\s+(?:att|to)?", re.IGNORECASE),
        (r"(?:riktar sig till|open to|aimed at)\s+", re.IGNORECASE),
        (r"(?<![\w&/-])(?i:sykehuset|sjukhuset|universitetssjukhuset)(?:[ \t]+[A-ZÅÄÖÆØ][\w-]+){1,2}", 0),
        (r"(?:(?<=\s)|^)(?:på|i|vid|at)\s+(?=[A-ZÅÄÖ])", 0),
        (r"(?:arrangeras av|i samarbete med)\s+", re.IGNORECASE),
    ],
)
def test_guarded_pattern_matches_exactly_what_the_pattern_matches(pattern: str, flags: int) -> None:
    plain = re.compile(pattern, flags)
    guarded = compile_guarded(pattern, flags)
    assert guarded.pattern.startswith("(?=")
    assert [m.span() for m in guarded.finditer(TEXT)] == [m.span() for m in plain.finditer(TEXT)]
    assert [m.span() for m in guarded.finditer(TEXT.upper())] == [m.span() for m in plain.finditer(TEXT.upper())]


def test_a_scoped_ignorecase_branch_makes_the_guard_case_insensitive() -> None:
    guarded = compile_guarded(r"(?i:sykehuset)[ ]+[A-Z]\w+")
    assert guarded.search("SYKEHUSET Innlandet") and guarded.search("sykehuset Innlandet")


@pytest.mark.parametrize("pattern", [r"\S(?:och|og)\s", r".abc", r"(?:abc)?", r"(?i)abc|def", r"[^a]bc"])
def test_patterns_whose_first_character_cannot_be_bounded_compile_unchanged(pattern: str) -> None:
    assert first_chars(pattern) is None or pattern.startswith("(?i)")
    assert compile_guarded(pattern).pattern == pattern


def test_optional_first_item_adds_what_follows_it() -> None:
    assert first_chars(r"(?:the )?target") == {"t"}
    assert first_chars(r"(?:den )?(?:\d|x)") == {"d", "x", "\\d"}
    assert first_chars(r"(?:den )?\D") is None  # "not a digit" cannot be bounded
    assert first_chars(r"(?:ca\.? )?kl") == {"c", "k"}


def test_digit_and_space_classes_stay_escapes_in_the_guard() -> None:
    assert first_chars(r"\s+(?:och|og)\s") == {"\\s"}
    guarded = compile_guarded(r"(?<![\w])(?:\d{1,2}\.\d{1,2}|den \d+)", re.IGNORECASE)
    text = "den 12 mars, 3.4 och ٣.٤ (Arabic-Indic digits are digits too)"
    plain = re.compile(r"(?<![\w])(?:\d{1,2}\.\d{1,2}|den \d+)", re.IGNORECASE)
    assert [m.span() for m in guarded.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert len(list(guarded.finditer(text))) == 3
