"""`triage train`: train every model from training_data/ into models/, reproducibly."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.corpus.labels import DEFAULT_ROOT, LabelError
from triage.training.run import TrainerRun, TrainingError, run_training


def train(
    only: list[str] = typer.Option([], "--only", help="Train only this model (repeatable), e.g. --only chapter."),
    models_dir: Path | None = typer.Option(None, "--models-dir", help="Where to write models/<name>/ (default: models_dir of the config)."),
    root: Path = typer.Option(DEFAULT_ROOT, "--root", help="The corpus folder (labels/ and mails/ inside)."),
    config: Path | None = ConfigOption,
) -> None:
    """Train the models from the train split (dev for model selection; never test) and write models/<name>/.

    Examples:  triage train
               triage train --only chapter --models-dir /tmp/models
    """
    settings = settings_or_exit(config)
    target = models_dir or Path(settings.models_dir)
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[name]}[/]"), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err_console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def start(name: str) -> None:
            tasks[name] = progress.add_task("starting", name=name, total=None)

        def step(name: str, message: str) -> None:
            progress.update(tasks[name], description=escape(message))

        def done(run: TrainerRun) -> None:
            progress.update(tasks[run.name], description=f"[green]done[/] in {run.seconds:.1f} s", total=1, completed=1)

        try:
            runs = run_training(target, only=only, corpus_root=root, on_start=start, on_progress=step, on_done=done)
        except (TrainingError, LabelError) as exc:
            err_console.print(f"[bold red]cannot train:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
    for run in runs:
        summary = ", ".join(f"{key} {value}" for key, value in run.result.items() if not isinstance(value, (dict, list)))
        console.print(f"[bold]{run.name}[/] ({run.seconds:.1f} s): {escape(summary)}", highlight=False)
    console.print(f"models written under {escape(str(target))}", highlight=False)
