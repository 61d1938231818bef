"""Initial schema: messages, results, findings, event fields, replies, digests, reviews, users, state.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in full rather than imported from `triage.db.schema`, so that this revision keeps
creating the schema of its day when the schema module moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: timestamptz on PostgreSQL; on SQLite the application stores naive UTC (schema.UTCDateTime).
TIMESTAMPTZ = sa.DateTime(timezone=True)
#: JSONB on PostgreSQL, JSON text on SQLite.
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("period_start", TIMESTAMPTZ, nullable=True),
        sa.Column("period_end", TIMESTAMPTZ, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("mailbox", "period", name=op.f("uq_digests_mailbox_period"))
    )
    op.create_index(op.f("ix_digests_created_at"), "digests", ["created_at"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("expires_at", TIMESTAMPTZ, nullable=False),
        sa.Column("acquired_at", TIMESTAMPTZ, nullable=True),
        sa.Column("renewed_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases"))
    )
    op.create_table(
        "mailbox_state",
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=True),
        sa.Column("uidnext", sa.BigInteger(), nullable=True),
        sa.Column("highestmodseq", sa.BigInteger(), nullable=True),
        sa.Column("last_poll_at", TIMESTAMPTZ, nullable=True),
        sa.Column("last_success_at", TIMESTAMPTZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TIMESTAMPTZ, nullable=True),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_mailbox_state"))
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("last_login_at", TIMESTAMPTZ, nullable=True),
        sa.CheckConstraint("role IN ('reviewer', 'manager')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username"))
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_pk", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("delivered_at", TIMESTAMPTZ, nullable=True),
        sa.CheckConstraint("channel IN ('smtp', 'imap', 'file')", name=op.f("ck_digest_deliveries_channel")),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f("ck_digest_deliveries_status")),
        sa.ForeignKeyConstraint(["digest_pk"], ["digests.id"], name=op.f("fk_digest_deliveries_digest_pk_digests"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
        sa.UniqueConstraint("digest_pk", "channel", "target", name=op.f("uq_digest_deliveries_digest_pk_channel_target"))
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("uid", sa.BigInteger(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.String(length=80), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("received_at", TIMESTAMPTZ, nullable=True),
        sa.Column("stored_at", TIMESTAMPTZ, nullable=False),
        sa.Column("processed_at", TIMESTAMPTZ, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("filed", sa.Boolean(), nullable=False),
        sa.Column("filed_folder", sa.String(length=500), nullable=True),
        sa.Column("filed_at", TIMESTAMPTZ, nullable=True),
        sa.Column("digest_pk", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('received', 'processed', 'failed')", name=op.f("ck_messages_status")),
        sa.ForeignKeyConstraint(["digest_pk"], ["digests.id"], name=op.f("fk_messages_digest_pk_digests"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("mailbox", "dedup_key", name=op.f("uq_messages_mailbox_dedup_key")),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name=op.f("uq_messages_mailbox_uidvalidity_uid"))
    )
    op.create_index(op.f("ix_messages_digest_pk"), "messages", ["digest_pk"])
    op.create_index(op.f("ix_messages_mailbox_filed"), "messages", ["mailbox", "filed"])
    op.create_index(op.f("ix_messages_mailbox_processed_at"), "messages", ["mailbox", "processed_at"])
    op.create_index(op.f("ix_messages_raw_sha256"), "messages", ["raw_sha256"])
    op.create_index(op.f("ix_messages_stored_at"), "messages", ["stored_at"])

    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("rfc_message_id", sa.String(length=500), nullable=True),
        sa.Column("in_reply_to", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("drafted_at", TIMESTAMPTZ, nullable=True),
        sa.Column("sent_at", TIMESTAMPTZ, nullable=True),
        sa.Column("sent_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'drafted', 'sent', 'suppressed', 'failed')", name=op.f("ck_replies_status")),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"], name=op.f("fk_replies_message_pk_messages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replies")),
        sa.UniqueConstraint("message_pk", name=op.f("uq_replies_message_pk")),
        sa.UniqueConstraint("rfc_message_id", name=op.f("uq_replies_rfc_message_id"))
    )
    op.create_index(op.f("ix_replies_recipient_created_at"), "replies", ["recipient", "created_at"])

    op.create_table(
        "results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("jurisdiction", sa.String(length=8), nullable=True),
        sa.Column("rulebook", sa.String(length=64), nullable=True),
        sa.Column("rulebook_version", sa.String(length=64), nullable=True),
        sa.Column("chapter", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("probabilities", JSON, nullable=True),
        sa.Column("no_section", sa.String(length=200), nullable=True),
        sa.Column("model_version", sa.String(length=200), nullable=True),
        sa.Column("triage_version", sa.String(length=64), nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("review_reasons", JSON, nullable=True),
        sa.Column("rules_ran", JSON, nullable=True),
        sa.Column("rules_hit", JSON, nullable=True),
        sa.Column("event", JSON, nullable=True),
        sa.Column("amounts", JSON, nullable=True),
        sa.Column("timings_ms", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"], name=op.f("fk_results_message_pk_messages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results")),
        sa.UniqueConstraint("message_pk", name=op.f("uq_results_message_pk"))
    )
    op.create_index(op.f("ix_results_chapter"), "results", ["chapter"])
    op.create_index(op.f("ix_results_verdict"), "results", ["verdict"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("exported_at", TIMESTAMPTZ, nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"], name=op.f("fk_reviews_message_pk_messages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews"))
    )
    op.create_index(op.f("ix_reviews_created_at"), "reviews", ["created_at"])
    op.create_index(op.f("ix_reviews_message_pk"), "reviews", ["message_pk"])

    op.create_table(
        "event_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", JSON, nullable=True),
        sa.Column("evidence_text", sa.Text(), nullable=True),
        sa.Column("evidence_source", sa.String(length=64), nullable=True),
        sa.Column("evidence_part", sa.Text(), nullable=True),
        sa.Column("evidence_start", sa.Integer(), nullable=True),
        sa.Column("evidence_end", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], name=op.f("fk_event_fields_result_id_results"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_fields"))
    )
    op.create_index(op.f("ix_event_fields_result_id"), "event_fields", ["result_id"])

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("citation", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence_text", sa.Text(), nullable=True),
        sa.Column("evidence_source", sa.String(length=64), nullable=True),
        sa.Column("evidence_part", sa.Text(), nullable=True),
        sa.Column("evidence_start", sa.Integer(), nullable=True),
        sa.Column("evidence_end", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], name=op.f("fk_findings_result_id_results"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings"))
    )
    op.create_index(op.f("ix_findings_code"), "findings", ["code"])
    op.create_index(op.f("ix_findings_result_id"), "findings", ["result_id"])



def downgrade() -> None:
    op.drop_index(op.f("ix_findings_result_id"), table_name="findings")
    op.drop_index(op.f("ix_findings_code"), table_name="findings")
    op.drop_table("findings")
    op.drop_index(op.f("ix_event_fields_result_id"), table_name="event_fields")
    op.drop_table("event_fields")
    op.drop_index(op.f("ix_reviews_message_pk"), table_name="reviews")
    op.drop_index(op.f("ix_reviews_created_at"), table_name="reviews")
    op.drop_table("reviews")
    op.drop_index(op.f("ix_results_verdict"), table_name="results")
    op.drop_index(op.f("ix_results_chapter"), table_name="results")
    op.drop_table("results")
    op.drop_index(op.f("ix_replies_recipient_created_at"), table_name="replies")
    op.drop_table("replies")
    op.drop_index(op.f("ix_messages_stored_at"), table_name="messages")
    op.drop_index(op.f("ix_messages_raw_sha256"), table_name="messages")
    op.drop_index(op.f("ix_messages_mailbox_processed_at"), table_name="messages")
    op.drop_index(op.f("ix_messages_mailbox_filed"), table_name="messages")
    op.drop_index(op.f("ix_messages_digest_pk"), table_name="messages")
    op.drop_table("messages")
    op.drop_table("digest_deliveries")
    op.drop_table("users")
    op.drop_table("mailbox_state")
    op.drop_table("leases")
    op.drop_index(op.f("ix_digests_created_at"), table_name="digests")
    op.drop_table("digests")
