"""`triage serve`: run the review web UI under uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer

from triage.cli.common import ConfigOption, err_console, settings_or_exit


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default: web.host, 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default: web.port, 8080)."),
    dev: bool = typer.Option(
        False, "--dev", help="Without a secret key in the environment, make a throwaway one (logins end at restart)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Start the review web UI on the configured database.

    The session cookies are signed with the key in the environment variable named by
    web.secret_key_env (TRIAGE_WEB_SECRET); without it the UI refuses to start unless --dev.

    Example:  TRIAGE_WEB_SECRET=$(openssl rand -base64 48) triage serve --port 8080
    """
    import uvicorn

    from triage.logs import configure_logging
    from triage.web.app import SecretKeyMissing, create_app

    settings = settings_or_exit(config)
    configure_logging(settings.log_level)
    try:
        app = create_app(settings, dev=dev)
    except SecretKeyMissing as exc:
        err_console.print(f"[bold red]cannot start:[/] {exc}")
        raise typer.Exit(2) from None
    except ValueError as exc:  # a bad [[web.users]] entry
        err_console.print(f"[bold red]config error:[/] {exc}")
        raise typer.Exit(2) from None
    if app.state.web.dev and not app.state.web.settings.web.secure_cookies:
        err_console.print("[yellow]--dev:[/] a throwaway session key may be in use; logins end when the server stops")
    uvicorn.run(app, host=host or settings.web.host, port=port or settings.web.port,
                log_level=settings.log_level.lower(), server_header=False)
