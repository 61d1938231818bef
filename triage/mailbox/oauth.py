"""OAuth2 access tokens for IMAP `XOAUTH2`: from a file, from a command, or by client credentials.

Most Swedish regions run Microsoft 365, where basic auth for IMAP is off. A mailbox's
`[mailbox.oauth]` table names one way to get a token:

- `token_file`: a file another process keeps fresh; read again at every login;
- `token_command`: a command (no shell) that prints the token, or JSON with `access_token` and
  `expires_in`; its answer is cached until shortly before it expires;
- `tenant` + `client_id` + `client_secret_env`/`client_secret_file`: the client-credentials flow
  against Entra ID (`token_url` overrides the endpoint, e.g. for tests), cached and refreshed
  `refresh_margin_seconds` before expiry.

Tokens and client secrets travel as `Secret` and never reach a log line or an error message.
The HTTP call is injected (`http_post`), so tests talk to a local server instead of Microsoft.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from triage.config import OAuthConfig, Secret, resolve_secret
from triage.mailbox.base import MailboxAuthError, MailboxConfigError, MailboxConnectionError

#: (url, form body, headers, timeout seconds) -> (HTTP status, response body).
HttpPost = Callable[[str, bytes, Mapping[str, str], float], tuple[int, bytes]]

MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
#: How long a token command may take before it counts as failed.
COMMAND_TIMEOUT_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it stops working (monotonic clock; None: unknown)."""

    value: Secret
    expires_at: float | None = None


class TokenProvider(Protocol):
    """Hands out a token that is valid for at least the refresh margin."""

    def token(self) -> AccessToken:
        """A usable token, fetched or refreshed when needed."""

    def invalidate(self) -> None:
        """Forget the cached token (the server refused it); the next call gets a new one."""


def urllib_post(url: str, data: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """POST with the standard library (certificate verification on); HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https URL from config
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _parse_token_answer(text: str, now: float) -> AccessToken:
    """A token from a command's output: JSON with access_token (+ expires_in) or the bare token."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise MailboxAuthError("the token command printed something that is neither a token nor JSON") from None
        value = data.get("access_token") or data.get("accessToken")
        if not value:
            raise MailboxAuthError("the token command's JSON has no access_token")
        expires_at = None
        if data.get("expires_in") is not None:
            expires_at = now + float(data["expires_in"])
        return AccessToken(Secret(str(value)), expires_at)
    if not text or any(ch.isspace() for ch in text):
        raise MailboxAuthError("the token command printed no token (expected one line, or JSON with access_token)")
    return AccessToken(Secret(text), None)


class FileTokenProvider:
    """The token in a file that something else keeps fresh; read at every login."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def token(self) -> AccessToken:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MailboxConfigError(f"cannot read the OAuth token file {str(self.path)!r}: {exc.strerror or exc}") from None
        return _parse_token_answer(text, time.monotonic())

    def invalidate(self) -> None:
        """Nothing cached: the file is read again next time."""


class CommandTokenProvider:
    """The token a command prints; cached until `margin` seconds before the expiry it states."""

    def __init__(self, command: str, *, margin: float = 300, clock: Callable[[], float] = time.monotonic,
                 runner: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise MailboxConfigError("oauth.token_command is empty")
        self.margin = margin
        self._clock = clock
        self._run = runner
        self._cached: AccessToken | None = None
        self._lock = threading.Lock()

    def token(self) -> AccessToken:
        with self._lock:
            now = self._clock()
            cached = self._cached
            if cached is not None and cached.expires_at is not None and now < cached.expires_at - self.margin:
                return cached
            try:
                done = self._run(self.argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False)
            except subprocess.TimeoutExpired:
                raise MailboxConnectionError(f"the token command {self.argv[0]!r} took over {COMMAND_TIMEOUT_SECONDS}s") from None
            except OSError as exc:
                raise MailboxConfigError(f"cannot run the token command {self.argv[0]!r}: {exc.strerror or exc}") from None
            if done.returncode != 0:
                # stderr is shown (cut short) because it explains the failure; stdout may hold a token.
                detail = (done.stderr or "").strip().splitlines()
                raise MailboxAuthError(
                    f"the token command {self.argv[0]!r} failed with exit status {done.returncode}"
                    + (f": {detail[0][:200]}" if detail else "")
                )
            self._cached = _parse_token_answer(done.stdout or "", now)
            return self._cached

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None


class ClientCredentialsProvider:
    """The OAuth2 client-credentials flow (Entra ID app with IMAP.AccessAsApp), cached and refreshed."""

    def __init__(self, token_url: str, client_id: str, client_secret: Secret, scope: str, *, margin: float = 300,
                 http_post: HttpPost = urllib_post, clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.margin = margin
        self._post = http_post
        self._clock = clock
        self._cached: AccessToken | None = None
        self._lock = threading.Lock()
        self.requests = 0  # how many times the endpoint was asked (tests, metrics)

    def __repr__(self) -> str:
        return f"ClientCredentialsProvider(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def token(self) -> AccessToken:
        with self._lock:
            now = self._clock()
            cached = self._cached
            if cached is not None and (cached.expires_at is None or now < cached.expires_at - self.margin):
                return cached
            self._cached = self._request(now)
            return self._cached

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _request(self, now: float) -> AccessToken:
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret.reveal(),
            "scope": self.scope,
        }).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        self.requests += 1
        try:
            status, answer = self._post(self.token_url, body, headers, HTTP_TIMEOUT_SECONDS)
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise MailboxConnectionError(f"cannot reach the token endpoint {self.token_url}: {reason}") from None
        try:
            data = json.loads(answer.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = {}
        if status >= 500 or status == 429:
            raise MailboxConnectionError(f"the token endpoint {self.token_url} answered HTTP {status}; retrying later")
        if status != 200 or not data.get("access_token"):
            # error/error_description are Entra's explanation; they never contain the secret.
            error = data.get("error") or f"HTTP {status}"
            description = str(data.get("error_description") or "").splitlines()
            raise MailboxAuthError(
                f"the token endpoint {self.token_url} refused client {self.client_id!r}: {error}"
                + (f" ({description[0][:200]})" if description else "")
            )
        expires_in = data.get("expires_in")
        expires_at = now + float(expires_in) if expires_in is not None else None
        return AccessToken(Secret(str(data["access_token"])), expires_at)


def token_provider(
    oauth: OAuthConfig,
    *,
    environ: Mapping[str, str] | None = None,
    http_post: HttpPost = urllib_post,
    clock: Callable[[], float] = time.monotonic,
) -> TokenProvider:
    """The provider a mailbox's `[mailbox.oauth]` table asks for; says clearly what is missing."""
    if oauth.token_file:
        return FileTokenProvider(oauth.token_file)
    if oauth.token_command:
        return CommandTokenProvider(oauth.token_command, margin=oauth.refresh_margin_seconds, clock=clock)
    if oauth.client_id and (oauth.tenant or oauth.token_url):
        try:
            secret = resolve_secret(oauth.client_secret_env, oauth.client_secret_file, environ)
        except Exception as exc:  # noqa: BLE001 - ConfigError: the named secret file is missing
            raise MailboxConfigError(str(exc)) from None
        if secret is None:
            where = oauth.client_secret_env or oauth.client_secret_file or "client_secret_env"
            raise MailboxConfigError(f"the OAuth client secret is not set (looked for {where})")
        url = oauth.token_url or MICROSOFT_TOKEN_URL.format(tenant=urllib.parse.quote(oauth.tenant or "", safe=""))
        return ClientCredentialsProvider(
            url, oauth.client_id, secret, oauth.scope, margin=oauth.refresh_margin_seconds, http_post=http_post, clock=clock
        )
    raise MailboxConfigError(
        "auth = xoauth2 needs [mailbox.oauth] token_file, token_command, or tenant + client_id + client_secret_env"
    )
