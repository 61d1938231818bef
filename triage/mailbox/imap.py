"""An IMAP function mailbox on imapclient: TLS, LOGIN / PLAIN / XOAUTH2, UIDs, IDLE, filing.

What the worker relies on, and how this module keeps it cheap and safe:

- **One round trip for an unchanged mailbox.** `select()` is one SELECT (EXAMINE in dry runs);
  its answer carries UIDVALIDITY, UIDNEXT and, once CONDSTORE is enabled at login,
  HIGHESTMODSEQ, which is all the worker needs to see that nothing arrived.
- **Reading never marks mail read.** Bodies are fetched with `BODY.PEEK[]`, so `\\Seen` stays
  as the people sharing the mailbox left it.
- **Filing works without MOVE.** With MOVE (RFC 6851): `UID MOVE`. Without (Exchange Online):
  `UID COPY`, `\\Deleted`, then `UID EXPUNGE` (UIDPLUS) so that only our messages are expunged;
  a server without UIDPLUS keeps them flagged `\\Deleted` for its clients to expunge, because a
  plain EXPUNGE would also remove mail other people deleted.
- **Errors are sorted** into connection trouble (retry), refused credentials (stop the mailbox),
  and configuration mistakes (untrusted certificate, missing secret), each with a clear message.
- **Round trips are counted** (every tagged command) for the benchmark and the tests.

`client_factory` is the seam for unit tests (STYLE habit 7): it is called like `IMAPClient`.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.response_parser import parse_fetch_response

from triage.config import MailboxConfig, Secret
from triage.logs import get_logger
from triage.mailbox.base import (
    Fetched,
    FolderState,
    Listing,
    MailboxAuthError,
    MailboxConfigError,
    MailboxConnectionError,
    MailboxError,
    MessageKey,
    header_message_id,
)
from triage.mailbox.oauth import TokenProvider

log = get_logger(__name__)

DELETED = b"\\Deleted"
#: Response codes that mean "try again later", not "wrong password" (RFC 5530).
TRANSIENT_LOGIN_CODES = ("UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT")


def uid_set(uids: Sequence[int]) -> str:
    """A compact IMAP sequence set: [1, 2, 3, 7, 9, 10] → "1:3,7,9:10"."""
    ordered = sorted(set(int(u) for u in uids))
    if not ordered:
        raise ValueError("an empty UID set")
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def _text(exc: BaseException) -> str:
    """An imaplib/imapclient error as one readable line (their messages hold bytes reprs)."""
    text = str(exc)
    for prefix in ("b'", 'b"'):
        text = text.replace(prefix, "")
    return text.rstrip("'\"").strip() or type(exc).__name__


class ImapMailbox:
    """One IMAP function mailbox (see the module docstring); not shared between threads."""

    kind = "imap"
    uses_uids = True
    can_file = True

    def __init__(
        self,
        config: MailboxConfig,
        *,
        environ: Mapping[str, str] | None = None,
        tokens: TokenProvider | None = None,
        client_factory: Callable[..., Any] = IMAPClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.name = config.name
        self._environ = environ
        self._tokens = tokens
        self._client_factory = client_factory
        self._clock = clock
        self._client: Any = None
        self._readonly = False
        self._capabilities: frozenset[bytes] = frozenset()
        self._delimiter = "/"
        self._keywords_allowed = True
        self._token_expires_at: float | None = None
        self._exists: int | None = None
        self.round_trips = 0
        self.port = config.port or (993 if config.tls == "ssl" else 143)

    def __repr__(self) -> str:
        return f"ImapMailbox({self.name!r}, {self.config.username!r}@{self.config.host}:{self.port})"

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.port}"

    # --- connection --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client is not None

    def connect(self, *, readonly: bool = False) -> None:
        """Connect and log in unless already connected (and the OAuth token still fresh)."""
        if self._client is not None and readonly == self._readonly and not self._token_expiring():
            return
        self.close()
        self._readonly = readonly
        context = self._ssl_context()
        with self._guard("connecting"):
            client = self._client_factory(
                self.config.host, port=self.port, ssl=self.config.tls == "ssl",
                ssl_context=context if self.config.tls == "ssl" else None, timeout=self.config.timeout_seconds,
            )
        self._client = client
        self._count_round_trips(client)
        try:
            with self._guard("connecting"):
                client.normalise_times = False  # keep INTERNALDATE's zone: stored as UTC
                if self.config.tls == "starttls":
                    if b"STARTTLS" not in {c.upper() for c in client.capabilities()}:
                        raise MailboxConfigError(
                            f"{self.where} does not offer STARTTLS: use tls = \"ssl\" (port 993) or fix the server"
                        )
                    client.starttls(context)
            self._login(client)
            with self._guard("reading capabilities"):
                self._capabilities = frozenset(c.upper() for c in client.capabilities())
                if b"CONDSTORE" in self._capabilities and b"ENABLE" in self._capabilities:
                    # After this, SELECT answers with HIGHESTMODSEQ: still one round trip per poll.
                    client.enable("CONDSTORE")
                self._prepare_folders(client, create=not readonly)
        except BaseException:
            self.close()
            raise
        log.debug("imap connected", mailbox=self.name, server=self.where, tls=self.config.tls,
                  capabilities=sorted(c.decode() for c in self._capabilities if c in (b"MOVE", b"CONDSTORE", b"UIDPLUS", b"IDLE")))

    def close(self) -> None:
        client, self._client = self._client, None
        self._exists = None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - closing a broken connection must not fail
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.config.tls == "none":
            return None
        try:
            context = ssl.create_default_context(cafile=self.config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxConfigError(f"mailbox {self.name!r}: cannot load ca_file {self.config.ca_file!r}: {exc}") from None
        if not self.config.verify_tls:
            log.warning("TLS certificate verification is off", mailbox=self.name, server=self.where)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _count_round_trips(self, client: Any) -> None:
        """Count every tagged command: each is one round trip (imapclient sends them one by one)."""
        imap = getattr(client, "_imap", None)
        new_tag = getattr(imap, "_new_tag", None)
        if new_tag is None:
            return

        def counting_new_tag(*args: Any, **kwargs: Any) -> Any:
            self.round_trips += 1
            return new_tag(*args, **kwargs)

        imap._new_tag = counting_new_tag

    def _token_expiring(self) -> bool:
        if self._token_expires_at is None:
            return False
        margin = self.config.oauth.refresh_margin_seconds
        return self._clock() >= self._token_expires_at - margin

    def _login(self, client: Any) -> None:
        user = self.config.username
        if not user:
            raise MailboxConfigError(f"mailbox {self.name!r}: username is not set")
        auth = self.config.auth
        if auth == "xoauth2":
            if self._tokens is None:
                raise MailboxConfigError(f"mailbox {self.name!r}: auth = xoauth2 but no OAuth token source")
            refused: Secret | None = None
            failure: BaseException = LoginError("XOAUTH2 refused")
            while True:
                token = self._tokens.token()
                if refused is not None and token.value == refused:
                    self._login_failed(failure, "XOAUTH2")  # the same token again: no point asking twice
                try:
                    with self._guard("logging in"):
                        client.oauth2_login(user, token.value.reveal())
                    self._token_expires_at = token.expires_at
                    return
                except LoginError as exc:
                    # Refused (revoked, expired early): forget it and try once with a fresh one.
                    self._tokens.invalidate()
                    if refused is not None or self._transient_login(exc):
                        self._login_failed(exc, "XOAUTH2")
                    refused, failure = token.value, exc
        password = self._password()
        try:
            with self._guard("logging in"):
                if auth == "plain":
                    client.plain_login(user, password.reveal())
                else:
                    client.login(user, password.reveal())
        except LoginError as exc:
            self._login_failed(exc, "AUTHENTICATE PLAIN" if auth == "plain" else "LOGIN")

    def _password(self) -> Secret:
        try:
            password = self.config.password(self._environ)
        except Exception as exc:  # noqa: BLE001 - ConfigError: the password file is missing
            raise MailboxConfigError(f"mailbox {self.name!r}: {exc}") from None
        if password is None:
            where = (f"environment variable {self.config.password_env}" if self.config.password_env
                     else f"file {self.config.password_file}" if self.config.password_file
                     else "password_env / password_file (neither is configured)")
            raise MailboxConfigError(f"mailbox {self.name!r}: no password: {where} is not set")
        return password

    @staticmethod
    def _transient_login(exc: BaseException) -> bool:
        text = str(exc).upper()
        return any(f"[{code}" in text for code in TRANSIENT_LOGIN_CODES)

    def _login_failed(self, exc: BaseException, mechanism: str) -> None:
        reason = _text(exc)
        if self._transient_login(exc):
            raise MailboxConnectionError(f"{self.where} cannot log in right now ({mechanism}): {reason}") from None
        source = ("the token from [mailbox.oauth]" if mechanism == "XOAUTH2"
                  else f"password_env {self.config.password_env!r}" if self.config.password_env
                  else f"password_file {self.config.password_file!r}")
        raise MailboxAuthError(
            f"{self.where} refused the login of user {self.config.username!r} ({mechanism}): {reason} (check {source})"
        ) from None

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn socket, TLS and IMAP errors into MailboxErrors that say what to do."""
        try:
            yield
        except (MailboxError, LoginError):
            raise
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise MailboxConfigError(
                f"{self.where}: the server's TLS certificate is not trusted ({exc.verify_message or exc.reason}); "
                "set ca_file to the CA that signed it"
            ) from None
        except ssl.SSLError as exc:
            self._drop()
            if exc.reason in ("WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "HTTP_REQUEST"):
                raise MailboxConfigError(
                    f"{self.where}: TLS failed ({exc.reason}); is tls = {self.config.tls!r} right for port {self.port}?"
                ) from None
            raise MailboxConnectionError(f"{self.where}: TLS error while {doing}: {exc.reason or exc}") from None
        except (TimeoutError, socket.timeout):
            self._drop()
            raise MailboxConnectionError(
                f"{self.where}: timed out after {self.config.timeout_seconds}s while {doing}"
            ) from None
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            self._drop()
            raise MailboxConnectionError(f"{self.where}: connection lost while {doing}: {_text(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self.where}: {doing} failed: {_text(exc)}") from None

    def _drop(self) -> None:
        """Forget a connection that is broken; the next call reconnects."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def _live(self) -> Any:
        if self._client is None:
            raise MailboxConnectionError(f"{self.where}: not connected")
        return self._client

    # --- folders -----------------------------------------------------------------------------

    def server_folder(self, folder: str) -> str:
        """A folder name from the config ("Triage/Processed") in the server's hierarchy delimiter."""
        if self._delimiter and self._delimiter != "/":
            return folder.replace("/", self._delimiter)
        return folder

    def _prepare_folders(self, client: Any, *, create: bool) -> None:
        folders = client.list_folders()
        names = {name for _flags, _delim, name in folders}
        for _flags, delimiter, name in folders:
            if name.upper() == "INBOX" and delimiter:
                self._delimiter = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
        if not create:
            return
        wanted = [self.config.processed_folder, self.config.review_folder, self.config.failed_folder]
        for folder in dict.fromkeys(f for f in wanted if f and f.upper() != "INBOX"):
            name = self.server_folder(folder)
            if name in names:
                continue
            try:
                client.create_folder(name)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                if "ALREADYEXISTS" not in str(exc).upper():
                    raise MailboxConfigError(f"{self.where}: cannot create folder {name!r}: {_text(exc)}") from None
            try:
                client.subscribe_folder(name)  # so that Outlook and webmail show it
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error:
                pass
            log.info("imap folder created", mailbox=self.name, folder=name)

    # --- reading -----------------------------------------------------------------------------

    def select(self) -> FolderState:
        """SELECT (EXAMINE when read-only) the watched folder: one round trip."""
        client = self._live()
        folder = self.server_folder(self.config.folder)
        with self._guard(f"selecting {folder!r}"):
            info = client.select_folder(folder, readonly=self._readonly)
        flags = info.get(b"PERMANENTFLAGS", ())
        keyword = self.config.keyword.encode()
        # A server that cannot keep new keywords (no \* in PERMANENTFLAGS) gets moves only.
        self._keywords_allowed = self._readonly or b"\\*" in flags or keyword in flags
        self._exists = info.get(b"EXISTS")
        return FolderState(
            uidvalidity=info.get(b"UIDVALIDITY"),
            uidnext=info.get(b"UIDNEXT"),
            highestmodseq=info.get(b"HIGHESTMODSEQ"),
            exists=self._exists,
        )

    def _uid_fetch(self, uids: str, items: str) -> dict[int, dict[bytes, Any]]:
        """UID FETCH of a sequence set ("5:*" included), which imapclient's fetch() cannot filter.

        Same steps as IMAPClient.fetch, minus its filter of the answer by a list of ints.
        """
        client = self._live()
        imap = client._imap
        tag = imap._command("UID", "FETCH", uids, items)
        typ, data = imap._command_complete("FETCH", tag)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH failed: {_text(Exception(data[0] if data else typ))}")
        typ, data = imap._untagged_response(typ, data, "FETCH")
        return dict(parse_fetch_response(data, False, True))

    def list_messages(self, after: int | None = None, *, message_ids: bool = False) -> list[Listing]:
        """The UIDs above `after` with their sizes (and Message-IDs, for a re-scan): one round trip."""
        if self._exists == 0:
            return []
        start = (after or 0) + 1
        items = "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])" if message_ids else "(UID RFC822.SIZE)"
        with self._guard("listing messages"):
            data = self._uid_fetch(f"{start}:*", items)
        listings = []
        for uid, item in sorted(data.items()):
            if uid < start:  # "n:*" names the highest UID even when it is below n (RFC 3501 §6.4.8)
                continue
            header = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER.FIELDS")), None)
            listings.append(Listing(key=uid, size=item.get(b"RFC822.SIZE"), message_id=header_message_id(header)))
        return listings

    def fetch(self, keys: Sequence[MessageKey]) -> list[Fetched]:
        """The messages' bytes with BODY.PEEK[] (never sets \\Seen) and INTERNALDATE, in one command.

        If the server refuses the batch (one broken message can make Exchange say NO), each
        message is fetched alone so that only the broken one comes back with an error.
        """
        uids = sorted(int(k) for k in keys)
        if not uids:
            return []
        try:
            with self._guard("fetching messages"):
                data = self._uid_fetch(uid_set(uids), "(UID BODY.PEEK[] INTERNALDATE)")
        except MailboxConnectionError:
            raise
        except MailboxError:
            if len(uids) == 1:
                raise
            data = {}
            for uid in uids:
                try:
                    with self._guard("fetching a message"):
                        data.update(self._uid_fetch(str(uid), "(UID BODY.PEEK[] INTERNALDATE)"))
                except MailboxConnectionError:
                    raise
                except MailboxError as exc:
                    data[uid] = {b"ERROR": str(exc)}
        out = []
        for uid in uids:
            item = data.get(uid)
            if item is None:
                continue  # expunged since it was listed: someone else took it
            origin = None  # an IMAP message's place is (UIDVALIDITY, UID), stored as such
            raw = item.get(b"BODY[]")
            if raw is None:
                error = item.get(b"ERROR") or "the server returned no body for this message"
                out.append(Fetched(key=uid, raw=None, origin=origin, error=f"fetch: {error}"))
                continue
            received = item.get(b"INTERNALDATE")
            if isinstance(received, datetime):
                received = received.astimezone(UTC) if received.tzinfo else received.replace(tzinfo=UTC)
            else:
                received = None
            out.append(Fetched(key=uid, raw=bytes(raw), received_at=received, origin=origin))
        return out

    def present(self, keys: Sequence[MessageKey]) -> set[MessageKey]:
        """Which of these UIDs are still in the watched folder: one UID SEARCH."""
        uids = [int(k) for k in keys]
        if not uids:
            return set()
        with self._guard("searching"):
            found = self._live().search(["UID", uid_set(uids)])
        return set(int(u) for u in found) & set(uids)

    # --- writing -----------------------------------------------------------------------------

    def file(self, keys: Sequence[MessageKey], destination: str | None, *, keyword: str | None,
             recovering: bool = False) -> None:
        """Tag with `keyword`, then move to `destination` (MOVE, else COPY + \\Deleted + UID EXPUNGE).

        The keyword goes first, so the moved copy carries it too. `recovering` (filing after a
        crash) first looks for messages already flagged \\Deleted by us: their COPY was done.
        """
        if self._readonly:
            raise MailboxError(f"mailbox {self.name!r} is open read-only (dry run): nothing may be filed")
        uids = sorted(int(k) for k in keys)
        if not uids:
            return
        client = self._live()
        uidset = uid_set(uids)
        with self._guard("filing messages"):
            if keyword and self._keywords_allowed:
                client.add_flags(uidset, [keyword], silent=True)
            if not destination or destination == self.config.folder:
                return
            target = self.server_folder(destination)
            if b"MOVE" in self._capabilities:
                client.move(uidset, target)
                return
            to_copy = uids
            if recovering:
                flags = client.fetch(uids, ["FLAGS"])
                to_copy = [uid for uid in uids if DELETED not in flags.get(uid, {}).get(b"FLAGS", ())]
            if to_copy:
                client.copy(uid_set(to_copy), target)
            client.add_flags(uidset, [DELETED], silent=True)
            if b"UIDPLUS" in self._capabilities:
                client.uid_expunge(uidset)

    def append(self, folder: str, raw: bytes, *, flags: Sequence[str] = (), received_at: datetime | None = None) -> None:
        """APPEND a message to a folder of this mailbox."""
        with self._guard(f"appending to {folder!r}"):
            self._live().append(self.server_folder(folder), raw, flags=tuple(flags), msg_time=received_at)

    # --- waiting -----------------------------------------------------------------------------

    def supports_idle(self) -> bool:
        return b"IDLE" in self._capabilities

    def wait_for_change(self, timeout: float, stop: threading.Event) -> bool:
        """IDLE on the selected folder until new mail (EXISTS), `timeout`, or `stop`; then DONE.

        Checks in one-second slices so a shutdown never waits long. A BYE or a closed socket
        raises MailboxConnectionError (the worker reconnects).
        """
        client = self._live()
        changed = False
        with self._guard("starting IDLE"):
            client.idle()
        try:
            deadline = self._clock() + timeout
            while not stop.is_set() and not changed:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                slice_ = min(1.0, remaining)
                started = self._clock()
                with self._guard("waiting in IDLE"):
                    responses = client.idle_check(timeout=slice_)
                for response in responses:
                    if len(response) >= 2 and response[0] == b"BYE":
                        raise MailboxConnectionError(f"{self.where} ended the session: {_text(Exception(response[1]))}")
                    if len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT"):
                        changed = True
                if not responses and self._clock() - started < slice_ / 2:
                    # Woken with nothing to read: imapclient swallows EOF, so the server has gone.
                    raise MailboxConnectionError(f"{self.where} closed the connection during IDLE")
        except MailboxConnectionError:
            self._drop()
            raise
        with self._guard("ending IDLE"):
            client.idle_done()
        return changed
