"""Send one message by SMTP: implicit TLS, STARTTLS or plain, the certificate checked, auth from the env.

The one place triage talks SMTP. `send_message(config, message, recipients)` connects, secures
the connection as `[smtp] tls` says (`ssl`: TLS from the first byte, port 465; `starttls`: upgrade
or fail, never fall back to plain text; `none`: for a relay on localhost only), checks the
server's certificate against the system's CAs or `ca_file` unless `verify_tls = false`, logs in
when `username` is set with the password from `password_env`/`password_file`, and hands the
message over. Errors become `SmtpError` (transient: try again later) or `SmtpConfigError`
(a person must fix the config), with a message that names the server and never the password.

`Transport` is the seam: anything called like `send_message` can stand in (the digest and the
replies take one), and the tests use the real thing against aiosmtpd on loopback.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Protocol

from triage.config import ConfigError, SmtpConfig
from triage.logs import get_logger

log = get_logger(__name__)

TLS_MODES: tuple[str, ...] = ("ssl", "starttls", "none")


class SmtpError(RuntimeError):
    """The message could not be handed to the SMTP server (connection, refusal); may work later."""


class SmtpConfigError(SmtpError):
    """SMTP cannot be used as configured (no host, no password, untrusted certificate, bad tls mode)."""


class Transport(Protocol):
    """Hands one message to the outgoing mail server for these envelope recipients."""

    def __call__(self, message: EmailMessage, recipients: Sequence[str]) -> None: ...


def envelope_recipients(message: EmailMessage) -> list[str]:
    """The addresses in To, Cc and Bcc of a message, in order, without duplicates."""
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    seen: dict[str, None] = {}
    for _name, address in getaddresses(values):
        if address and "@" in address:
            seen.setdefault(address, None)
    return list(seen)


def ssl_context(config: SmtpConfig) -> ssl.SSLContext:
    """The TLS context for the server: system CAs or `ca_file`; no checks at all if verify_tls is off."""
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SmtpConfigError(f"smtp: cannot load ca_file {config.ca_file!r}: {exc}") from None
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _where(config: SmtpConfig) -> str:
    return f"{config.host}:{config.port}"


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if not config.host:
        raise SmtpConfigError("smtp: no server is configured ([smtp] host)")
    if config.tls not in TLS_MODES:
        raise SmtpConfigError(f"smtp: tls must be one of {', '.join(TLS_MODES)}, not {config.tls!r}")
    timeout = config.timeout_seconds
    if config.tls == "ssl":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=ssl_context(config))
    client = smtplib.SMTP(config.host, config.port, timeout=timeout)
    if config.tls == "starttls":
        try:
            client.ehlo()
            if not client.has_extn("starttls"):
                raise SmtpConfigError(
                    f"smtp: {_where(config)} does not offer STARTTLS; triage will not send in plain text "
                    "(set tls = \"ssl\" for port 465, or tls = \"none\" for a relay on localhost)"
                )
            client.starttls(context=ssl_context(config))
            client.ehlo()
        except BaseException:
            _quit(client)
            raise
    return client


def _login(client: smtplib.SMTP, config: SmtpConfig, environ: Mapping[str, str] | None) -> None:
    if not config.username:
        return
    try:
        password = config.password(environ)
    except ConfigError as exc:
        raise SmtpConfigError(f"smtp: {exc}") from None
    if password is None:
        where = (f"environment variable {config.password_env}" if config.password_env
                 else f"file {config.password_file}" if config.password_file
                 else "password_env / password_file (neither is configured)")
        raise SmtpConfigError(f"smtp: username {config.username!r} is set but there is no password: {where} is not set")
    try:
        client.login(config.username, password.reveal())
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpConfigError(
            f"smtp: {_where(config)} refused the login of {config.username!r} ({exc.smtp_code}); "
            f"check {('password_env ' + repr(config.password_env)) if config.password_env else 'password_file'}"
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise SmtpConfigError(
            f"smtp: {_where(config)} offers no AUTH on this connection (it may require TLS first)"
        ) from None


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except Exception:  # noqa: BLE001 - closing a broken connection must not hide the real error
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass


def send_message(
    config: SmtpConfig,
    message: EmailMessage,
    recipients: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Hand `message` to the configured SMTP server for `recipients` (default: its To/Cc/Bcc).

    The envelope sender is `[smtp] sender`, else the From address. Bcc is never transmitted.
    Raises SmtpConfigError (fix the config) or SmtpError (try again later); returns when the
    server accepted the message for every recipient.
    """
    rcpts = list(recipients) if recipients is not None else envelope_recipients(message)
    if not rcpts:
        raise SmtpError("smtp: the message has no recipient")
    from_header = message.get("From")
    envelope_from = config.sender or (getaddresses([str(from_header)])[0][1] if from_header else "")
    del message["Bcc"]
    try:
        client = _connect(config)
    except SmtpError:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise SmtpConfigError(
            f"smtp: the TLS certificate of {_where(config)} is not trusted "
            f"({exc.verify_message or exc.reason}); set [smtp] ca_file to the CA that signed it"
        ) from None
    except ssl.SSLError as exc:
        raise SmtpConfigError(
            f"smtp: TLS with {_where(config)} failed ({exc.reason or exc}); is tls = {config.tls!r} right for "
            f"port {config.port}?"
        ) from None
    except (TimeoutError, socket.timeout):
        raise SmtpError(f"smtp: {_where(config)} did not answer within {config.timeout_seconds}s") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"smtp: cannot connect to {_where(config)}: {exc}") from None
    try:
        _login(client, config, environ)
        refused = client.send_message(message, from_addr=envelope_from, to_addrs=rcpts)
    except SmtpError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        raise SmtpError(f"smtp: {_where(config)} refused every recipient: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SmtpError(f"smtp: {_where(config)} answered {exc.smtp_code} {text}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"smtp: sending through {_where(config)} failed: {exc}") from None
    finally:
        _quit(client)
    if refused:
        raise SmtpError(f"smtp: {_where(config)} refused {', '.join(sorted(refused))}")
    log.info("smtp sent", server=_where(config), recipients=len(rcpts), message_id=message.get("Message-ID"))


def transport_for(config: SmtpConfig, *, environ: Mapping[str, str] | None = None) -> Transport:
    """A `Transport` that sends through `config` (what the digest and the replies use by default)."""

    def send(message: EmailMessage, recipients: Sequence[str]) -> None:
        send_message(config, message, recipients, environ=environ)

    return send
