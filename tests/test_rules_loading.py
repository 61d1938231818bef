"""A rulebook that cannot be trusted is refused at start-up, with a message that names the rule and the problem."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from triage.rules.lexicons import load_lexicon, load_lexicons
from triage.rules.loading import RULEBOOK_DIR, load_rulebook, load_rulebooks, parse_rulebook
from triage.rules.model import RulebookError

LEXICONS = load_lexicons()

VALID = {
    "id": "se-test",
    "version": "1",
    "source": "a test",
    "jurisdiction": "SE",
    "rule": [{
        "id": "se-test/3.1/travel",
        "citation": "kap. 3.1",
        "description": {"en": "No paid travel."},
        "kind": "violation",
        "code": "travel_paid_by_industry",
        "severity": "high",
        "chapters": ["3.2"],
        "check": "paid_travel",
        "messages": {"sv": "Resor.", "nb": "Reiser.", "en": "Travel."},
        "example": [
            {"expect": "hit", "text": "Vi betalar flyg tur och retur.", "evidence": "Vi betalar flyg"},
            {"expect": "miss", "text": "Resor betalas av arbetsgivaren."},
        ],
    }],
}


def broken(**changes) -> dict:
    data = copy.deepcopy(VALID)
    rule = data["rule"][0]
    for key, value in changes.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return data


def test_the_valid_rulebook_loads():
    book = parse_rulebook(copy.deepcopy(VALID), LEXICONS)
    assert book.label == "se-test@1"
    assert book.rule("se-test/3.1/travel").code == "travel_paid_by_industry"


@pytest.mark.parametrize(("changes", "message"), [
    ({"code": "travel_paid"}, "unknown code 'travel_paid'"),
    ({"code": "purpose"}, "unknown code 'purpose' for kind 'violation'"),
    ({"citation": None}, "missing citation"),
    ({"citation": "  "}, "missing citation"),
    ({"check": "no_such_check"}, "unknown check 'no_such_check'"),
    ({"description": None}, "missing description"),
    ({"severity": "critical"}, "severity must be one of"),
    ({"kind": "warning"}, "kind must be one of"),
    ({"chapters": ["11"]}, "unknown chapter '11'"),
    ({"chapters": ["not_invitation"]}, "unknown chapter 'not_invitation'"),
    ({"messages": {"sv": "x", "en": "y"}}, "missing message in 'nb'"),
    ({"example": [{"expect": "hit", "text": "Vi betalar flyg.", "evidence": "Vi betalar flyg"}]}, "missing example"),
    ({"example": [{"expect": "miss", "text": "Inget."}]}, "missing example"),
    ({"example": None}, "missing example"),
    ({"example": [{"expect": "hit", "text": "Vi betalar flyg."}, {"expect": "miss", "text": "x"}]},
     "must give the evidence"),
    ({"example": [{"expect": "hit", "text": "Vi betalar flyg.", "evidence": "tåg"}, {"expect": "miss", "text": "x"}]},
     "is not in the example's text"),
    ({"params": {"group": "travel:no_such_group"}}, "unknown lexicon group"),
    ({"exception": [{"id": "x", "description": "d", "lexicon": "travel:nope",
                     "example": [{"expect": "hit", "text": "a", "evidence": "a"}, {"expect": "miss", "text": "b"}]}]},
     "unknown lexicon group 'travel:nope'"),
    ({"exception": [{"id": "x", "description": "d", "lexicon": "travel:shared_transfer",
                     "example": [{"expect": "miss", "text": "b"}]}]}, "missing example"),
    ({"colour": "red"}, "unknown key(s) colour"),
])
def test_a_bad_rule_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(RulebookError) as error:
        parse_rulebook(broken(**changes), LEXICONS)
    assert message in str(error.value)
    assert "se-test/3.1/travel" in str(error.value)


def test_duplicate_rule_ids_are_refused():
    data = copy.deepcopy(VALID)
    data["rule"].append(copy.deepcopy(data["rule"][0]))
    with pytest.raises(RulebookError, match="used twice"):
        parse_rulebook(data, LEXICONS)


def test_a_rule_id_must_belong_to_its_rulebook():
    with pytest.raises(RulebookError, match="starting with 'se-test/'"):
        parse_rulebook(broken(id="no-2023/5/x"), LEXICONS)


def test_file_name_and_id_must_agree(tmp_path: Path):
    text = (RULEBOOK_DIR / "no-2023.toml").read_text(encoding="utf-8")
    path = tmp_path / "no-2024.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError, match="does not match the file name"):
        load_rulebook(path, LEXICONS)


def test_broken_toml_names_the_file(tmp_path: Path):
    path = tmp_path / "se-2026.toml"
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(RulebookError, match="se-2026.toml: not valid TOML"):
        load_rulebook(path, LEXICONS)


def test_a_pattern_that_does_not_compile_names_its_id(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("description = 'x'\n[group]\nbroken = '(unclosed'\n", encoding="utf-8")
    with pytest.raises(RulebookError, match=r"group\.broken does not compile"):
        load_lexicon(path)


def test_the_shipped_rulebooks_load_and_are_versioned():
    books = load_rulebooks(lexicons=LEXICONS)
    assert set(books) == {"se-2026", "no-2023"}
    for book in books.values():
        data = tomllib.loads((RULEBOOK_DIR / f"{book.id}.toml").read_text(encoding="utf-8"))
        assert book.label == f"{book.id}@{data['version']}"
    assert books["no-2023"].jurisdiction == "NO" and books["se-2026"].jurisdiction == "SE"


def test_an_empty_rulebook_folder_is_an_error(tmp_path: Path):
    with pytest.raises(RulebookError, match="no rulebooks"):
        load_rulebooks(tmp_path, LEXICONS)
