"""`triage process`: judge mail files and print the results, for people or as JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from triage.cli.common import ConfigOption, console, err_console, expand_mail_paths, settings_or_exit
from triage.cli.render import render_result
from triage.pipeline.factory import build_pipeline
from triage.results import TriageResult


def read_and_judge(pipeline, path: Path) -> TriageResult:
    """Judge one file; a file that cannot be read becomes a result with an error, like a bad mail."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return TriageResult(file=str(path), error=f"read: cannot read file: {exc.strerror or exc}")
    return pipeline.judge(raw, file=str(path))


def process(
    files: list[Path] = typer.Argument(..., help="Mail files (.eml) or folders of them.", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print one SPEC §4 JSON object per message (JSON Lines)."),
    config: Path | None = ConfigOption,
) -> None:
    """Judge mail files: chapter, event details, missing elements, violations and verdict.

    Example:  triage process samples/*.eml --json

    Exits 0 even when a message is malformed (that message gets an "error"); non-zero only when
    triage cannot run at all (bad config, a path that does not exist).
    """
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        err_console.print(f"[bold red]no such file:[/] {', '.join(missing)}")
        raise typer.Exit(2)
    settings = settings_or_exit(config)
    pipeline = build_pipeline(settings)
    paths = expand_mail_paths(files)
    if not paths:
        err_console.print("[yellow]no .eml files found in the given folders[/]")
    for path in paths:
        result = read_and_judge(pipeline, path)
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            render_result(console, result)
