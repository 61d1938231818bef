"""`triage evaluate`: run the whole pipeline on labelled mail and print how well it did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.corpus.labels import DEFAULT_ROOT, LabelError, load_split
from triage.evaluation.metrics import BREAKDOWNS, evaluate_pairs, rounded
from triage.evaluation.run import EvaluationInputError, LabelledSet, judge_all, labelled_folder
from triage.pipeline.factory import build_pipeline


def evaluate(
    split: str = typer.Option("dev", "--split", help="Corpus split to run on: dev or test (test only for final figures)."),
    labels: Path | None = typer.Option(None, "--labels", help="A labels file in the corpus schema (instead of a split)."),
    mails: Path | None = typer.Option(None, "--mails", help="The folder of .eml files the --labels file names."),
    by: list[str] = typer.Option([], "--by", help="Also break the headline figures down by language or jurisdiction."),
    as_json: bool = typer.Option(False, "--json", help="Print every figure as one JSON object."),
    root: Path = typer.Option(DEFAULT_ROOT, "--root", help="The corpus folder, for --split."),
    config: Path | None = ConfigOption,
) -> None:
    """Judge labelled mail with the whole pipeline and report chapter, calibration, findings and event figures.

    Examples:  triage evaluate --split dev
               triage evaluate --split test --json
               triage evaluate --labels site/labels.jsonl --mails site/mails --by language
    """
    for key in by:
        if key not in BREAKDOWNS:
            err_console.print(f"[bold red]--by {key}:[/] use one of {', '.join(BREAKDOWNS)}")
            raise typer.Exit(2)
    try:
        labelled = _labelled(split, labels, mails, root)
    except (EvaluationInputError, LabelError) as exc:
        err_console.print(f"[bold red]cannot evaluate:[/] {exc}")
        raise typer.Exit(2) from None
    settings = settings_or_exit(config)
    try:
        pipeline = build_pipeline(settings)
    except Exception as exc:  # noqa: BLE001 - a missing or broken model: say so, do not trace back
        err_console.print(f"[bold red]cannot load the pipeline:[/] {exc}")
        raise typer.Exit(2) from None
    with Progress(TextColumn("judging {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=err_console) as progress:
        task = progress.add_task(labelled.name, total=len(labelled.mails))
        pairs, _ = judge_all(pipeline, labelled, progress=lambda _m: progress.advance(task))
    report = rounded(evaluate_pairs(pairs, by=by))
    report["set"] = labelled.name
    if as_json:
        print(json.dumps(report, ensure_ascii=False, sort_keys=True))
    else:
        render_report(console, report)


def _labelled(split: str, labels: Path | None, mails: Path | None, root: Path) -> LabelledSet:
    if labels is not None or mails is not None:
        if labels is None or mails is None:
            raise EvaluationInputError("--labels and --mails go together")
        return labelled_folder(labels, mails)
    if split not in ("dev", "test"):
        raise EvaluationInputError(f"--split must be dev or test, not {split!r} (train is what the models learnt)")
    if split == "test":
        err_console.print("[yellow]held-out test split: for final figures only – never tune on what it shows[/]")
    return LabelledSet(split, load_split(split, root), root)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _prf_row(m: dict[str, Any]) -> list[str]:
    return [_pct(m["precision"]), _pct(m["recall"]), _pct(m["f1"]), str(m["support"]), str(m["predicted"])]


def render_report(out: Console, report: dict[str, Any]) -> None:
    """The human form: headline figures, per-chapter table, confusion table, findings and event fields."""
    chapter, review = report["chapter"], report["review"]
    out.print(f"[bold]{report['set']}[/]: {report['n']} mails, {report['errors']} with an error")

    head = Table(title="Headline (%)", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    head.add_row("chapter accuracy", _pct(chapter["accuracy"]))
    head.add_row("chapter macro-F1", _pct(chapter["macro_f1"]))
    head.add_row("invitation vs not accuracy", _pct(report["invitation"]["accuracy"]))
    ece = report["calibration"]["ece"]
    head.add_row("expected calibration error (10 bins)", "–" if ece is None else f"{ece:.3f}")
    head.add_row("needs_review rate", _pct(review["needs_review_rate"]))
    head.add_row(f"chapter accuracy when not flagged (n={review['confident_n']})", _pct(review["confident_accuracy"]))
    if review.get("chapter_review_rate") is not None:
        head.add_row("chapter uncertain rate", _pct(review["chapter_review_rate"]))
    head.add_row("verdict accuracy", _pct(report["verdict"]["accuracy"]))
    head.add_row("missing elements micro-F1", _pct(report["missing"]["micro"]["f1"]))
    head.add_row("violations micro-F1", _pct(report["violations"]["micro"]["f1"]))
    head.add_row("event fields micro-F1 exact / overlap",
                 f"{_pct(report['event']['micro']['exact']['f1'])} / {_pct(report['event']['micro']['overlap']['f1'])}")
    out.print(head)

    per = Table(title="Chapters (%)")
    for name in ("chapter", "P", "R", "F1", "gold", "predicted"):
        per.add_column(name, justify="left" if name == "chapter" else "right")
    for label, m in chapter["per_chapter"].items():
        per.add_row(label, *_prf_row(m))
    out.print(per)

    labels = chapter["labels"] + (["none"] if any("none" in row for row in chapter["confusion"].values()) else [])
    confusion = Table(title="Confusion (rows gold, columns predicted)")
    confusion.add_column("gold \\ pred")
    for label in labels:
        confusion.add_column("not" if label == "not_invitation" else label, justify="right")
    for gold in labels:
        row = chapter["confusion"].get(gold)
        if row is None:
            continue
        cells = []
        for pred in labels:
            count = row.get(pred, 0)
            cells.append("·" if not count else f"[green]{count}[/]" if pred == gold else f"[red]{count}[/]")
        confusion.add_row("not" if gold == "not_invitation" else gold, *cells)
    out.print(confusion)

    for kind in ("missing", "violations"):
        block = report[kind]
        table = Table(title=f"{kind}: micro P/R/F1 {_pct(block['micro']['precision'])} / "
                            f"{_pct(block['micro']['recall'])} / {_pct(block['micro']['f1'])} – worst codes")
        for name in ("code", "P", "R", "F1", "gold", "predicted"):
            table.add_column(name, justify="left" if name == "code" else "right")
        for code in block["worst"]:
            table.add_row(code, *_prf_row(block["per_code"][code]))
        out.print(table)

    fields = Table(title="Event fields (%)")
    for name in ("field", "exact P", "exact R", "exact F1", "overlap P", "overlap R", "overlap F1", "gold"):
        fields.add_column(name, justify="left" if name == "field" else "right", no_wrap=name == "field")
    for name, modes in report["event"]["per_field"].items():
        exact, overlap = modes["exact"], modes["overlap"]
        fields.add_row(name, _pct(exact["precision"]), _pct(exact["recall"]), _pct(exact["f1"]),
                       _pct(overlap["precision"]), _pct(overlap["recall"]), _pct(overlap["f1"]), str(exact["support"]))
    out.print(fields)

    detected = Table(title="Event fields stated at all (present vs absent, %)")
    for name in ("field", "P", "R", "F1", "agreement", "gold"):
        detected.add_column(name, justify="left" if name == "field" else "right")
    for name, modes in report["event"]["per_field"].items():
        if "detected" in modes:
            d = modes["detected"]
            detected.add_row(name, _pct(d["precision"]), _pct(d["recall"]), _pct(d["f1"]), _pct(d["agreement"]), str(d["support"]))
    out.print(detected)

    for key, groups in report.get("by", {}).items():
        table = Table(title=f"By {key} (%)")
        for name in (key, "n", "chapter acc", "macro-F1", "invitation acc", "ECE", "verdict acc"):
            table.add_column(name, justify="left" if name == key else "right")
        for group, m in groups.items():
            table.add_row(group, str(m["n"]), _pct(m["chapter_accuracy"]), _pct(m["chapter_macro_f1"]),
                          _pct(m["invitation_accuracy"]), "–" if m["ece"] is None else f"{m['ece']:.3f}",
                          _pct(m["verdict_accuracy"]))
        out.print(table)
