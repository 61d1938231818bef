"""The managers' daily digest: collect the period's messages, render them, deliver them once.

`collect` gathers and groups, `render` puts it into words (Jinja2, sv/nb/en, HTML and text),
`deliver` makes the digest once and delivers it by SMTP, IMAP and to disk, once per target.
"""

from triage.outbound.digest.collect import DigestItem, DigestPeriodError, DigestView, digest_period
from triage.outbound.digest.deliver import (
    DeliveryOutcome,
    DigestOutcome,
    deliver_digest,
    make_digest,
    preview_digest,
    run_all_digests,
    run_mailbox_digest,
    write_digest_to_disk,
)
from triage.outbound.digest.render import RenderedDigest, render_digest

__all__ = [
    "DeliveryOutcome", "DigestItem", "DigestOutcome", "DigestPeriodError", "DigestView", "RenderedDigest",
    "deliver_digest", "digest_period", "make_digest", "preview_digest", "render_digest", "run_all_digests",
    "run_mailbox_digest", "write_digest_to_disk",
]
