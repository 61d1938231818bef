"""Scale-out: `job_runs` (a cluster-wide job once per period) and `mailbox_state.last_poll_seconds`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Written out in full rather than imported from `triage.db.schema` (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: timestamptz on PostgreSQL; on SQLite the application stores naive UTC (schema.UTCDateTime).
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMPTZ, nullable=False),
        sa.Column("heartbeat_at", TIMESTAMPTZ, nullable=False),
        sa.Column("finished_at", TIMESTAMPTZ, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f("ck_job_runs_status")),
        sa.PrimaryKeyConstraint("job", "period", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("mailbox_state") as batch:
        batch.add_column(sa.Column("last_poll_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailbox_state") as batch:
        batch.drop_column("last_poll_seconds")
    op.drop_table("job_runs")
