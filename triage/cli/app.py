"""The root of the `triage` command: every sub-command is registered here, nowhere else."""

from __future__ import annotations

import typer

from triage import __version__
from triage.cli import config_cmd, data_cmd, db_cmd
from triage.cli.process import process

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
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
app.add_typer(data_cmd.app, name="data")


def main() -> None:
    """Console-script entry point."""
    app()
