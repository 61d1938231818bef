"""`triage users`: the people who may log in to the review UI."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit

app = typer.Typer(help="Users of the review web UI (passwords are stored as Argon2 hashes only).", no_args_is_help=True)

ROLE_HELP = "reviewer (corrects, sends replies) or manager (also sees the agreement report and the users)."


def _read_password(from_stdin: bool) -> str:
    """The new password: prompted twice without echo, or one line of stdin for scripts."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        err_console.print("[bold red]the password must have at least 8 characters[/]")
        raise typer.Exit(2)
    return password


def _sessions(config: Path | None):
    from triage.db.engine import make_engine, session_factory

    settings = settings_or_exit(config)
    engine = make_engine(settings.database_url, sqlite_immediate=True)
    return settings, engine, session_factory(engine)


def _no_schema(exc: Exception) -> None:
    err_console.print(f"[bold red]database not ready:[/] {type(exc).__name__} (run `triage db upgrade` first)")
    raise typer.Exit(1) from None


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The user name to log in with."),
    role: str = typer.Option("reviewer", "--role", help=ROLE_HELP),
    display_name: str | None = typer.Option(None, "--display-name", help="Name shown in the UI."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from one line of stdin."),
    config: Path | None = ConfigOption,
) -> None:
    """Add a user; the password is asked twice and never echoed, logged or stored in clear.

    Example:  triage users add anna --role manager
    """
    from sqlalchemy.exc import SQLAlchemyError

    from triage.db import store
    from triage.web.auth import ROLES, hash_password

    if role not in ROLES:
        err_console.print(f"[bold red]--role must be one of {', '.join(ROLES)}[/]")
        raise typer.Exit(2)
    settings, engine, sessions = _sessions(config)
    if any(u.name == name for u in settings.web.users):
        err_console.print(f"[bold red]{name!r} is already a user in the config file[/]")
        raise typer.Exit(1)
    try:
        with sessions() as session:
            if store.get_user(session, name) is not None:
                err_console.print(f"[bold red]user {name!r} exists already[/] (use `triage users passwd {name}`)")
                raise typer.Exit(1)
            password = _read_password(password_stdin)
            store.add_user(session, name, role, password_hash=hash_password(password), display_name=display_name)
            session.commit()
    except SQLAlchemyError as exc:
        _no_schema(exc)
    finally:
        engine.dispose()
    console.print(f"added {role} {name}")


@app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="The user whose password to set."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from one line of stdin."),
    config: Path | None = ConfigOption,
) -> None:
    """Set a new password for a user stored in the database."""
    from sqlalchemy.exc import SQLAlchemyError

    from triage.db import store
    from triage.web.auth import hash_password

    _settings, engine, sessions = _sessions(config)
    try:
        with sessions() as session:
            user = store.get_user(session, name)
            if user is None:
                err_console.print(f"[bold red]no user {name!r} in the database[/]")
                raise typer.Exit(1)
            store.set_password_hash(session, user, hash_password(_read_password(password_stdin)))
            session.commit()
    except SQLAlchemyError as exc:
        _no_schema(exc)
    finally:
        engine.dispose()
    console.print(f"password of {name} changed")


@app.command("hash")
def hash_(
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from one line of stdin."),
) -> None:
    """Print the Argon2 hash of a password, for a [[web.users]] entry of the config file."""
    from triage.web.auth import hash_password

    print(hash_password(_read_password(password_stdin)))


@app.command("list")
def list_(config: Path | None = ConfigOption) -> None:
    """List the users: those of the config file and those in the database."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from triage.db.schema import User

    settings, engine, sessions = _sessions(config)
    table = Table()
    for column in ("name", "role", "source", "active", "last login"):
        table.add_column(column)
    for user in settings.web.users:
        table.add_row(user.name, user.role, "config", "yes", "")
    try:
        with sessions() as session:
            for user in session.scalars(select(User).order_by(User.username)):
                last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else ""
                table.add_row(user.username, user.role, "database", "yes" if user.active else "no", last)
    except SQLAlchemyError as exc:
        _no_schema(exc)
    finally:
        engine.dispose()
    console.print(table)
