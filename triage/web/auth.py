"""Who may use the review UI: Argon2 passwords, users from the config and the database, roles,
CSRF tokens and a limit on login attempts.

Passwords exist only in the request that carries them: they are hashed with Argon2id
(argon2-cffi), compared in constant time, and never logged or stored. A user named in the
config wins over a database user of the same name, so an operator can always get in.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from triage.config import Settings
from triage.db import store
from triage.db.schema import USER_ROLES, utcnow

ROLES: tuple[str, ...] = USER_ROLES
#: What each role may do beyond reading: reviewers correct and send replies; managers also see
#: the agreement report and the list of users.
MANAGER = "manager"
REVIEWER = "reviewer"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id PHC string for `password` (the only form a password is ever kept in)."""
    if not password:
        raise ValueError("an empty password cannot be set")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the Argon2 hash; False for a missing or malformed hash."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so an unknown name costs as much time as a
    # wrong password and response times do not tell which user names exist.
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class WebUser:
    """A logged-in person: name, role, and where the account is kept (config or database)."""

    username: str
    role: str
    display_name: str | None = None
    source: str = "database"

    @property
    def is_manager(self) -> bool:
        return self.role == MANAGER

    @property
    def label(self) -> str:
        return self.display_name or self.username


def config_user(settings: Settings, username: str):
    """The [[web.users]] entry of this name, or None."""
    for user in settings.web.users:
        if user.name == username:
            return user
    return None


def check_config_users(settings: Settings) -> None:
    """Refuse a config whose users have an unknown role or a hash that is not Argon2."""
    for user in settings.web.users:
        if not user.name:
            raise ValueError("web.users: every user needs a name")
        if user.role not in ROLES:
            raise ValueError(f"web.users {user.name!r}: role must be one of {', '.join(ROLES)}, not {user.role!r}")
        if not user.password_hash.startswith("$argon2"):
            raise ValueError(
                f"web.users {user.name!r}: password_hash must be an Argon2 hash (make one with `triage users hash`)"
            )


def authenticate(session: Session, settings: Settings, username: str, password: str) -> WebUser | None:
    """The user if `password` is right for `username` (config first, then the database), else None.

    A database user's last login is noted and an outdated hash is upgraded; the caller commits.
    """
    username = username.strip()
    entry = config_user(settings, username)
    if entry is not None:
        if verify_password(entry.password_hash, password):
            return WebUser(entry.name, entry.role, entry.display_name, source="config")
        return None
    row = store.get_user(session, username) if username else None
    if row is None or not row.active or not row.password_hash:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(row.password_hash, password):
        return None
    if needs_rehash(row.password_hash):
        store.set_password_hash(session, row, hash_password(password))
    row.last_login_at = utcnow()
    session.flush()
    return WebUser(row.username, row.role, row.display_name, source="database")


def load_user(session: Session, settings: Settings, username: str | None) -> WebUser | None:
    """The user a session cookie names, if that account still exists and is active."""
    if not username:
        return None
    entry = config_user(settings, username)
    if entry is not None:
        return WebUser(entry.name, entry.role, entry.display_name, source="config")
    row = store.get_user(session, username)
    if row is None or not row.active or row.role not in ROLES:
        return None
    return WebUser(row.username, row.role, row.display_name, source="database")


# --- CSRF ---------------------------------------------------------------------------------------

CSRF_FIELD = "csrf_token"
CSRF_SESSION_KEY = "csrf"


def csrf_token(session_data: dict) -> str:
    """The CSRF token of this browser session, made on first use."""
    token = session_data.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session_data[CSRF_SESSION_KEY] = token
    return token


def csrf_ok(session_data: dict, submitted: str | None) -> bool:
    """Whether the form's token is this session's token (constant-time comparison)."""
    expected = session_data.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


# --- rate limit -----------------------------------------------------------------------------------

class LoginLimiter:
    """At most `per_minute` failed logins per key (client address, user name) in any 60 s.

    Failed attempts are counted per client address and per user name, so neither guessing many
    passwords from one address nor one password across many addresses gets more than the limit.
    Kept in memory: each web process counts for itself (a shared deployment puts a proxy limit
    in front as well).
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = max(1, int(per_minute))
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and now - stamps[0] >= self.WINDOW_SECONDS:
            stamps.popleft()
        return stamps

    def blocked(self, keys: Iterable[str]) -> bool:
        """Whether any of the keys has used up its attempts for the last minute."""
        now = self.clock()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.per_minute for key in keys)

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failed attempt against every key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget idle keys so memory stays bounded
                for key in [k for k, v in self._failures.items() if not v or now - v[-1] >= self.WINDOW_SECONDS]:
                    del self._failures[key]
