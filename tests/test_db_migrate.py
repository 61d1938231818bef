"""Migrations: the packaged Alembic scripts build exactly the schema of `triage.db.schema`."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from setuptools import find_packages
from sqlalchemy.engine import URL

from triage.db import migrate, store
from triage.db.engine import make_engine
from triage.db.schema import Base
from triage.results import Decision, TriageResult

ROOT = Path(__file__).resolve().parent.parent


def schema_differences(url: URL, metadata: sa.MetaData = Base.metadata) -> list:
    """What Alembic's autogenerate would change to make the database match `metadata`."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_upgrade_of_an_empty_database_builds_the_schema_exactly(db_url: URL) -> None:
    assert migrate.current(db_url) is None
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head() == "0002"
    assert migrate.is_current(db_url)
    assert schema_differences(db_url) == []
    engine = make_engine(db_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_the_comparison_would_notice_a_difference(db_url: URL) -> None:
    """Guard against a vacuous check: an extra column and index in the metadata show up."""
    migrate.upgrade(db_url)
    changed = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    messages = changed.tables["messages"]
    messages.append_column(sa.Column("spam_score", sa.Float()))
    sa.Index("ix_messages_sender", messages.c.sender)
    kinds = {diff[0] if isinstance(diff, tuple) else diff[0][0] for diff in schema_differences(db_url, changed)}
    assert {"add_column", "add_index"} <= kinds


def test_upgrade_twice_is_a_no_op_and_the_store_works_on_it(db_url: URL) -> None:
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    assert "0002" in migrate.describe(db_url)
    engine = make_engine(db_url)
    try:
        with sa.orm.Session(engine) as session, session.begin():
            raw = b"Message-ID: <m@x>\r\nSubject: hej\r\n\r\nbody\r\n"
            _, created = store.record_message(session, "unit-a", 1, 1, raw,
                                              TriageResult(file=None, message_id="<m@x>", decision=Decision("compliant")))
            assert created
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table(db_url: URL) -> None:
    migrate.upgrade(db_url)
    migrate.downgrade(db_url, "base")
    assert migrate.current(db_url) is None
    engine = make_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    migrate.upgrade(db_url)
    assert schema_differences(db_url) == []


def test_a_database_at_0001_upgrades_with_its_data(db_url: URL) -> None:
    """An installation from before the scale-out keeps its mailbox state and gains the new parts."""
    migrate.upgrade(db_url, "0001")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO mailbox_state (mailbox, last_uid, updated_at) "
                                 "VALUES ('se-hjarta', 41, CURRENT_TIMESTAMP)"))
        migrate.upgrade(db_url)
        assert schema_differences(db_url) == []
        with sa.orm.Session(engine) as session:
            state = store.get_mailbox_state(session, "se-hjarta")
            assert state is not None and state.last_uid == 41 and state.last_poll_seconds is None
            assert store.job_runs(session) == []
        migrate.downgrade(db_url, "0001")
        with engine.connect() as conn:
            assert "job_runs" not in sa.inspect(conn).get_table_names()
            assert conn.execute(sa.text("SELECT last_uid FROM mailbox_state")).scalar_one() == 41
    finally:
        engine.dispose()


def test_alembic_config_keeps_percent_signs_in_the_url() -> None:
    assert migrate.alembic_config("sqlite:///unused.db").get_main_option("sqlalchemy.url") == "sqlite:///unused.db"
    cfg = migrate.alembic_config("postgresql+psycopg://u:p%40ss@h/db")
    assert cfg.get_main_option("sqlalchemy.url") == "postgresql+psycopg://u:p%40ss@h/db"  # % survives ConfigParser


def test_migration_scripts_ship_inside_the_package() -> None:
    """An installed triage can migrate: env.py, the template and the revisions are package files."""
    folder = migrate.MIGRATIONS_DIR
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert list((folder / "versions").glob("0001_*.py")) and list((folder / "versions").glob("0002_*.py"))
    packages = find_packages(str(ROOT), include=["triage*"])
    assert {"triage.db", "triage.db.migrations", "triage.db.migrations.versions"} <= set(packages)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"*.mako"' in pyproject  # package-data carries script.py.mako


def test_revisions_do_not_import_the_live_schema() -> None:
    """A revision must keep building the schema of its day, so it never imports triage's code."""
    for script in (migrate.MIGRATIONS_DIR / "versions").glob("[0-9]*.py"):
        tree = ast.parse(script.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(name.startswith("triage") for name in imported), script.name
