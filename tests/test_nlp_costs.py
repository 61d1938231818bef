"""Which costs the company covers — and what the participant or employer pays, which must not count."""

from __future__ import annotations

import pytest

from triage.nlp.costs import covered, find_costs
from triage.nlp.patterns import load_patterns


def covered_in(text: str, jurisdiction: str = "SE") -> list[str]:
    items, _ = find_costs(text, jurisdiction)
    return covered(items)


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("Vi bjuder på lunch.", ["meal"]),
        ("Företaget står för resa och hotell.", ["travel", "lodging"]),
        ("Deltakeravgift dekkes av oss.", ["fee"]),
        ("Vi står för bussen tur och retur från sjukhuset.", ["transfer"]),
        ("Nordlys Pharma AB står för en enklare lunch och föreläsarens kostnader.", ["meal", "speaker"]),
        ("Kurset, lokalet, foredragsholderne og en enkel middag betales av Nordpust AS.", ["meal", "venue", "speaker"]),
        ("Costs for the venue, the speakers and lunch are covered by Retinex Nordic AS.", ["meal", "venue", "speaker"]),
        ("Vi bokar och betalar flyg Malmö–Åre tur och retur samt två nätter på hotellet.", ["travel", "lodging"]),
        ("Stipendiet täcker flyg, tre hotellnätter och kongressavgiften.", ["travel", "lodging", "fee"]),
        ("Kardivia AS betaler kursmateriell, lunsj og kaffe.", ["meal", "material"]),
        ("Arvode: 4 000 kr per timme.", ["speaker"]),
        ("Vi söker en sponsor för middagen.", ["meal"]),
        ("Lunch och kaffe ingår.", ["meal"]),
        ("Detta står Dermavia AB för: lokalhyra, föreläsare och kaffe.", ["meal", "venue", "speaker"]),
    ],
)
def test_company_pays(text: str, labels: list[str]) -> None:
    assert sorted(covered_in(text)) == sorted(labels)


@pytest.mark.parametrize(
    "text",
    [
        "Resor och eventuell övernattning bekostas av deltagarens arbetsgivare.",
        "Reise betales ikke.",
        "Lunch står ni för själva.",
        "Regionen står för lokal och arbetstid.",
        "Visitors pay their own travel.",
        "Inga andra kostnader, till exempel resor eller logi, betalas av företaget.",
        "Kursavgiften (1 500 kr) betales av arbeidsgiver.",
        "Vi bjuder inte på lunch den här gången.",
        "De besøkende dekker egne reiseutgifter.",
        "Resor, logi och deltagarnas arbetstid betalas inte av Enterovia.",
    ],
)
def test_participant_or_employer_pays_is_not_covered(text: str) -> None:
    assert covered_in(text) == []


def test_the_same_sentence_can_split_who_pays_what() -> None:
    text = "Kostnader: Regionen står för lokal och arbetstid, Glukosia AB betalar fika, lunch och en extern föreläsare."
    assert sorted(covered_in(text)) == ["meal", "speaker"]
    items, _ = find_costs(text, "SE")
    venue = [i for i in items if i.label == "venue"]
    assert venue and venue[0].payer == "other"


def test_who_pays_keeps_the_pattern_that_decided_it() -> None:
    items, _ = find_costs("Resor bekostas av deltagarens arbetsgivare. Vi bjuder på lunch.", "SE")
    by_label = {i.label: i for i in items}
    assert by_label["travel"].payer == "other"
    assert by_label["travel"].payer_pattern == "pay/agent/healthcare-or-participant"
    assert by_label["meal"].payer == "company"
    assert by_label["meal"].pattern_id == "cost/meal/food"


def test_a_programme_line_with_lunch_is_a_meal_but_not_a_paid_speaker() -> None:
    assert covered_in("12.00 Lunsj\n12.45 Foredrag ved overlege Hansen") == ["meal"]


def test_a_hotel_named_as_the_venue_is_not_lodging() -> None:
    assert "lodging" not in covered_in("Plats: Hotell Mälarstrand, Västerås (middag ingår)")


def test_speakers_own_travel_is_the_speaker_cost() -> None:
    assert sorted(covered_in("Quantix Labs AB pays Dr Price's travel and fee and the afternoon coffee.")) == ["meal", "speaker"]


def test_amounts_with_currency_and_per_person() -> None:
    _, amounts = find_costs("Lunch för 450 kr per person. Honorarium: NOK 2,200 per hour. Dagtraktamente EUR 60.", "SE")
    read = [(a.amount, a.currency, a.per_person, a.per_hour) for a in amounts]
    assert (450.0, "SEK", True, False) in read
    assert (2200.0, "NOK", False, True) in read
    assert (60.0, "EUR", False, False) in read


def test_kr_in_a_norwegian_mailbox_is_nok_and_numbers_without_currency_are_not_amounts() -> None:
    _, amounts = find_costs("Honorar: 9 000 kr. Vi er 12 deltakere i rom 4.", "NO")
    assert [(a.amount, a.currency) for a in amounts] == [(9000.0, "NOK")]


def test_an_amount_remembers_who_pays_it() -> None:
    _, amounts = find_costs("Kursavgiften 1 500 kr betales av arbeidsgiver.", "NO")
    assert amounts and amounts[0].payer == "other"


def test_words_that_only_contain_a_cost_word_are_not_costs() -> None:
    assert covered_in("Vi bjuder in till en eftermiddag om sömnapné. Lunchföreläsningen är gratis att besöka.") == []


def test_cost_patterns_have_ids_labels_and_kinds() -> None:
    patterns = load_patterns("costs")
    assert len({p["id"] for p in patterns}) == len(patterns)
    kinds = {p["kind"] for p in patterns}
    assert {"item", "payer", "agent", "negation"} <= kinds
    item_labels = {p["label"] for p in patterns if p["kind"] == "item"}
    assert item_labels == {"meal", "travel", "lodging", "fee", "venue", "speaker", "material", "transfer"}


def test_every_item_match_contains_one_of_its_stems() -> None:
    """The stems let a clause without cost words be skipped; they must never skip a real match."""
    import re as regex
    from pathlib import Path

    from triage.corpus.labels import DEFAULT_ROOT, load_split
    from triage.message.parse import parse_message

    root = Path(__file__).resolve().parents[1]
    raws = [p.read_bytes() for p in sorted((root / "samples").glob("*.eml"))]
    raws += [m.path(DEFAULT_ROOT).read_bytes() for m in load_split("train")[:120]]
    texts = []
    for raw in raws:
        try:
            texts.extend(s.text for s in parse_message(raw).sections)
        except Exception:  # noqa: BLE001 - a malformed sample is not this test's business
            continue
    checked = 0
    for item in (p for p in load_patterns("costs") if p["kind"] == "item"):
        full = regex.compile(rf"(?<![\w]){item['regex']}(?![\w])", regex.IGNORECASE)
        for text in texts:
            for match in full.finditer(text):
                checked += 1
                assert any(stem in match.group(0).lower() for stem in item["stems"]), (item["id"], match.group(0))
    assert checked > 100


def test_stem_prefilter_finds_the_clauses_the_stem_regex_finds() -> None:
    """The str.find prefilter of find_costs keeps exactly the clauses the case-insensitive stem regex keeps."""
    from triage.nlp.costs import _has_stem, _stem_hits, _stem_regex, clauses

    text = ("Vi bjuder på LUNCH och kaffe. Resan betalar ni själva; hotellet står vi för.\n"
            "Deltakeravgift dekkes – men ikke reise. Meeting room hire is covered, but not your travel.")
    hits = _stem_hits(text)
    assert hits is not None
    for start, end in clauses(text):
        assert _has_stem(hits, start, end) == (_stem_regex().search(text, start, end) is not None)
