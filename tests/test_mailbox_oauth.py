"""OAuth2 tokens for XOAUTH2: file, command, client credentials (against a local HTTP server), and a
real XOAUTH2 login to Dovecot whose oauth2 passdb asks the same local server about the token."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.support.dovecot import DovecotServer
from tests.support.intake import Account, append, db, mail, runner  # noqa: F401 - fixtures
from triage.config import MailboxConfig, OAuthConfig, Secret
from triage.mailbox import MailboxAuthError, MailboxConfigError, MailboxConnectionError
from triage.mailbox.imap import ImapMailbox
from triage.mailbox.oauth import (
    ClientCredentialsProvider,
    CommandTokenProvider,
    FileTokenProvider,
    token_provider,
    urllib_post,
)

CLIENT_SECRET = "s3cret-client-VALUE-9f2"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """A local OAuth2 token endpoint (client credentials) and token introspection (for Dovecot)."""

    def __init__(self, *, expires_in: int = 3600, user: str = "triage") -> None:
        self.expires_in = expires_in
        self.user = user
        self.issued: list[str] = []
        self.requests: list[dict[str, list[str]]] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                if self.path.endswith("/token"):
                    server.requests.append(form)
                    if server.status != 200:
                        return self._answer(server.status, {"error": "invalid_client",
                                                            "error_description": "AADSTS7000215: Invalid client secret provided."})
                    ok = form.get("client_secret") == [CLIENT_SECRET] and form.get("grant_type") == ["client_credentials"]
                    if not ok:
                        return self._answer(401, {"error": "invalid_client"})
                    token = f"token-{len(server.issued) + 1}"
                    server.issued.append(token)
                    return self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": server.expires_in})
                # Dovecot's oauth2 passdb: is this token active, and whose is it?
                token = form.get("token", [""])[0]
                active = token in server.issued[-1:]  # only the newest token is valid
                return self._answer(200, {"active": True, "username": server.user} if active else {"active": False})

            def _answer(self, status: int, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer()
    try:
        yield server
    finally:
        server.close()


def provider(server: TokenServer, clock: Clock | None = None, **kwargs) -> ClientCredentialsProvider:
    return ClientCredentialsProvider(f"{server.url}/tenant/oauth2/v2.0/token", "client-id-1", Secret(CLIENT_SECRET),
                                     "https://outlook.office365.com/.default", clock=clock or Clock(), **kwargs)


# --- providers ---------------------------------------------------------------------------------

def test_client_credentials_posts_the_form_and_caches_until_the_margin(token_server):
    clock = Clock()
    tokens = provider(token_server, clock, margin=300)
    first = tokens.token()
    assert first.value.reveal() == "token-1" and first.expires_at == 1000 + 3600
    form = token_server.requests[0]
    assert form["grant_type"] == ["client_credentials"] and form["client_id"] == ["client-id-1"]
    assert form["scope"] == ["https://outlook.office365.com/.default"]
    clock.now += 3600 - 301
    assert tokens.token().value.reveal() == "token-1" and tokens.requests == 1  # still fresh enough
    clock.now += 2
    assert tokens.token().value.reveal() == "token-2" and tokens.requests == 2  # refreshed before expiry
    tokens.invalidate()
    assert tokens.token().value.reveal() == "token-3"


def test_client_credentials_errors_are_sorted_and_never_show_the_secret(token_server):
    token_server.status = 401
    with pytest.raises(MailboxAuthError) as caught:
        provider(token_server).token()
    assert "invalid_client" in str(caught.value) and "AADSTS7000215" in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)
    token_server.status = 503
    with pytest.raises(MailboxConnectionError):
        provider(token_server).token()
    unreachable = ClientCredentialsProvider("http://127.0.0.1:9/token", "c", Secret(CLIENT_SECRET), "s")
    with pytest.raises(MailboxConnectionError):
        unreachable.token()
    assert CLIENT_SECRET not in repr(provider(token_server))


def test_token_from_a_file_is_read_at_every_login(tmp_path):
    path = tmp_path / "token"
    path.write_text("first-token\n")
    tokens = FileTokenProvider(str(path))
    assert tokens.token().value.reveal() == "first-token"
    path.write_text(json.dumps({"access_token": "second-token", "expires_in": 600}))
    assert tokens.token().value.reveal() == "second-token"
    with pytest.raises(MailboxConfigError):
        FileTokenProvider(str(tmp_path / "missing")).token()


def test_token_from_a_command_is_cached_by_its_expiry(tmp_path):
    counter = tmp_path / "count"
    script = tmp_path / "get_token.py"
    script.write_text(
        "import json, pathlib\n"
        f"p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n))\n"
        "print(json.dumps({'access_token': f'cmd-token-{n}', 'expires_in': 3600}))\n"
    )
    clock = Clock()
    tokens = CommandTokenProvider(f"{sys.executable} {script}", margin=300, clock=clock)
    assert tokens.token().value.reveal() == "cmd-token-1"
    assert tokens.token().value.reveal() == "cmd-token-1"
    clock.now += 3400
    assert tokens.token().value.reveal() == "cmd-token-2"
    failing = CommandTokenProvider(f"{sys.executable} -c \"import sys; sys.stderr.write('az: not logged in'); sys.exit(3)\"")
    with pytest.raises(MailboxAuthError) as caught:
        failing.token()
    assert "exit status 3" in str(caught.value) and "not logged in" in str(caught.value)


def test_token_provider_from_config_says_what_is_missing(token_server):
    with pytest.raises(MailboxConfigError, match="TRIAGE_TEST_NO_SUCH_SECRET"):
        token_provider(OAuthConfig(tenant="region.se", client_id="c", client_secret_env="TRIAGE_TEST_NO_SUCH_SECRET"),
                       environ={})
    with pytest.raises(MailboxConfigError, match="xoauth2 needs"):
        token_provider(OAuthConfig())
    made = token_provider(OAuthConfig(tenant="region.se", client_id="c", client_secret_env="S"), environ={"S": "x"})
    assert made.token_url == "https://login.microsoftonline.com/region.se/oauth2/v2.0/token"


def test_urllib_post_returns_http_errors_as_answers(token_server):
    status, body = urllib_post(f"{token_server.url}/t/token", b"grant_type=password", {}, 5)
    assert status == 401 and json.loads(body)["error"] == "invalid_client"


# --- XOAUTH2 against Dovecot -------------------------------------------------------------------

class OAuthDovecot(DovecotServer):
    """The harness's Dovecot plus XOAUTH2: tokens are checked by introspection at `introspection_url`."""

    introspection_url: str = ""

    def write_config(self) -> Path:
        path = super().write_config()
        settings = self.root / "dovecot-oauth2.conf.ext"
        settings.write_text(
            f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
        )
        text = path.read_text()
        text = text.replace("auth_mechanisms = plain login", "auth_mechanisms = plain login xoauth2 oauthbearer")
        text = text.replace("passdb {", f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                                         f"  args = {settings}\n}}\npassdb {{", 1)
        path.write_text(text)
        return path


@pytest.fixture
def oauth_dovecot(token_server) -> Iterator[Account]:
    server = OAuthDovecot()
    server.introspection_url = f"{token_server.url}/introspect"
    server.start()
    try:
        yield Account(server)
    finally:
        server.cleanup()


@pytest.mark.dovecot
def test_xoauth2_login_with_client_credentials_and_refresh(oauth_dovecot, token_server, db):
    append(oauth_dovecot, mail(), mail())
    config = MailboxConfig(
        name="m365", kind="imap", host="127.0.0.1", port=oauth_dovecot.port, tls="none", username="triage",
        auth="xoauth2", oauth=OAuthConfig(token_url=f"{token_server.url}/tenant/token", client_id="client-id-1",
                                          client_secret_env="TRIAGE_TEST_CLIENT_SECRET", refresh_margin_seconds=300),
    )
    clock = Clock()  # one clock for the token's expiry and the mailbox's idea of it
    environ = {"TRIAGE_TEST_CLIENT_SECRET": CLIENT_SECRET}
    source = ImapMailbox(config, environ=environ, tokens=token_provider(config.oauth, environ=environ, clock=clock),
                         clock=clock)
    worker = runner(db, config, source=source)
    report = worker.poll()
    assert report.error is None and report.processed == 2
    assert token_server.issued == ["token-1"]
    assert worker.poll().round_trips == 1 and token_server.issued == ["token-1"]  # cached, same session

    # The token nears its expiry: the next poll logs in again with a fresh one, unasked.
    clock.now += 3600 - 299
    append(oauth_dovecot, mail())
    report = worker.poll()
    assert report.error is None and report.processed == 1
    assert token_server.issued == ["token-1", "token-2"]
    worker.close()


@pytest.mark.dovecot
def test_xoauth2_refused_token_is_a_clear_auth_error(oauth_dovecot, token_server, tmp_path, db):
    token_file = tmp_path / "token"
    token_file.write_text("a-revoked-token")
    config = MailboxConfig(
        name="m365", kind="imap", host="127.0.0.1", port=oauth_dovecot.port, tls="none", username="triage",
        auth="xoauth2", oauth=OAuthConfig(token_file=str(token_file)),
    )
    report = runner(db, config).poll()
    assert report.stopped and "XOAUTH2" in report.error and "AUTHENTICATIONFAILED" in report.error
    assert "a-revoked-token" not in report.error
