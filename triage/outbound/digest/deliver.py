"""Make a digest once and deliver it on every channel once: SMTP, an IMAP folder, files on disk.

`run_mailbox_digest` is one digest job for one mailbox:

1. **Make** the digest of the period (`store.create_digest` claims every message processed
   since the previous digest and not yet reported), render it, store subject, text and HTML on
   the digest row, **commit**. A digest already made for the period is taken as it is: its
   stored text is what goes out, so a retried delivery says exactly what the first one said.
2. **Deliver** to each target: every `[digest] recipients` address by SMTP, the mailbox's
   `digest_folder` (else `[digest] imap_folder`) by IMAP APPEND, and `[digest] directory` as an
   `.html` and a `.txt` file. Each target is claimed first (`store.claim_delivery`, unique per
   digest, channel and target) and the claim **committed before** anything leaves, then the
   outcome is recorded and committed. So a second run sends nothing; a failed delivery is tried
   again by the next run (up to MAX_ATTEMPTS); a delivery whose outcome is unknown (the process
   died while sending) is not repeated by SMTP, where a repeat would be a second mail, and is
   repeated for IMAP and files, where it is harmless.

This module owns its transactions (it commits), like the worker's runner: a claim that is not
committed before the send would not stop a second worker. `write_digest_to_disk` is the demo's
door: make (or find) today's digest and write its files, returning the plain text to print.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from triage.config import MailboxConfig, Settings
from triage.db import store
from triage.db.schema import Digest, DigestDelivery, utcnow
from triage.logs import get_logger
from triage.outbound.digest.collect import DigestPeriodError, digest_period, digest_view, preview_view
from triage.outbound.digest.render import RenderedDigest, render_digest
from triage.outbound.imap import AppendError, append_message, can_append
from triage.outbound.mail import build_message, domain_of
from triage.outbound.smtp import SmtpError, Transport, transport_for

log = get_logger(__name__)

#: A failed delivery is tried again by later runs up to this many attempts in all.
MAX_ATTEMPTS = 5
#: A claim this old without an outcome was left by a process that died while delivering.
STALE_CLAIM = timedelta(minutes=15)

Appender = Callable[..., None]


@dataclass
class DeliveryOutcome:
    """What happened to one delivery target in this run."""

    channel: str
    target: str
    #: delivered (now), failed (now), done (delivered before), unknown (claimed, outcome unknown),
    #: given_up (failed MAX_ATTEMPTS times), busy (another process is delivering it now).
    status: str
    error: str | None = None


@dataclass
class DigestOutcome:
    """One mailbox's digest job: the digest, whether it was made now, and each delivery."""

    mailbox: str
    period: str
    digest_id: int | None
    created: bool
    message_count: int
    subject: str | None
    text: str | None
    deliveries: list[DeliveryOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Made, and every delivery done (now or before) or in another process's hands."""
        return self.error is None and all(d.status in ("delivered", "done", "busy") for d in self.deliveries)


# --- making ------------------------------------------------------------------------------------------

def _drafts_folder(mailbox: MailboxConfig) -> str | None:
    return mailbox.drafts_folder if can_append(mailbox) else None


def render_for(session: Session, settings: Settings, mailbox: MailboxConfig, digest: Digest, now: datetime) -> RenderedDigest:
    """Render a made digest from the messages it claimed."""
    view = digest_view(session, mailbox, digest)
    return render_digest(
        view, language=mailbox.language, timezone=settings.digest.timezone, now=now,
        review_url=settings.digest.review_url, drafts_folder=_drafts_folder(mailbox),
    )


def make_digest(
    session: Session, settings: Settings, mailbox: MailboxConfig, *, on: date | None = None, now: datetime | None = None
) -> tuple[Digest, bool]:
    """Make (or find) the digest of `mailbox` for today (or the day `on`), rendered; (digest, created).

    Does not commit. Raises DigestPeriodError for a day in the future, or a past day that was
    never made and whose messages a later digest has reported already.
    """
    now = now or utcnow()
    period = digest_period(settings, now, on)
    existing = session.scalars(select(Digest).where(Digest.mailbox == mailbox.name, Digest.period == period.label)).first()
    if existing is None and on is not None:
        previous = store.last_digest(session, mailbox.name)
        if previous is not None and previous.period_end >= period.end:
            raise DigestPeriodError(
                f"no digest of {mailbox.name!r} was made for {period.label}; its messages were reported in the "
                f"digest of {previous.period}"
            )
    digest, created = store.create_digest(
        session, mailbox.name, period.label, period.end, language=mailbox.language, now=now
    )
    if created or digest.body_text is None:
        rendered = render_for(session, settings, mailbox, digest, now)
        digest.subject, digest.body_text, digest.body_html = rendered.subject, rendered.text, rendered.html
        session.flush()
    return digest, created


def preview_digest(
    session: Session, settings: Settings, mailbox: MailboxConfig, *, on: date | None = None, now: datetime | None = None
) -> RenderedDigest:
    """The digest `make_digest` would make now, rendered, with nothing written (for --dry-run)."""
    now = now or utcnow()
    period = digest_period(settings, now, on)
    existing = session.scalars(select(Digest).where(Digest.mailbox == mailbox.name, Digest.period == period.label)).first()
    if existing is not None and existing.body_text is not None:
        return RenderedDigest(existing.subject or "", existing.body_text, existing.body_html or "")
    view = preview_view(session, mailbox, period)
    return render_digest(
        view, language=mailbox.language, timezone=settings.digest.timezone, now=now,
        review_url=settings.digest.review_url, drafts_folder=_drafts_folder(mailbox),
    )


# --- channels ------------------------------------------------------------------------------------------

def digest_sender(settings: Settings, mailbox: MailboxConfig) -> str:
    """Who the digest is from: the SMTP sender, else the mailbox's own address."""
    return settings.smtp.sender or mailbox.address or "triage@localhost"


def digest_mail(settings: Settings, mailbox: MailboxConfig, digest: Digest, to: Sequence[str], target: str):
    """The digest as one multipart/alternative mail; its Message-ID is stable per digest and target."""
    sender = digest_sender(settings, mailbox)
    tag = hashlib.sha256(target.encode("utf-8")).hexdigest()[:12]
    message_id = f"<triage-digest.{digest.id}.{tag}@{domain_of(sender, 'triage.invalid')}>"
    return build_message(
        subject=digest.subject or f"triage {mailbox.name} {digest.period}",
        sender=sender,
        to=list(to) or [mailbox.address or sender],
        text=digest.body_text or "",
        html=digest.body_html,
        date=digest.created_at,
        message_id=message_id,
        headers={
            # RFC 3834: a generated message; Exchange: please no out-of-office answers to it.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "Content-Language": mailbox.language,
            "X-Triage-Digest": f"{mailbox.name} {digest.period}",
        },
    )


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._") or "mailbox"


def digest_directory(settings: Settings, mailbox: MailboxConfig) -> Path:
    """The folder of a mailbox's digest files: <[digest] directory>/<mailbox>."""
    return Path(settings.digest.directory) / _safe_name(mailbox.name)


def digest_paths(settings: Settings, mailbox: MailboxConfig, digest: Digest) -> tuple[Path, Path]:
    """Where the digest's files go: <directory>/<mailbox>/<period>.html and .txt."""
    folder = digest_directory(settings, mailbox)
    stem = _safe_name(digest.period)
    return folder / f"{stem}.html", folder / f"{stem}.txt"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(settings: Settings, mailbox: MailboxConfig, digest: Digest) -> tuple[Path, Path]:
    """Write the digest's HTML and text files (atomically; writing them again is harmless)."""
    html_path, text_path = digest_paths(settings, mailbox, digest)
    _write_atomic(html_path, digest.body_html or "")
    _write_atomic(text_path, digest.body_text or "")
    return html_path, text_path


def _imap_folder(settings: Settings, mailbox: MailboxConfig) -> str | None:
    return mailbox.digest_folder or settings.digest.imap_folder


def delivery_targets(settings: Settings, mailbox: MailboxConfig) -> list[tuple[str, str]]:
    """(channel, target) for every configured delivery of this mailbox's digest."""
    targets: list[tuple[str, str]] = [("smtp", address.strip().lower()) for address in settings.digest.recipients
                                      if address.strip()]
    folder = _imap_folder(settings, mailbox)
    if folder:
        if can_append(mailbox):
            targets.append(("imap", f"{mailbox.name}:{folder}"))
        elif mailbox.digest_folder:
            log.warning("digest folder ignored: the mailbox cannot hold messages", mailbox=mailbox.name,
                        kind=mailbox.kind, folder=folder)
    if settings.digest.directory:
        targets.append(("file", str(digest_directory(settings, mailbox))))
    return list(dict.fromkeys(targets))


# --- delivering ---------------------------------------------------------------------------------------

def _claim(session: Session, digest: Digest, channel: str, target: str, now: datetime) -> tuple[DigestDelivery | None, DeliveryOutcome | None]:
    """Take this delivery for this run, committed; or say why not (done, busy, unknown, given up)."""
    row, created = store.claim_delivery(session, digest, channel, target, now=now)
    if created:
        session.commit()
        return row, None
    if row.status == "delivered":
        return None, DeliveryOutcome(channel, target, "done")
    if row.status == "failed":
        if (row.attempts or 0) >= MAX_ATTEMPTS:
            return None, DeliveryOutcome(channel, target, "given_up", row.error)
        taken = session.execute(
            update(DigestDelivery).where(DigestDelivery.id == row.id, DigestDelivery.status == "failed")
            .values(status="pending", created_at=now).execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if taken != 1:
            return None, DeliveryOutcome(channel, target, "busy")
        session.refresh(row)
        return row, None
    # pending: another process is on it, or one died on it.
    if now - row.created_at < STALE_CLAIM:
        return None, DeliveryOutcome(channel, target, "busy")
    if channel == "smtp":
        return None, DeliveryOutcome(channel, target, "unknown",
                                     "a delivery was started and never finished; not repeated by SMTP")
    taken = session.execute(
        update(DigestDelivery).where(DigestDelivery.id == row.id, DigestDelivery.status == "pending",
                                     DigestDelivery.created_at == row.created_at)
        .values(created_at=now).execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if taken != 1:
        return None, DeliveryOutcome(channel, target, "busy")
    session.refresh(row)
    return row, None


def deliver_digest(
    session: Session,
    settings: Settings,
    mailbox: MailboxConfig,
    digest: Digest,
    *,
    transport: Transport | None = None,
    appender: Appender = append_message,
    now: datetime | None = None,
) -> list[DeliveryOutcome]:
    """Deliver a made, committed digest to every configured target once (see the module docstring)."""
    now = now or utcnow()
    outcomes: list[DeliveryOutcome] = []
    for channel, target in delivery_targets(settings, mailbox):
        row, outcome = _claim(session, digest, channel, target, now)
        if outcome is not None:
            outcomes.append(outcome)
            continue
        assert row is not None
        try:
            if channel == "smtp":
                mail = digest_mail(settings, mailbox, digest, [target], target)
                (transport or transport_for(settings.smtp))(mail, [target])
            elif channel == "imap":
                folder = target.partition(":")[2]
                recipients = settings.digest.recipients or ([mailbox.address] if mailbox.address else [])
                mail = digest_mail(settings, mailbox, digest, recipients, target)
                appender(mailbox, folder, mail.as_bytes())
            else:
                write_files(settings, mailbox, digest)
        except (SmtpError, AppendError, OSError) as exc:
            store.mark_delivery(session, row, "failed", error=str(exc), now=utcnow())
            session.commit()
            log.error("digest delivery failed", mailbox=mailbox.name, period=digest.period, channel=channel,
                      target=target, error=str(exc))
            outcomes.append(DeliveryOutcome(channel, target, "failed", str(exc)))
            continue
        store.mark_delivery(session, row, "delivered", now=utcnow())
        session.commit()
        log.info("digest delivered", mailbox=mailbox.name, period=digest.period, channel=channel, target=target)
        outcomes.append(DeliveryOutcome(channel, target, "delivered"))
    return outcomes


def run_mailbox_digest(
    session: Session,
    settings: Settings,
    mailbox: MailboxConfig,
    *,
    on: date | None = None,
    now: datetime | None = None,
    transport: Transport | None = None,
    appender: Appender = append_message,
) -> DigestOutcome:
    """One digest job for one mailbox: make (or find) the period's digest, commit, deliver everywhere."""
    now = now or utcnow()
    try:
        digest, created = make_digest(session, settings, mailbox, on=on, now=now)
        session.commit()
    except DigestPeriodError as exc:
        session.rollback()
        return DigestOutcome(mailbox.name, on.isoformat() if on else "", None, False, 0, None, None, error=str(exc))
    outcome = DigestOutcome(
        mailbox=mailbox.name, period=digest.period, digest_id=digest.id, created=created,
        message_count=digest.message_count, subject=digest.subject, text=digest.body_text,
    )
    outcome.deliveries = deliver_digest(session, settings, mailbox, digest, transport=transport, appender=appender,
                                        now=now)
    log.info("digest job", mailbox=mailbox.name, period=digest.period, created=created,
             messages=digest.message_count, deliveries={f"{d.channel}:{d.target}": d.status for d in outcome.deliveries})
    return outcome


def run_all_digests(
    settings: Settings,
    *,
    sessions: sessionmaker[Session] | None = None,
    mailbox_name: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    transport: Transport | None = None,
    appender: Appender = append_message,
) -> list[DigestOutcome]:
    """The daily digest job (`triage.worker.jobs.run_digest`, `triage digest`): every mailbox, or one.

    Opens the configured database when no session factory is given. One mailbox's failure is
    logged and reported in its outcome; the others go on.
    """
    engine = None
    if sessions is None:
        from triage.db.engine import make_engine, session_factory

        engine = make_engine(settings.database_url, sqlite_immediate=True)
        sessions = session_factory(engine)
    mailboxes = [settings.mailbox(mailbox_name)] if mailbox_name else list(settings.mailboxes)
    outcomes: list[DigestOutcome] = []
    try:
        for mailbox in mailboxes:
            with sessions() as session:
                try:
                    outcomes.append(run_mailbox_digest(session, settings, mailbox, on=on, now=now, transport=transport,
                                                       appender=appender))
                except Exception as exc:  # noqa: BLE001 - one mailbox's digest never stops the others
                    session.rollback()
                    log.exception("digest job failed", mailbox=mailbox.name)
                    outcomes.append(DigestOutcome(mailbox.name, "", None, False, 0, None, None,
                                                  error=f"{type(exc).__name__}: {exc}"))
    finally:
        if engine is not None:
            engine.dispose()
    return outcomes


def write_digest_to_disk(
    session: Session, settings: Settings, mailbox_name: str, now: datetime | None = None
) -> tuple[Path, Path, str]:
    """Make (or find) today's digest of a mailbox, write its files, record it; (html path, text path, text).

    For `triage demo`: the files go to `[digest] directory` (default var/digests/<mailbox>/<day>.*),
    the delivery is recorded like any other, and the plain text comes back for printing.
    Commits.
    """
    now = now or utcnow()
    mailbox = settings.mailbox(mailbox_name)
    digest, _created = make_digest(session, settings, mailbox, now=now)
    session.commit()
    html_path, text_path = write_files(settings, mailbox, digest)
    row, created = store.claim_delivery(session, digest, "file", str(html_path.parent), now=now)
    if created or row.status != "delivered":
        store.mark_delivery(session, row, "delivered", now=now)
    session.commit()
    return html_path, text_path, digest.body_text or ""
