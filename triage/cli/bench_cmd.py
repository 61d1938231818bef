"""`triage bench`: measurements that start real servers; each benchmark is a sub-command.

The benchmarks live in `bench/` of a source checkout (they use the test servers of
`tests/support/`), so this command works from a checkout, not from an installed wheel.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import typer

from triage.cli.common import console, err_console

app = typer.Typer(help="Benchmarks against real servers (run from a source checkout).", no_args_is_help=True)

#: The checkout this package was imported from: triage/cli/bench_cmd.py → the repository root.
CHECKOUT = Path(__file__).resolve().parents[2]


def load_benchmark(name: str) -> ModuleType:
    """Import bench/<name>.py from the checkout (with the checkout on sys.path for tests.support)."""
    path = CHECKOUT / "bench" / f"{name}.py"
    if not path.is_file():
        err_console.print(f"[bold red]no benchmark {name!r}:[/] {path} is missing (benchmarks need a source checkout)")
        raise typer.Exit(2)
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    spec = importlib.util.spec_from_file_location(f"triage_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module



def _progress(as_json: bool):
    """Progress lines on stderr for people; none when the output is JSON for a machine."""
    return None if as_json else (lambda text: err_console.print(f"[dim]{text}[/]"))


def _report(module, result: dict, as_json: bool) -> None:
    """The figures: one JSON object, or the benchmark's own summary for people."""
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    console.print(module.summary(result))

@app.command("imap")
def imap(
    messages: int = typer.Option(10_000, "--messages", "-n", min=1, help="Size of the mailbox to backfill."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    idle_samples: int = typer.Option(5, "--idle-samples", min=1, help="New mails to time under IDLE."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Store into this database (default: a temporary SQLite file)."
    ),
    processes: int | None = typer.Option(
        None, "--processes", min=0, help="judge_processes for the backfill (default: the config's, 0 = one per CPU)."
    ),
) -> None:
    """IMAP intake against a private Dovecot: backfill, an unchanged poll, IDLE latency.

    Example:  triage bench imap --messages 10000 --json

    Starts Dovecot (needs root and the dovecot-imapd package, as the tests do) with a mailbox
    of N messages made from samples/, then measures: the backfill (time, messages/s, with the
    real pipeline), a poll of the unchanged mailbox (round trips and time), and the time from
    APPEND to the stored row while the worker waits in IDLE. Targets: backfill of 10,000 in
    2 min or less, 1 round trip, 5 s or less.
    """
    from triage.logs import configure_logging

    configure_logging("warning")  # the figures on stdout; only real trouble on stderr
    module = load_benchmark("imap")
    result = module.run(messages=messages, idle_samples=idle_samples, database_url=database_url,
                        judge_processes=processes,
                        progress=_progress(as_json))
    _report(module, result, as_json)


@app.command("extract")
def extract(
    messages: int = typer.Option(500, "--messages", "-n", min=1, help="Mails to extract (cycled from the corpus)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Timed passes; the best is kept."),
) -> None:
    """Extraction throughput and memory on one core, against parsing + tokenising the same mails.

    Example:  triage bench extract --messages 500 --json

    Aim: extraction (parse + extract) costs at most 2× the floor (parse + blank-pipeline tokenising).
    """
    module = load_benchmark("extract")
    result = module.run(messages=messages, repeats=repeats,
                        progress=_progress(as_json))
    _report(module, result, as_json)


@app.command("peer")
def peer(
    messages: int = typer.Option(1000, "--messages", "-n", min=2, help="Mails (cycled from the corpus and samples)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Runs of each command; the medians are reported."),
) -> None:
    """SpamAssassin and `triage process` on the same mails, one core each, in one run.

    Example:  triage bench peer --messages 1000 --json

    SpamAssassin runs with local tests only and Bayes/autolearn off. Each tool also runs on one
    mail, to report its start-up cost and its steady-state rate beside the headline figure.
    Aim: triage ≥ 5× its throughput by CPU time, start-up included.
    """
    module = load_benchmark("peer")
    result = module.run(messages=messages, repeats=repeats, progress=_progress(as_json))
    _report(module, result, as_json)


@app.command("floor")
def floor(
    messages: int = typer.Option(500, "--messages", "-n", min=1, help="Mails (cycled from the corpus and samples)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Timed passes; the medians are reported."),
) -> None:
    """Full pipeline vs parse + blank-spaCy tokenising; RSS, model load time, models/ size, profile.

    Example:  triage bench floor --json

    Aims: full pipeline ≤ 4× the floor, RSS ≤ 400 MB with every model loaded, models/ ≤ 50 MB.
    """
    module = load_benchmark("floor")
    result = module.run(messages=messages, repeats=repeats,
                        progress=_progress(as_json))
    _report(module, result, as_json)
