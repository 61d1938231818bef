"""The root of the `triage` command: every sub-command is registered here, nowhere else."""

from __future__ import annotations

import typer

from triage import __version__
from triage.cli import config_cmd, data_cmd, db_cmd
from triage.cli import serve_cmd, users_cmd
from triage.cli.demo_cmd import demo
from triage.cli.process import process
from triage.cli.digest_cmd import digest
from triage.cli import replies_cmd
from triage.cli.run_cmd import run
from triage.cli import bench_cmd
from triage.cli import rules_cmd
from triage.cli import evaluate_cmd, train_cmd
from triage.cli.purge_cmd import purge

app = typer.Typer(
    name="triage",
    help="First reading of industry invitations in a healthcare function mailbox.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        print(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """First reading of industry invitations in a healthcare function mailbox."""


app.command("process")(process)
app.command("digest")(digest)
app.add_typer(replies_cmd.app, name="replies")
app.command("demo")(demo)
app.command("run")(run)
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
app.add_typer(data_cmd.app, name="data")
app.add_typer(rules_cmd.app, name="rules")
app.command("serve")(serve_cmd.serve)
app.add_typer(users_cmd.app, name="users")
app.command("train")(train_cmd.train)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("purge")(purge)


def main() -> None:
    """Console-script entry point."""
    app()
