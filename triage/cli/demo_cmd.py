"""`triage demo`: the whole service on the embedded default, with no server and no network.

It configures one folder mailbox on the bundled samples/, a SQLite file under var/, migrates it,
runs the worker once — the same code path as `triage run --once`, replies drafted by the same
hook — prints what it found, and writes and prints the daily digest.
Running it again stores nothing twice: the store recognises every mail it has seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import typer
from rich.table import Table

from triage.cli.common import console, err_console
from triage.config import MailboxConfig, Settings, load_settings

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DEMO_MAILBOX = "demo"


def demo_settings(var_dir: Path, samples: Path) -> Settings:
    """The embedded default: SQLite under var/, one read-only folder mailbox on the samples."""
    base = load_settings(environ={})
    mailbox = MailboxConfig(name=DEMO_MAILBOX, kind="folder", path=str(samples), language="sv", reply_mode="draft")
    digest = replace(base.digest, directory=str(var_dir / "digests"))
    return replace(
        base, database_url=f"sqlite:///{var_dir / 'demo.db'}", var_dir=str(var_dir), mailboxes=[mailbox], digest=digest
    )


def demo(
    var_dir: Path = typer.Option(Path("var"), "--var", help="Where the demo database and digest are written."),
    samples: Path = typer.Option(SAMPLES, "--samples", help="The folder of .eml files to read."),
    fresh: bool = typer.Option(False, "--fresh", help="Delete the demo database first."),
) -> None:
    """Run triage on the bundled sample mailbox (SQLite under var/) and show what it found.

    Example:  triage demo
    """
    from triage.db import migrate
    from triage.db.engine import make_engine, session_factory
    from triage.db.store import list_results
    from triage.outbound.digest import write_digest_to_disk
    from triage.outbound.hooks import reply_hook
    from triage.worker.runner import WorkerError, run_once

    if not samples.is_dir():
        err_console.print(f"[bold red]no sample folder at {samples}[/]")
        raise typer.Exit(2)
    var_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        (var_dir / "demo.db").unlink(missing_ok=True)
    settings = demo_settings(var_dir, samples)
    migrate.upgrade(settings.database_url)
    console.print(f"Reading [bold]{samples}[/] into [bold]{var_dir / 'demo.db'}[/] …")
    try:
        (report,) = run_once(settings, DEMO_MAILBOX, hooks=[reply_hook(settings)])
    except WorkerError as exc:
        err_console.print(f"[bold red]demo failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"this run: {report.new} new, {report.processed} processed, {report.failed} failed, "
        f"{report.known} already known ({report.duration_seconds:.1f} s)"
    )
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            rows = list_results(session, mailbox=DEMO_MAILBOX)
            table = Table(title="The sample mailbox", show_lines=False)
            for column in ("subject", "chapter", "verdict", "findings", "error"):
                table.add_column(column, overflow="fold")
            verdicts: Counter[str] = Counter()
            for message, result in rows:
                verdict = (result.verdict if result else None) or ("failed" if message.error else "unknown")
                verdicts[verdict] += 1
                findings = ", ".join(f.code for f in result.findings) if result else ""
                table.add_row(
                    (message.subject or "")[:70], (result.chapter if result else None) or "–", verdict, findings,
                    (message.error or "")[:60],
                )
            console.print(table)
            console.print("totals: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())) + f" — {len(rows)} messages")
            html_path, text_path, text = write_digest_to_disk(session, settings, DEMO_MAILBOX)
        console.rule("The daily digest (plain text)")
        console.print(text, markup=False, highlight=False)
        console.print(f"digest written to {html_path} and {text_path}")
    finally:
        engine.dispose()
