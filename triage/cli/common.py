"""What every command shares: loading the settings once and turning config errors into exit 2."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from triage.config import ConfigError, Settings, load_settings

console = Console()
err_console = Console(stderr=True)

ConfigOption = typer.Option(
    None, "--config", "-c", help="TOML config file (default: $TRIAGE_CONFIG, else built-in defaults).",
    envvar="TRIAGE_CONFIG", show_envvar=True,
)


def settings_or_exit(config: Path | None) -> Settings:
    """Load the settings, or print why they cannot be used and exit with status 2."""
    try:
        return load_settings(config)
    except ConfigError as exc:
        err_console.print(f"[bold red]config error:[/] {exc}")
        raise typer.Exit(2) from None


def expand_mail_paths(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the *.eml files in it, sorted by name."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml" and p.is_file()))
        else:
            files.append(path)
    return files
