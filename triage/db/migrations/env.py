"""Alembic environment: run the migrations on the connection `triage.db.migrate` hands over.

Run through `triage db upgrade` (or `triage.db.migrate.upgrade`); the connection comes in
`config.attributes["connection"]`. Started by the `alembic` command instead, it builds its own
engine from `sqlalchemy.url`. SQLite uses batch mode, since it cannot ALTER most things in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from triage.db.engine import make_engine
from triage.db.schema import Base

config = context.config
target_metadata = Base.metadata

#: Any constant: the key of the PostgreSQL advisory lock that keeps two workers starting at
#: once from migrating the same database at the same time.
MIGRATION_LOCK_KEY = 0x7472696167  # "triag"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL instead of running it (`alembic upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
