"""The database schema: every table triage keeps, in SQLAlchemy 2.0 declarative form.

One message row per mail a mailbox held, keyed so that it is stored once: by its place in the
mailbox (mailbox, UIDVALIDITY, UID) and by its identity (`dedup_key`: the Message-ID, or the
SHA-256 of the raw bytes when there is none; never From+Subject+Date, which collides for two
mails sent in the same second). Everything else hangs off a message (its one current result with
findings and event fields, its reply, its reviews) and is deleted with it, or keeps state of
the service itself (mailbox state, digests and their deliveries, users, leases).

The Alembic migrations in `triage/db/migrations/` must produce exactly these tables;
`tests/test_db_migrate.py` compares them. Change both together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

#: Constraint and index names are fixed by convention, so that SQLite and PostgreSQL name them
#: alike and a later migration can drop them by name.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Message states: stored but not yet judged, judged, or failed with an error (raw bytes kept).
MESSAGE_STATUSES: tuple[str, ...] = ("received", "processed", "failed")
#: Reply states, from composed to sent, or held back (loop prevention, limits) or failed.
REPLY_STATUSES: tuple[str, ...] = ("pending", "drafted", "sent", "suppressed", "failed")
#: Delivery states of one digest on one channel to one target.
DELIVERY_STATUSES: tuple[str, ...] = ("pending", "delivered", "failed")
DELIVERY_CHANNELS: tuple[str, ...] = ("smtp", "imap", "file")
USER_ROLES: tuple[str, ...] = ("reviewer", "manager")
#: States of one cluster-wide job run (digest, purge) for one period.
JOB_RUN_STATUSES: tuple[str, ...] = ("running", "done", "failed")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the value is stored as naive
    UTC text and given its zone back on the way out. A naive datetime is refused rather than
    guessed at: local time mistaken for UTC would shift retention and digest periods.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: triage stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON that works on both backends: JSONB on PostgreSQL (indexable, compact), JSON text on
#: SQLite. Python None is SQL NULL, not the JSON literal `null`.
JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every triage table; its metadata is what the migrations must match."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# --- mail ------------------------------------------------------------------------------------

class Message(Base):
    """One mail as a mailbox held it: raw bytes, where it was, its state and where it was filed."""

    __tablename__ = "messages"
    __table_args__ = (
        # Stored once per place in the mailbox. NULL UIDs (folder/Maildir mailboxes) never collide.
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        # Recognised again by identity after a UIDVALIDITY change or a second delivery.
        UniqueConstraint("mailbox", "dedup_key"),
        Index(None, "raw_sha256"),
        Index(None, "mailbox", "processed_at"),
        Index(None, "mailbox", "filed"),
        Index(None, "stored_at"),
        Index(None, "digest_pk"),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    #: IMAP UIDVALIDITY and UID are unsigned 32-bit numbers, hence BIGINT; NULL outside IMAP.
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    #: Where a non-IMAP message came from (file name, Maildir key), for people reading the row.
    origin: Mapped[str | None] = mapped_column(Text)
    #: The Message-ID header as the mail gave it; unbounded and unindexed, see `dedup_key`.
    message_id: Mapped[str | None] = mapped_column(Text)
    #: "mid:" + SHA-256 of the normalised Message-ID, or "sha256:" + SHA-256 of the raw bytes.
    #: A hash keeps the unique index small however long a hostile Message-ID is.
    dedup_key: Mapped[str] = mapped_column(String(80))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(Text)
    #: When the mailbox received it (IMAP INTERNALDATE, else the Date header); for display.
    received_at: Mapped[datetime | None]
    #: When triage stored it, by our own clock: the retention clock, never a sender's header.
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Tagged/moved in the mailbox; a stored message not yet filed is filed again at start-up.
    filed: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_folder: Mapped[str | None] = mapped_column(String(500))
    filed_at: Mapped[datetime | None]
    #: The digest that reported it; NULL until one did, so nothing is lost or reported twice.
    digest_pk: Mapped[int | None] = mapped_column(ForeignKey("digests.id", ondelete="SET NULL"))

    result: Mapped[Result | None] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    reply: Mapped[Reply | None] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True, order_by="Review.id"
    )
    digest: Mapped[Digest | None] = relationship(back_populates="messages")

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.mailbox} uid={self.uidvalidity}/{self.uid} {self.status}>"


class Result(Base):
    """The one current judgement of a message; re-processing replaces it and its children."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("message_pk"),
        Index(None, "verdict"),
        Index(None, "chapter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16))
    jurisdiction: Mapped[str | None] = mapped_column(String(8))
    rulebook: Mapped[str | None] = mapped_column(String(64))
    rulebook_version: Mapped[str | None] = mapped_column(String(64))
    chapter: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    probabilities: Mapped[dict[str, Any] | None]
    no_section: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(200))
    triage_version: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str | None] = mapped_column(String(32))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why the decision asked for a person (Decision.reasons).
    review_reasons: Mapped[list[Any] | None]
    #: Every rule that ran and every rule that hit (STYLE habit 3: keep the misses).
    rules_ran: Mapped[list[Any] | None]
    rules_hit: Mapped[list[Any] | None]
    #: The SPEC §4 `event` object as output; the evidence lives in `event_fields`.
    event: Mapped[dict[str, Any] | None]
    amounts: Mapped[list[Any] | None]
    timings_ms: Mapped[dict[str, Any] | None]
    #: The stage error of this run, if one failed ("parse: …").
    error: Mapped[str | None] = mapped_column(Text)

    message: Mapped[Message] = relationship(back_populates="result")
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="result", cascade="all, delete-orphan", passive_deletes=True, order_by="FindingRow.position"
    )
    event_fields: Mapped[list[EventField]] = relationship(
        back_populates="result", cascade="all, delete-orphan", passive_deletes=True, order_by="EventField.position"
    )


class _EvidenceColumns:
    """Where a value or finding was read: the quoted text and its place in the parsed message."""

    evidence_text: Mapped[str | None] = mapped_column(Text)
    evidence_source: Mapped[str | None] = mapped_column(String(64))
    evidence_part: Mapped[str | None] = mapped_column(Text)
    evidence_start: Mapped[int | None] = mapped_column(Integer)
    evidence_end: Mapped[int | None] = mapped_column(Integer)


class FindingRow(_EvidenceColumns, Base):
    """One rule hit of a result: a missing element or a violation, its citation and evidence."""

    __tablename__ = "findings"
    __table_args__ = (Index(None, "result_id"), Index(None, "code"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)

    result: Mapped[Result] = relationship(back_populates="findings")


class EventField(_EvidenceColumns, Base):
    """One piece of evidence for one extracted event field (a field with no evidence: one row)."""

    __tablename__ = "event_fields"
    __table_args__ = (Index(None, "result_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    #: The value as in the SPEC §4 `event` object (text, number, list, true/false).
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)

    result: Mapped[Result] = relationship(back_populates="event_fields")


# --- what people see and do ------------------------------------------------------------------

class Reply(Base):
    """The reply to a supplier about one message: at most one per message, ever."""

    __tablename__ = "replies"
    __table_args__ = (
        UniqueConstraint("message_pk"),
        UniqueConstraint("rfc_message_id"),
        Index(None, "recipient", "created_at"),
        CheckConstraint(_in("status", REPLY_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mode: Mapped[str] = mapped_column(String(16))  # draft | send
    status: Mapped[str] = mapped_column(String(16), default="pending")
    language: Mapped[str | None] = mapped_column(String(16))
    #: Lower-cased address the reply goes to; with created_at it drives the per-sender limit.
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Our reply's own Message-ID, to recognise a mail that is itself a reply of ours.
    rfc_message_id: Mapped[str | None] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # why suppressed
    error: Mapped[str | None] = mapped_column(Text)
    drafted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(200))

    message: Mapped[Message] = relationship(back_populates="reply")


class Digest(Base):
    """One digest of one mailbox for one period; made once, whatever the number of workers."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("mailbox", "period"), Index(None, "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    #: The period's label, e.g. "2026-03-03" for a daily digest.
    period: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The rendered digest, so that a delivery retried later sends exactly the same text.
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)

    messages: Mapped[list[Message]] = relationship(back_populates="digest", passive_deletes=True)
    deliveries: Mapped[list[DigestDelivery]] = relationship(
        back_populates="digest", cascade="all, delete-orphan", passive_deletes=True, order_by="DigestDelivery.id"
    )


class DigestDelivery(Base):
    """One digest delivered on one channel (smtp, imap, file) to one target, at most once."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("digest_pk", "channel", "target"),
        CheckConstraint(_in("channel", DELIVERY_CHANNELS), name="channel"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_pk: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    #: A recipient address, an IMAP folder or a file path.
    target: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    digest: Mapped[Digest] = relationship(back_populates="deliveries")


class Review(Base):
    """A person's correction of a result: who, when, the values before and after, and why."""

    __tablename__ = "reviews"
    __table_args__ = (Index(None, "message_pk"), Index(None, "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    #: The reviewer's user name, kept as text so the record outlives the user account.
    reviewer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    comment: Mapped[str | None] = mapped_column(Text)
    #: When `triage data export-reviews` last wrote it into the training corpus.
    exported_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship(back_populates="reviews")


class User(Base):
    """A person who may log in to the review UI; only an Argon2 hash, never a password."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("username"),
        CheckConstraint(_in("role", USER_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    #: Argon2 PHC string ("$argon2id$v=19$…"); NULL for a user who cannot log in yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="reviewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


# --- state of the service --------------------------------------------------------------------

class MailboxState(Base):
    """Where intake stands in one mailbox, so a poll of an unchanged mailbox costs one round trip."""

    __tablename__ = "mailbox_state"

    mailbox: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int | None] = mapped_column(BigInteger)
    uidnext: Mapped[int | None] = mapped_column(BigInteger)
    #: RFC 7162 mod-sequences are 63-bit, so BIGINT holds them.
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    last_poll_at: Mapped[datetime | None]
    #: How long the last poll took (wall clock, reconnects included), for /metrics.
    last_poll_seconds: Mapped[float | None] = mapped_column(Float)
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lease held by one worker until it expires: `mailbox:<name>` (who polls it) and
    `worker:<id>` (the worker is alive; the fair share of mailboxes is counted from these)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]


class JobRun(Base):
    """One run of a cluster-wide job (digest, purge) for one period: made once, whatever the workers.

    The primary key (job, period) is the "once": the first worker whose INSERT succeeds runs the
    job and beats `heartbeat_at` while it works; the others see the row and skip, or take the
    run over when the heartbeat has stopped (the worker died mid-job).
    """

    __tablename__ = "job_runs"
    __table_args__ = (CheckConstraint(_in("status", JOB_RUN_STATUSES), name="status"),)

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The period's label, e.g. "2026-03-03" for a daily job (the day in digest.timezone).
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="running")
    #: 1 for the first worker; +1 each time a run left by a dead worker is taken over.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
