"""SMTP against a real aiosmtpd server on loopback: STARTTLS, implicit TLS, plain, cert checks, AUTH."""

from __future__ import annotations

import pytest

from tests.support.dovecot import free_port
from tests.support.outbound import SmtpSink, aware
from triage.config import SmtpConfig
from triage.outbound.mail import build_message
from triage.outbound.smtp import SmtpConfigError, SmtpError, send_message

pytestmark = pytest.mark.smtp

PASSWORD = "s3cret-smtp-pw"
ENV = {"TRIAGE_TEST_SMTP_PW": PASSWORD}


def message(to: str = "chef@skane.se"):
    return build_message(subject="Test åäö", sender="triage@skane.se", to=[to], text="Hej åäö\n",
                         html="<p>Hej</p>", date=aware(2026, 2, 21, 6), message_id="<t1@skane.se>")


@pytest.fixture
def starttls_server():
    server = SmtpSink(tls="starttls", users={"triage": PASSWORD}).start()
    yield server
    server.stop()


def config(server: SmtpSink, **changes) -> SmtpConfig:
    base = dict(host="127.0.0.1", port=server.port, tls=server.tls, ca_file=str(server.cert) if server.cert else None,
                username="triage" if server.users else None, password_env="TRIAGE_TEST_SMTP_PW", sender="triage@skane.se")
    base.update(changes)
    return SmtpConfig(**base)


def test_starttls_with_verified_certificate_and_auth(starttls_server: SmtpSink) -> None:
    send_message(config(starttls_server), message(), environ=ENV)
    [got] = starttls_server.received
    assert got.mail_from == "triage@skane.se" and got.rcpt_tos == ["chef@skane.se"]
    assert got.message["Subject"] == "Test åäö" and got.message.get_content_type() == "multipart/alternative"


def test_untrusted_certificate_is_refused_with_advice(starttls_server: SmtpSink) -> None:
    with pytest.raises(SmtpConfigError, match="not trusted.*ca_file"):
        send_message(config(starttls_server, ca_file=None), message(), environ=ENV)
    assert starttls_server.received == []


def test_verification_can_be_switched_off(starttls_server: SmtpSink) -> None:
    send_message(config(starttls_server, ca_file=None, verify_tls=False), message(), environ=ENV)
    assert len(starttls_server.received) == 1


def test_wrong_password_is_a_config_error_without_the_password(starttls_server: SmtpSink) -> None:
    with pytest.raises(SmtpConfigError, match="refused the login") as info:
        send_message(config(starttls_server), message(), environ={"TRIAGE_TEST_SMTP_PW": "wrong-pw"})
    assert "wrong-pw" not in str(info.value) and PASSWORD not in str(info.value)


def test_missing_password_names_the_variable(starttls_server: SmtpSink) -> None:
    with pytest.raises(SmtpConfigError, match="TRIAGE_TEST_SMTP_PW is not set"):
        send_message(config(starttls_server), message(), environ={})


def test_implicit_tls() -> None:
    server = SmtpSink(tls="ssl").start()
    try:
        send_message(config(server), message(), environ=ENV)
        assert len(server.received) == 1
    finally:
        server.stop()


def test_plain_relay_and_no_fallback_from_starttls() -> None:
    server = SmtpSink(tls="none").start()
    try:
        send_message(config(server), message(), environ=ENV)
        assert len(server.received) == 1
        # Asked for STARTTLS, offered none: never send in plain text.
        with pytest.raises(SmtpConfigError, match="does not offer STARTTLS"):
            send_message(config(server, tls="starttls"), message(), environ=ENV)
        assert len(server.received) == 1
    finally:
        server.stop()


def test_nothing_listening_is_a_transient_error() -> None:
    with pytest.raises(SmtpError, match="cannot connect") as info:
        send_message(SmtpConfig(host="127.0.0.1", port=free_port(), tls="none", timeout_seconds=5), message())
    assert not isinstance(info.value, SmtpConfigError)


def test_no_host_configured() -> None:
    with pytest.raises(SmtpConfigError, match="no server is configured"):
        send_message(SmtpConfig(), message())
