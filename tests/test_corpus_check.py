"""`triage data check`: the shipped corpus is valid, and each kind of corruption is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from triage.cli.app import app
from triage.corpus.labels import DEFAULT_ROOT, load_corpus, load_split
from triage.corpus.split import merge_batches, pool_split
from triage.corpus.validate import check_corpus


def test_the_shipped_corpus_passes_every_check():
    mails = load_corpus()
    report = check_corpus(mails, DEFAULT_ROOT)
    assert report.ok, "\n".join(report.problems[:20])
    assert len(mails) >= 700


def test_test_split_shares_no_mail_with_training():
    train_dev = {m.id for m in load_split("train") + load_split("dev")}
    assert not train_dev & {m.id for m in load_split("test")}


def small_corpus(tmp_path: Path, n: int = 3) -> tuple[Path, list[dict]]:
    """A copy of a few real corpus mails and their labels, to break on purpose."""
    rows = [json.loads(line) for line in (DEFAULT_ROOT / "labels" / "train.jsonl").read_text().splitlines()[:n]]
    (tmp_path / "mails").mkdir()
    (tmp_path / "labels").mkdir()
    for row in rows:
        shutil.copy(DEFAULT_ROOT / row["file"], tmp_path / row["file"])
    return tmp_path, rows


def write_split(root: Path, rows: list[dict], split: str = "train") -> None:
    (root / "labels" / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    for other in ("train", "dev", "test"):
        path = root / "labels" / f"{other}.jsonl"
        if not path.exists():
            path.write_text("")


def problems(root: Path) -> list[str]:
    return check_corpus(load_corpus(root), root, counts=False).problems


def test_a_clean_copy_has_no_problems(tmp_path):
    root, rows = small_corpus(tmp_path)
    write_split(root, rows)
    assert problems(root) == []


def test_unknown_code_is_caught(tmp_path):
    root, rows = small_corpus(tmp_path)
    rows[0]["violations"] = ["free_champagne"]
    rows[0]["violation_evidence"] = {"free_champagne": ["x"]}
    rows[0]["verdict"] = "non_compliant"
    write_split(root, rows)
    assert any("unknown violation code 'free_champagne'" in p for p in problems(root))


def test_a_span_that_is_not_in_the_mail_is_caught(tmp_path):
    root, rows = small_corpus(tmp_path)
    rows[1]["evidence"]["location"] = ["Grand Hotel Saltsjöbaden, Salongen"]
    write_split(root, rows)
    assert any("is not in the mail's readable text" in p and rows[1]["id"] in p for p in problems(root))


def test_a_duplicate_mail_is_caught(tmp_path):
    root, rows = small_corpus(tmp_path)
    twin = dict(rows[0], id="x-999", file="mails/x-999.eml")
    shutil.copy(root / rows[0]["file"], root / twin["file"])
    write_split(root, rows + [twin])
    assert any("duplicate of" in p for p in problems(root))


def test_inconsistent_verdict_is_caught(tmp_path):
    root, rows = small_corpus(tmp_path)
    rows[0]["verdict"] = "compliant" if rows[0]["verdict"] != "compliant" else "non_compliant"
    write_split(root, rows)
    assert any("by convention 7" in p for p in problems(root))


def test_a_chapter_below_its_minimum_fails_the_command(tmp_path):
    root, rows = small_corpus(tmp_path)
    write_split(root, rows)
    result = CliRunner().invoke(app, ["data", "check", "--root", str(root)])
    assert result.exit_code == 1
    assert "fewer than 30" in " ".join(result.output.split())


def test_split_is_stable_and_sends_test_batches_to_test(tmp_path):
    root, rows = small_corpus(tmp_path)
    write_split(root, [])
    (root / "labels" / "batches").mkdir()
    (root / "labels" / "batches" / "pool.jsonl").write_text(json.dumps(rows[0], ensure_ascii=False) + "\n")
    (root / "labels" / "batches" / "t.jsonl").write_text(json.dumps(rows[1], ensure_ascii=False) + "\n")
    moved = merge_batches(root, {"t"})
    assert moved["test"] == 1 and moved[pool_split(rows[0]["id"])] == 1
    assert [m.id for m in load_split("test", root)] == [rows[1]["id"]]
    assert not list((root / "labels" / "batches").glob("*.jsonl"))
