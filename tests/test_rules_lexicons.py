"""Lexicon scans on the lowercased text find what the case-insensitive patterns find, at the same offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.rules.lexicons import Lexicons, load_lexicon, load_lexicons

SHIPPED = load_lexicons()
AS_WRITTEN = Lexicons(SHIPPED.lexicons, fold=False)
REFS = [f"{name}:{group}" for name, lexicon in SHIPPED.lexicons.items() for group in lexicon.groups]
#: Upper case, mixed case, Nordic letters, an "İ" (lowercases to two characters: offsets would move),
#: a German ß, a Kelvin sign and text on both sides of a match.
TEXTS = [
    "Vi BJUDER på MIDDAG med VIN och övernattning på Grand Hôtel i Stockholm.",
    "Kursen är KOSTNADSFRI. Resa och HOTELL betalas av Pfizer AB. Anmälan senast 1 mars.",
    "İstanbul-kongressen: vi betalar flyg, hotell och middag för deltagarna.",
    "Die Straße: Golf, SPA och Vinprovning — 3 rätter, 1200 kr per person, 5 K.",
    "Firmaet DEKKER reise og overnatting. Påmelding til Øystein Ås innen fredag.",
    "We will COVER your TRAVEL and accommodation; dinner at the Michelin-starred restaurant.",
]


def test_most_groups_run_folded_and_case_sensitive_ones_as_written():
    folded = {ref for ref in REFS if SHIPPED.lexicons[ref.split(":")[0]].folded[ref.split(":")[1]] is not None}
    assert len(folded) > len(REFS) / 2
    assert "contact:company_picks" not in folded  # has `(?-i:[A-ZÅÄÖÆØ]…)`: capital letters matter there


@pytest.mark.parametrize("text", TEXTS)
def test_folded_scans_equal_the_patterns_as_written(text: str):
    for ref in REFS:
        assert tuple(SHIPPED.finditer(ref, text)) == tuple(AS_WRITTEN.finditer(ref, text)), ref
        assert SHIPPED.any(ref, text) == AS_WRITTEN.any(ref, text), ref
        assert SHIPPED.matched_ids(ref, text) == AS_WRITTEN.matched_ids(ref, text), ref
        assert tuple(SHIPPED.finditer(ref, text, overlapping=True)) == tuple(AS_WRITTEN.finditer(ref, text, overlapping=True)), ref


def test_a_match_quotes_the_original_text_not_the_lowercased_one():
    match = SHIPPED.search("hospitality:meal", "Vi bjuder på MIDDAG kl. 19")
    assert match is not None and match.text == "MIDDAG"


def test_a_pattern_with_capitals_or_a_case_sensitive_part_is_not_folded(tmp_path: Path):
    path = tmp_path / "demo.toml"
    path.write_text(
        'description = "demo"\n'
        "[plain]\nword = '\\bmiddag\\w*\\b'\nspace = '\\Sspa\\b'\n"
        "[capital]\ncompany = '\\b[A-Z]\\w+ AB\\b'\n"
        "[sensitive]\nshout = '(?-i:MIDDAG)'\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon(path)
    assert lexicon.folded["plain"] is not None  # `\S` and `\b` are escapes, not capitals
    assert lexicon.folded["capital"] is None and lexicon.folded["sensitive"] is None
    lexicons = Lexicons({"demo": lexicon})
    assert lexicons.any("demo:capital", "Vi och Pfizer AB") and not lexicons.any("demo:sensitive", "middag")
    assert [m.text for m in lexicons.finditer("demo:plain", "MIDDAGEN och xSPA")] == ["MIDDAGEN", "xSPA"]
