"""`triage data`: check the corpus and fold new label batches into the splits."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.corpus.labels import DEFAULT_ROOT, LabelError, load_corpus, load_split
from triage.corpus.split import merge_batches
from triage.corpus.validate import check_corpus

app = typer.Typer(help="The annotated corpus in training_data/.", no_args_is_help=True)

RootOption = typer.Option(DEFAULT_ROOT, "--root", help="The corpus folder (labels/ and mails/ inside).")


@app.command("check")
def check(
    root: Path = RootOption,
    split: str | None = typer.Option(None, "--split", help="Check one split only (skips the corpus-wide counts)."),
) -> None:
    """Validate labels and mails: codes, conventions, quoted spans, duplicates, minimum counts.

    Example:  triage data check
    """
    try:
        mails = load_split(split, root) if split else load_corpus(root)
    except LabelError as exc:
        err_console.print(f"[bold red]cannot read labels:[/] {exc}")
        raise typer.Exit(2) from None
    with Progress(transient=True, console=err_console) as progress:
        task = progress.add_task("checking", total=len(mails))
        report = check_corpus(mails, root, counts=split is None, progress=lambda _m: progress.advance(task))
    if report.counts:
        table = Table(title=f"{len(mails)} mails")
        table.add_column("what")
        table.add_column("counts")
        for kind, counter in report.counts.items():
            table.add_row(kind, ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))))
        console.print(table)
    if report.ok:
        console.print(f"[green]corpus OK[/] ({len(mails)} mails)")
        return
    for problem in report.problems:
        console.print(f"[red]✗[/] {problem}", highlight=False)
    console.print(f"[bold red]{len(report.problems)} problem(s)[/]")
    raise typer.Exit(1)


@app.command("split")
def split(
    root: Path = RootOption,
    test_batch: list[str] = typer.Option([], "--test-batch", help="A batch (file stem) that belongs to the test split."),
    keep: bool = typer.Option(False, "--keep", help="Keep the batch files after merging."),
) -> None:
    """Merge labels/batches/*.jsonl into labels/{train,dev,test}.jsonl (pool: stable 80/20 by id).

    Example:  triage data split --test-batch t --test-batch u
    """
    try:
        moved = merge_batches(root, set(test_batch), remove=not keep)
    except (LabelError, ValueError) as exc:
        err_console.print(f"[bold red]cannot merge:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(", ".join(f"{name} +{count}" for name, count in moved.items()))



@app.command("export-reviews")
def export_reviews_cmd(
    out: Path | None = typer.Option(None, "--out", help="Batch file to write (default: labels/batches/reviews.jsonl)."),
    root: Path = RootOption,
    config: Path | None = ConfigOption,
) -> None:
    """Write reviewers' corrections as corpus labels (LABELLING.md) for `triage data split` + `triage train`.

    Example:  triage data export-reviews && triage data split && triage train
    """
    from sqlalchemy.exc import SQLAlchemyError

    from triage.corpus.reviews import export_reviews
    from triage.db.engine import make_engine, session_factory

    settings = settings_or_exit(config)
    engine = make_engine(settings.database_url, sqlite_immediate=True)
    try:
        with session_factory(engine)() as session:
            report = export_reviews(session, out, root=root)
            session.commit()
    except SQLAlchemyError as exc:
        err_console.print(f"[bold red]cannot read reviews:[/] {type(exc).__name__} (run `triage db upgrade` first?)")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for message_pk, why in report.skipped:
        console.print(f"[yellow]skipped[/] message {message_pk}: {why}", highlight=False)
    console.print(f"wrote {len(report.written)} reviewed mail(s) to {report.out}")
