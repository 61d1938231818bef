"""`triage config`: show the effective configuration, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from triage.cli.common import ConfigOption, settings_or_exit
from triage.config import settings_as_dict

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
def show(
    config: Path | None = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of TOML."),
) -> None:
    """Print the effective configuration (defaults → TOML file → TRIAGE_* variables), secrets masked.

    Example:  TRIAGE_DATABASE_URL=postgresql+psycopg://triage@db/triage triage config show
    """
    data = settings_as_dict(settings_or_exit(config))
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    import tomli_w

    def drop_none(value):
        if isinstance(value, dict):
            return {k: drop_none(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [drop_none(v) for v in value]
        return value

    data = drop_none(data)
    data["mailbox"] = data.pop("mailboxes")
    print(tomli_w.dumps(data), end="")
