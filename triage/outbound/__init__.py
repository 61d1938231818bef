"""What leaves triage: the managers' digest and the replies to suppliers.

- `smtp` sends one message by SMTP (TLS, STARTTLS or none; certificate checked; auth from the
  environment-backed secret of the config).
- `imap` appends one message to a folder of a configured mailbox (digest folder, Drafts).
- `digest/` collects a period's messages (`collect`), renders them with Jinja2 in sv/nb/en
  (`render`, templates in `templates/`), and delivers them by SMTP, IMAP and to disk, each
  delivery claimed and recorded once (`deliver`).
- `replies/` composes the reply that asks a supplier for exactly what is missing (`compose`),
  refuses to answer what must never be answered (`loop`, RFC 3834), keeps to one reply per
  original and a daily limit per sender (`limits`), and drafts or sends it (`dispatch`).
- `hooks` plugs reply drafting into the worker; `send` is the review UI's Send button.

This package may use the database and the result types; the judging stages never import it.
"""
