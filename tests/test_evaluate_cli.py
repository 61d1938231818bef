"""`triage evaluate` on a tiny labelled folder: known predictions give the figures worked out by hand."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from typer.testing import CliRunner

import triage.cli.evaluate_cmd as evaluate_cmd
from triage.classify.routing import JurisdictionRouter
from triage.cli.app import app
from triage.evaluation.run import EvaluationInputError, LabelledSet, judge_all, labelled_folder
from triage.evaluation.metrics import evaluate_pairs
from triage.pipeline.pipeline import Pipeline
from triage.results import Classification, EventDetails

#: subject → (gold chapter, what the stub classifier answers, its confidence)
MAILS = {
    "a": ("Lunchföreläsning om KOL", "3.2", "3.2", 0.9),
    "b": ("Stipendium för sjuksköterskor", "5", "5", 0.8),
    "c": ("Nyhetsbrev mars", "not_invitation", "3.2", 0.55),
    "d": ("Enkät om inhalatorer", "10", "10", 0.95),
}


def write_folder(tmp_path):
    mails = tmp_path / "mails"
    mails.mkdir()
    rows = []
    for key, (subject, gold, _, _) in MAILS.items():
        msg = EmailMessage()
        msg["From"] = "anna@nordavia-pharma.se"
        msg["To"] = "samverkan.lung@regionskane.se"
        msg["Subject"] = subject
        msg["Date"] = "Tue, 03 Feb 2026 09:00:00 +0100"
        msg["Message-ID"] = f"<{key}@test>"
        msg.set_content(f"{subject}. Hej, se nedan.")
        (mails / f"{key}.eml").write_bytes(msg.as_bytes())
        event = {"title": subject if gold != "not_invitation" else None}
        rows.append({"id": key, "file": f"mails/{key}.eml", "language": "sv", "jurisdiction": "SE", "chapter": gold,
                     "missing": [], "violations": [], "verdict": "not_applicable" if gold == "not_invitation" else "compliant",
                     "event": event})
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return labels, mails


class SubjectClassifier:
    """Answers from the table above, so the expected figures are known."""

    def classify(self, message, event: EventDetails) -> Classification:
        for subject, _, answer, confidence in MAILS.values():
            if message.subject == subject:
                return Classification(chapter=answer, confidence=confidence, needs_review=confidence < 0.6)
        raise AssertionError(message.subject)


def stub_pipeline() -> Pipeline:
    return Pipeline(router=JurisdictionRouter(None), classifier=SubjectClassifier())


def test_judging_a_labelled_folder_gives_the_expected_figures(tmp_path):
    labels, mails = write_folder(tmp_path)
    labelled = labelled_folder(labels, mails)
    pairs, results = judge_all(stub_pipeline(), labelled)
    assert [r.error for r in results] == [None] * 4
    report = evaluate_pairs(pairs)
    assert report["chapter"]["accuracy"] == 0.75
    assert report["invitation"]["accuracy"] == 0.75
    assert report["review"]["needs_review_rate"] == 0.25
    assert report["review"]["confident_accuracy"] == 1.0
    # bins: 0.5–0.6 {0.55 wrong}, 0.8–0.9 {0.8 right}, 0.9–1.0 {0.9, 0.95 right}
    assert report["calibration"]["ece"] == pytest.approx((0.55 + 0.2 + 2 * 0.075) / 4)
    assert report["verdict"]["accuracy"] == 0.75  # the null checker: invitations compliant, the newsletter wrong
    assert report["event"]["per_field"]["title"]["exact"]["recall"] == 0.0  # the stub extracts nothing


def test_the_cli_prints_the_figures_as_json(tmp_path, monkeypatch):
    labels, mails = write_folder(tmp_path)
    monkeypatch.setattr(evaluate_cmd, "build_pipeline", lambda settings: stub_pipeline())
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(labels), "--mails", str(mails), "--json",
                                      "--by", "language"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["set"] == "labels" and report["n"] == 4
    assert report["chapter"]["accuracy"] == 0.75
    assert report["chapter"]["confusion"]["not_invitation"] == {"3.2": 1}
    assert report["by"]["language"]["sv"]["n"] == 4


def test_the_cli_prints_tables_for_people(tmp_path, monkeypatch):
    labels, mails = write_folder(tmp_path)
    monkeypatch.setattr(evaluate_cmd, "build_pipeline", lambda settings: stub_pipeline())
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(labels), "--mails", str(mails)])
    assert result.exit_code == 0, result.output
    assert "chapter accuracy" in result.stdout and "75.0" in result.stdout
    assert "Confusion" in result.stdout


def test_missing_mails_or_half_the_options_are_refused_clearly(tmp_path):
    labels, mails = write_folder(tmp_path)
    (mails / "b.eml").unlink()
    with pytest.raises(EvaluationInputError, match="b.eml"):
        labelled_folder(labels, mails)
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(labels)])
    assert result.exit_code == 2 and "--labels and --mails go together" in result.output
    result = CliRunner().invoke(app, ["evaluate", "--split", "train"])
    assert result.exit_code == 2


def test_a_corpus_label_path_resolves_inside_the_mail_folder(tmp_path):
    labels, mails = write_folder(tmp_path)
    labelled = labelled_folder(labels, mails)
    assert isinstance(labelled, LabelledSet)
    assert labelled.path_of(labelled.mails[0]) == mails / "a.eml"
