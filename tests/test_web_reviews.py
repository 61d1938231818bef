"""Corrections become training data (`triage data export-reviews`) and an agreement report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.web import MANAGER, WebEnv, evidence_in, judged, make_mail, web  # noqa: F401
from triage.corpus.agreement import agreement_from_database, agreement_report
from triage.corpus.labels import DEFAULT_ROOT, read_labels
from triage.corpus.reviews import CorrectionError, apply_correction, export_reviews
from triage.corpus.split import merge_batches
from triage.corpus.validate import check_corpus
from triage.db import store
from triage.db.schema import Review
from triage.results import EventDetails, Finding


def _review(web: WebEnv, message_id: int, **form: object) -> None:
    token = web.csrf(f"/messages/{message_id}")
    response = web.client.post(f"/messages/{message_id}/review", data={"csrf_token": token, **form},
                               follow_redirects=False)
    assert response.status_code == 303


@pytest.fixture
def reviewed(web: WebEnv) -> WebEnv:
    """Four reviewed messages: a chapter correction, an added violation with its quote, an added
    violation without a quote, and a confirmation."""
    a = make_mail("Produktlunch", "Vi visar vår nya inhalator Respira på lunchen i konferensrum 3.", message_id="<a@x>")
    event = EventDetails(location="konferensrum 3", title="en titel som inte står i mejlet")
    event.add_evidence("location", evidence_in(a, "konferensrum 3"))
    b = make_mail("Kvällsmöte", "Föreläsning om KOL följt av middag och golfrunda på Bjäre.", message_id="<b@x>")
    c = make_mail("Kurs", "Kurs i astma med spa-behandling.", message_id="<c@x>")
    d = make_mail("Nyhetsbrev", "Månadens nyheter från företaget.", message_id="<d@x>")
    purpose = Finding("se-2026/3.2/purpose", "missing", "purpose", "medium", "Syfte saknas", None, "3.2")
    ids = [
        web.seed(a, judged(a, chapter="3.2", findings=(purpose,), event=event)),
        web.seed(b, judged(b, chapter="3.2")),
        web.seed(c, judged(c, chapter="3.2")),
        web.seed(d, judged(d, chapter="not_invitation")),
    ]
    web.login(MANAGER)
    _review(web, ids[0], chapter="2", missing=["purpose", "content"], comment="Produktinformation.")
    _review(web, ids[1], chapter="3.2", violations=["entertainment"], quote="golfrunda på Bjäre")
    _review(web, ids[2], chapter="3.2", violations=["entertainment"])
    _review(web, ids[3], chapter="not_invitation")
    return web


def _corpus_root(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "labels" / "batches").mkdir(parents=True)
    (root / "mails").mkdir()
    for split in ("train", "dev", "test"):
        (root / "labels" / f"{split}.jsonl").write_text("", encoding="utf-8")
    return root


def test_export_writes_valid_corpus_labels_for_reviewed_mails(reviewed: WebEnv, tmp_path: Path) -> None:
    root = _corpus_root(tmp_path)
    with reviewed.sessions() as session:
        report = export_reviews(session, root=root)
        session.commit()
    assert len(report.written) == 3
    assert [why for _, why in report.skipped] == ["violation entertainment has no quote from the mail (add one in the review)"]
    labels = {mail.chapter: mail for mail in read_labels(root / "labels" / "batches" / "reviews.jsonl")}
    product = labels["2"]
    assert product.missing == ("purpose", "content") and product.verdict == "needs_info"
    assert product.event["location"] == "konferensrum 3"
    assert product.event["title"] is None  # a value that does not stand in the mail is never a label
    assert product.evidence == {"location": ["konferensrum 3"]}
    assert product.extra["event_reviewed"] is False and product.tags == ("review",)
    assert labels["3.2"].violation_evidence == {"entertainment": ["golfrunda på Bjäre"]}
    assert labels["not_invitation"].verdict == "not_applicable"
    # the corpus checker accepts every exported line: codes, conventions, quotes in the mail
    check = check_corpus(list(labels.values()), root, counts=False)
    assert check.ok, check.problems
    with reviewed.sessions() as session:
        exported = [r.exported_at is not None for r in session.scalars(select(Review).order_by(Review.id))]
    assert exported == [True, True, False, True]


def test_export_is_idempotent_and_split_folds_it_into_train_and_dev(reviewed: WebEnv, tmp_path: Path) -> None:
    root = _corpus_root(tmp_path)
    for _ in range(2):
        with reviewed.sessions() as session:
            export_reviews(session, root=root)
            session.commit()
    batch = root / "labels" / "batches" / "reviews.jsonl"
    ids = [json.loads(line)["id"] for line in batch.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == 3
    moved = merge_batches(root, test_batches=set())
    assert moved["test"] == 0 and moved["train"] + moved["dev"] == 3
    assert not batch.exists()


def test_export_skips_mails_already_in_the_corpus(web: WebEnv, tmp_path: Path) -> None:
    root = _corpus_root(tmp_path)
    corpus_mail = sorted((DEFAULT_ROOT / "mails").glob("*.eml"))[0]
    shutil.copy(corpus_mail, root / "mails" / corpus_mail.name)
    raw = corpus_mail.read_bytes()
    message_id = web.seed(raw, judged(raw, chapter="3.2"))
    web.login(MANAGER)
    _review(web, message_id, chapter="3.3")
    with web.sessions() as session:
        report = export_reviews(session, root=root)
    assert report.written == [] and report.skipped == [(message_id, "the mail is in the corpus already")]


def test_corrections_refuse_unknown_codes_and_clear_codes_of_a_non_invitation() -> None:
    state = {"chapter": "3.2", "missing": ["purpose"], "violations": ["gift"], "verdict": "non_compliant",
             "violation_evidence": {"gift": ["en flaska vin"]}}
    with pytest.raises(CorrectionError):
        apply_correction(state, chapter="3.2", missing=["lunch"], violations=[])
    after = apply_correction(state, chapter="not_invitation", missing=["purpose"], violations=["gift"])
    assert after == {"chapter": "not_invitation", "missing": [], "violations": [], "verdict": "not_applicable",
                     "violation_evidence": {}}
    kept = apply_correction(state, chapter="3.2", missing=[], violations=["gift"], verdict="needs_info")
    assert kept["violation_evidence"] == {"gift": ["en flaska vin"]} and kept["verdict"] == "needs_info"


def test_agreement_report_by_field_and_code(reviewed: WebEnv) -> None:
    with reviewed.sessions() as session:
        report = agreement_from_database(session)
    assert report.messages == 4
    fields = {name: (f.agreed, f.compared) for name, f in report.fields.items()}
    # chapter: 3 of 4 stood (3.2→2 changed); verdict: needs_info→needs_info stood, compliant→non_compliant twice
    assert fields == {"chapter": (3, 4), "verdict": (2, 4), "missing": (3, 4), "violations": (2, 4), "all": (1, 4)}
    purpose = report.codes[("missing", "purpose")]
    assert (purpose.kept, purpose.removed, purpose.added) == (1, 0, 0)
    entertainment = report.codes[("violation", "entertainment")]
    assert (entertainment.kept, entertainment.removed, entertainment.added) == (0, 0, 2)
    assert entertainment.recall == 0.0 and entertainment.precision is None
    assert report.chapter_changes == {("3.2", "2"): 1}
    assert report.to_json()["fields"]["chapter"]["share"] == 0.75
    assert any(line.strip().startswith("chapter") for line in report.lines())


def test_agreement_uses_the_first_before_and_the_last_after(web: WebEnv) -> None:
    raw = make_mail("Mail", "Text", message_id="<e@x>")
    message_id = web.seed(raw, judged(raw, chapter="3.2"))
    web.login(MANAGER)
    _review(web, message_id, chapter="2")
    _review(web, message_id, chapter="3.2")  # a second reviewer puts it back: triage was right
    with web.sessions() as session:
        report = agreement_from_database(session)
    assert report.fields["chapter"].agreed == 1 and report.messages == 1
    page = web.client.get("/reports/agreement").text
    assert "1 / 1" in page


def test_agreement_report_of_nothing_is_empty() -> None:
    report = agreement_report([])
    assert report.messages == 0 and report.fields["chapter"].share is None


def test_review_records_survive_as_text_after_the_user_is_gone(web: WebEnv) -> None:
    raw = make_mail("Mail", "Text", message_id="<f@x>")
    message_id = web.seed(raw, judged(raw))
    web.login(MANAGER)
    _review(web, message_id, chapter="2")
    with web.sessions() as session:
        session.delete(store.get_user(session, "maria"))
        session.commit()
        assert session.scalars(select(Review.reviewer)).one() == "maria"
