"""Each extraction component on a spacy.blank pipeline: its patterns hit and miss, and matches keep their ids."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy
import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

import triage.nlp.components  # noqa: F401 - registers the factories
from triage.nlp.components.dates import ANCHOR
from triage.nlp.components.fields import FIELD_LABELS, SECTION, doc_candidates
from triage.nlp.patterns import PATTERN_DIR, load_patterns
from triage.nlp.pipeline import LANGUAGES, ModelMissingError, build_nlp, load_nlp


def blank_with(lang: str, *names: str) -> spacy.Language:
    nlp = spacy.blank(lang)
    for name in names:
        nlp.add_pipe(name)
    return nlp


def spans(doc: Doc, key: str) -> list[tuple[str, str, str]]:
    return [(s.text, s.label_, s.id_) for s in doc.spans[key]]


# --- cues and sentences ------------------------------------------------------------------

def test_cues_at_line_start_with_colon_or_tab_hit() -> None:
    doc = blank_with("sv", "triage_cues")("Tid: tisdag 3 mars\nPlats: Sal 3\nMålgrupp\tsjuksköterskor\nAgenda\n12.00 Lunch")
    found = {(text, label) for text, label, _ in spans(doc, "cues")}
    assert {("Tid", "date"), ("Plats", "location"), ("Målgrupp", "target_group"), ("Agenda", "content")} <= found
    assert all(pattern_id.startswith("cue/") for _, _, pattern_id in spans(doc, "cues"))


@pytest.mark.parametrize("text", ["Platsen är bokad sedan länge.", "Vi har tid nu.", "Program för dagen kommer senare."])
def test_cue_words_inside_sentences_miss(text: str) -> None:
    assert spans(blank_with("sv", "triage_cues")(text), "cues") == []


@pytest.mark.parametrize(("lang", "text", "label"), [("nb", "Sted: Hotell Bakklandet", "location"),
                                                     ("nb", "Formål: å styrke samarbeidet", "purpose"),
                                                     ("en", "Audience: nurses", "target_group"),
                                                     ("en", "Venue\tAulan", "location")])
def test_cues_in_norwegian_and_english(lang: str, text: str, label: str) -> None:
    doc = blank_with(lang, "triage_cues")(text)
    assert [s.label_ for s in doc.spans["cues"]] == [label]


def test_sentences_break_at_lines_and_full_stops_but_not_after_kl() -> None:
    doc = blank_with("sv", "triage_sentences")("Vi ses kl. 12.00 i sal 3. Välkomna!\nHälsningar Anna")
    assert [s.text.strip() for s in doc.sents] == ["Vi ses kl. 12.00 i sal 3.", "Välkomna!", "Hälsningar Anna"]


# --- dates, costs, contacts, online, organisations ----------------------------------------

def test_date_component_reads_against_the_anchor_and_keeps_the_value() -> None:
    nlp = blank_with("sv", "triage_dates")
    doc = nlp.make_doc("Tid: tisdag 3 mars kl. 12.00–13.00. Anmälan senast 24 februari.")
    doc.user_data[ANCHOR] = datetime(2026, 2, 9, 9, 0, tzinfo=timezone.utc)
    doc = nlp(doc)
    found = doc.spans["dates"]
    assert [s.text for s in found] == ["tisdag 3 mars kl. 12.00–13.00", "24 februari"]
    assert found[0]._.when.first == date(2026, 3, 3)
    assert found[0].id_ == "date/date"


def test_date_component_without_an_anchor_finds_no_yearless_dates() -> None:
    doc = blank_with("sv", "triage_dates")("tisdag 3 mars 2026 och 4 mars")
    assert [s.text for s in doc.spans["dates"]] == ["tisdag 3 mars 2026"]


def test_cost_component_labels_items_with_their_pattern_ids() -> None:
    doc = blank_with("sv", "triage_costs")("Vi bjuder på lunch. Resor betalas av deltagarens arbetsgivare.")
    assert spans(doc, "costs") == [("lunch", "meal", "cost/meal/food"), ("Resor", "travel", "cost/travel/trip")]
    items, _ = doc.user_data["triage.costs"]
    assert [i.payer for i in items] == ["company", "other"]


def test_cost_component_misses_text_without_costs() -> None:
    doc = blank_with("sv", "triage_costs")("Välkommen till en föreläsning om hjärtsvikt.")
    assert spans(doc, "costs") == []


def test_contacts_hit_addresses_and_phone_numbers() -> None:
    doc = blank_with("sv", "triage_contacts")("Anmälan till karin.ek@nordlys-pharma.se eller 070-555 12 34.")
    assert [(s.text, s.label_) for s in doc.spans["contacts"]] == [("karin.ek@nordlys-pharma.se", "email"),
                                                                  ("070-555 12 34", "phone")]


def test_contacts_miss_versions_dates_and_amounts() -> None:
    doc = blank_with("sv", "triage_contacts")("Version 4.2, tisdag 3/3, 4 500 kr, rum 12.30.")
    assert spans(doc, "contacts") == []


@pytest.mark.parametrize(("text", "label"), [("Webbinariet sänds via Microsoft Teams.", "online"),
                                             ("Møtet er digitalt.", "online"),
                                             ("Du kan delta på plats eller via Teams.", "hybrid"),
                                             ("Mötet är inte digitalt.", "not_online")])
def test_online_words_hit(text: str, label: str) -> None:
    doc = blank_with("sv", "triage_online")(text)
    assert label in [s.label_ for s in doc.spans["online"]]


def test_online_misses_teams_as_an_ordinary_word() -> None:
    doc = blank_with("sv", "triage_online")("Till alla diabetesteams och vårdteams i regionen.")
    assert spans(doc, "online") == []


def test_organisation_ruler_from_the_pattern_file() -> None:
    nlp = build_nlp("sv")
    doc = nlp.make_doc("Nevrin Pharma AB och Region Skåne bjuder in. Svensk förening för sårläkning står som värd.")
    doc = nlp.get_pipe("triage_orgs")(doc)
    assert ("Nevrin Pharma AB", "company", "org/company-suffix") in spans(doc, "orgs")
    assert ("Region Skåne", "healthcare", "org/region") in spans(doc, "orgs")
    assert any(label == "third_party" for _, label, _ in spans(doc, "orgs"))


def test_organisation_ruler_misses_lowercase_and_bare_suffixes() -> None:
    nlp = build_nlp("sv")
    doc = nlp.get_pipe("triage_orgs")(nlp.make_doc("vi har ett as att plocka med er ab-kurs."))
    assert spans(doc, "orgs") == []


def test_organisation_names_drop_greetings_and_verbs_in_front() -> None:
    doc = blank_with("nb", "triage_orgs")("Hilsen Reumafarm AS\nSkulle Somnera Medical ha tid i mai?")
    found = {(text, label) for text, label, _ in spans(doc, "orgs")}
    assert ("Reumafarm AS", "company") in found and ("Somnera Medical", "company") in found
    assert not any(text.startswith(("Hilsen", "Skulle")) for text, _, _ in spans(doc, "orgs"))


def test_organisation_names_stay_on_one_line() -> None:
    doc = blank_with("sv", "triage_orgs")("Vänliga hälsningar\nAnna Berg\nNordavia Pharma AB")
    assert [text for text, _, _ in spans(doc, "orgs")] == ["Nordavia Pharma AB"]


def test_every_org_pattern_compiles_and_has_a_known_label() -> None:
    from triage.nlp.components.orgs import org_patterns

    assert {label for _, label, _ in org_patterns()} <= {"company", "healthcare", "third_party"}


@pytest.mark.parametrize(("word", "label"), [("sjuksköterskor", "audience"), ("sykepleiere", "audience"),
                                             ("kardiologer", "audience"), ("konferensrummet", "place"),
                                             ("storgatan", "place"), ("kunskap", "purpose"),
                                             ("riktlinjer", "content")])
def test_lexicon_word_classes_hit(word: str, label: str) -> None:
    from triage.nlp.components.fields import word_classes

    assert label in word_classes(word)


@pytest.mark.parametrize("word", ["och", "tisdag", "kl"])
def test_lexicon_word_classes_miss(word: str) -> None:
    from triage.nlp.components.fields import word_classes

    assert word_classes(word) == ()


def test_message_flags_name_what_the_mail_does_and_what_it_does_not() -> None:
    from triage.nlp.components.fields import message_flags

    invite = message_flags(["Vi bjuder in till lunchföreläsning. Anmälan senast 3 mars."])
    assert "invite1p" in invite and "invitation" in invite and "not_newsletter" in invite
    notice = message_flags(["Leveringstiden for urinkatetre blir forlenget til tre uker."])
    assert "not_invitation" in notice and "not_invite1p" in notice


def test_a_norwegian_ordinal_token_does_not_cut_an_address_candidate() -> None:
    nlp = spacy.blank("nb")
    doc = nlp("Fagkveld torsdag på Oslo Kongressenter, Youngs gate 21.\n\nProgram: artritt")
    doc.user_data[SECTION] = "body"
    texts = {doc[s:e].text.rstrip(".") for s, e in doc_candidates(doc)}
    assert "Oslo Kongressenter, Youngs gate 21" in texts


def test_audience_candidates_with_and_without_their_count() -> None:
    nlp = spacy.blank("sv")
    doc = nlp("Orvik Pharma AB bjuder fyra neurologer och MS-sjuksköterskor till ECTRIMS-kongressen i höst.")
    doc.user_data[SECTION] = "body"
    texts = {doc[s:e].text for s, e in doc_candidates(doc)}
    assert {"fyra neurologer och MS-sjuksköterskor", "neurologer och MS-sjuksköterskor"} <= texts


# --- candidates and the trained scorer ---------------------------------------------------

def rule_doc(text: str, source: str = "body", lang: str = "sv") -> Doc:
    nlp = build_nlp(lang)
    doc = nlp.make_doc(text)
    doc.user_data[SECTION] = source
    doc.user_data[ANCHOR] = datetime(2026, 2, 9, tzinfo=timezone.utc)
    return nlp(doc, disable=["triage_fields", "arranger"])


def candidate_texts(doc: Doc) -> dict[str, set[str]]:
    return {doc[s:e].text: kinds for (s, e), kinds in doc_candidates(doc).items()}


def test_candidates_include_cue_values_clauses_and_subject_parts() -> None:
    body = candidate_texts(rule_doc(
        "Nordlys Pharma AB bjuder in läkare och sjuksköterskor till en lunchföreläsning.\n"
        "Plats: Konferensrum 3, Skånes universitetssjukhus (ingång 12)\nSyftet är att ge en uppdatering om riktlinjerna."))
    assert "cue:location" in body["Konferensrum 3, Skånes universitetssjukhus (ingång 12)"]
    assert "cue:location:cut" in body["Konferensrum 3, Skånes universitetssjukhus"]
    assert any(k.startswith("np:audience") for k in body["läkare och sjuksköterskor"])
    assert any(k.startswith("clause:purpose") for k in body["att ge en uppdatering om riktlinjerna"])
    assert "org:company" in body["Nordlys Pharma AB"]
    subject = candidate_texts(rule_doc("VS: Inbjudan: Lunchföreläsning om hjärtsvikt 3 mars", source="subject"))
    assert "Lunchföreläsning om hjärtsvikt 3 mars" in subject
    assert "VS: Inbjudan: Lunchföreläsning om hjärtsvikt 3 mars" not in subject


def test_date_mentions_are_candidates_for_start_and_deadline() -> None:
    texts = candidate_texts(rule_doc("Tid: tisdag 3 mars kl. 12.00–13.00\nAnmälan senast 24 februari."))
    assert "date:date" in texts["tisdag 3 mars kl. 12.00–13.00"]
    assert "date:date" in texts["24 februari"]


def test_field_scorer_learns_to_prefer_the_gold_candidate() -> None:
    nlp = build_nlp("sv")
    scorer = nlp.get_pipe("triage_fields")
    doc = rule_doc("Plats: Konferensrum 3, Lund\nMålgrupp: sjuksköterskor på avdelning 4")
    reference = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
    start = next(s for (s, e) in doc_candidates(doc) if doc[s:e].text == "Konferensrum 3, Lund")
    end = start + len(nlp.make_doc("Konferensrum 3, Lund"))
    reference.spans["fields"] = [Span(reference, start, end, label="location")]
    example = Example(doc, reference)
    scorer.initialize(lambda: [example], nlp=nlp)

    def location_score() -> float:
        indices, probs = scorer.predict([doc])
        rows = [tuple(row) for row in scorer.model.ops.to_numpy(indices.dataXd)]
        return float(probs[rows.index((start, end)), list(FIELD_LABELS).index("location")])

    before = location_score()
    from thinc.api import Adam

    optimizer = Adam(0.05)
    for _ in range(10):
        scorer.update([example], sgd=optimizer)
    after = location_score()
    assert after > before
    assert after > 0.5
    scorer.set_annotations([doc], scorer.predict([doc]))
    best = max(zip(doc.spans["fields"], doc.spans["fields"].attrs["scores"]), key=lambda p: p[1] if p[0].label_ == "location" else -1)
    assert best[0].text == "Konferensrum 3, Lund"


def test_every_language_pipeline_has_the_same_components() -> None:
    names = {tuple(build_nlp(lang).pipe_names) for lang in LANGUAGES}
    assert len(names) == 1
    assert {"triage_cues", "triage_dates", "triage_costs", "triage_fields", "arranger"} <= set(next(iter(names)))


def test_loading_without_trained_components_says_what_to_do(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ModelMissingError, match="triage train"):
        load_nlp("sv", tmp_path)


@pytest.mark.parametrize("name", sorted(p.stem for p in PATTERN_DIR.glob("*.jsonl")))
def test_pattern_files_have_unique_ids(name: str) -> None:
    patterns = load_patterns(name)
    assert patterns
    assert len({p["id"] for p in patterns}) == len(patterns)
    assert all(p["label"] for p in patterns)


def test_scores_are_probabilities_per_label_within_a_section() -> None:
    nlp = build_nlp("en")
    scorer = nlp.get_pipe("triage_fields")
    scorer.initialize(lambda: [], nlp=nlp)
    doc = rule_doc("Venue: Aulan, Danderyd Hospital\nAudience: nurses", lang="en")
    _, probs = scorer.predict([doc])
    assert numpy.all(probs >= 0) and numpy.all(probs.sum(axis=0) <= 1.0 + 1e-6)


# --- content candidates (agenda and topic text) ------------------------------------------

def test_content_candidates_after_a_colon_a_dash_a_theme_and_a_visit_verb() -> None:
    texts = candidate_texts(rule_doc(
        "We will cover: Levey-Jennings review in the H5 software and the new control material lot.\n"
        "Kardiora AS arrangerer en fagkveld om lungeemboli – risikostratifisering og poliklinisk behandling.\n"
        "Kurset passer for dere – tema er nye antiepileptika, epilepsikirurgi og epilepsi hos eldre.\n"
        "Vi kan komma ut till respektive vårdcentral och gå igenom kontrollen.", lang="sv"))
    assert "after:colon" in texts["Levey-Jennings review in the H5 software and the new control material lot"]
    assert "after:dash" in texts["risikostratifisering og poliklinisk behandling"]
    assert "clause:theme" in texts["nye antiepileptika, epilepsikirurgi og epilepsi hos eldre"]
    assert "clause:verb" in texts["gå igenom kontrollen"]


def test_content_candidates_from_bullets_and_table_cells() -> None:
    texts = candidate_texts(rule_doc(
        "Det skulle innebära:\n\n• Studiebesök från andra regioner, ca två gånger per termin, med en kort rundvandring\n"
        "Sjekkliste for helsepersonell     TB-screening med IGRA før oppstart\n"))
    assert "item:bullet" in texts["Studiebesök från andra regioner, ca två gånger per termin, med en kort rundvandring"]
    assert "item" in texts["TB-screening med IGRA før oppstart"]


def test_no_content_candidate_after_a_colon_with_too_little_after_it() -> None:
    texts = candidate_texts(rule_doc("Observera: ring oss."))
    assert not any(k.startswith("after:") for kinds in texts.values() for k in kinds)


# --- the scorer's features: hashed once per word and kind, the same as the string features --

def test_span_keys_are_the_hashes_of_the_string_features_in_order() -> None:
    from triage.nlp.components.fields import MESSAGE_FLAGS, SENDER_DOMAIN, _DocContext, _hash, span_features, span_keys

    doc = rule_doc("Kardiora AS bjuder in läkare och sjuksköterskor på Kardiologen, Sahlgrenska, tisdag 3 mars kl. 12.00.\n"
                   "Plats: Aula Medica\nProgram: nya riktlinjer för hjärtsvikt, fall och frågor")
    doc.user_data[MESSAGE_FLAGS] = ["invite1p", "not_newsletter"]
    doc.user_data[SENDER_DOMAIN] = "kardiora.se"
    ctx = _DocContext(doc)
    candidates = doc_candidates(doc)
    assert len(candidates) > 10
    for (start, end), kinds in candidates.items():
        assert span_keys(ctx, start, end, frozenset(kinds)) == [_hash(f) for f in span_features(ctx, start, end, kinds)]


def test_a_whole_timed_programme_line_is_a_content_candidate() -> None:
    line = "12.00 light lunch; 12.30 liquid vs tissue biopsy; 13.30 NGS panels in routine diagnostics; 14.30 coffee."
    texts = candidate_texts(rule_doc(f"Programme\n{line}\n", lang="en"))
    assert "line:items" in texts[line]
    assert "item:timed" in texts["liquid vs tissue biopsy"]


@pytest.mark.parametrize("text", ["LEVERANSAVISERING\nLeveransdag: tisdag 18 augusti 2026",
                                  "Jeg er på ferie til og med mandag 10. august og leser ikke e-post.",
                                  "Vi har ledig 100 % fast stilling for intensivsykepleier fra 1. september 2026.",
                                  "Expected delivery: Thursday 5 March 2026 (DHL Freight)"])
def test_notice_flag_hits_deliveries_leave_and_job_ads(text: str) -> None:
    from triage.nlp.components.fields import message_flags

    assert "notice" in message_flags([text])


def test_notice_flag_misses_an_ordinary_invitation() -> None:
    from triage.nlp.components.fields import message_flags

    assert "not_notice" in message_flags(["Vi bjuder in till lunchföreläsning tisdag 3 mars kl. 12.00 på avdelning 4."])
