"""Configuration, read once: defaults in code → a TOML file → TRIAGE_* environment variables.

Secrets (IMAP/SMTP passwords, OAuth client secrets) are never written in the TOML file: the file
names an environment variable or a file that holds them (`password_env`, `password_file`), and
`Secret` keeps the value out of every repr, log line and `triage config show`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "TRIAGE_"
#: The trained pipelines shipped with the code: `models/` beside the package in a checkout.
DEFAULT_MODELS_DIR = str(Path(__file__).resolve().parents[1] / "models")
CONFIG_ENV = "TRIAGE_CONFIG"
MASK = "********"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


class Secret:
    """A secret value that never shows itself: repr and str are masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(********)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def resolve_secret(env_name: str | None, file_name: str | None, environ: Mapping[str, str] | None = None) -> Secret | None:
    """Read a secret from the environment variable or the file the config names, if any."""
    environ = os.environ if environ is None else environ
    if env_name:
        value = environ.get(env_name)
        if value is not None:
            return Secret(value)
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise ConfigError(f"secret file {file_name!r} does not exist")
        return Secret(path.read_text(encoding="utf-8").strip())
    return None


@dataclass
class OAuthConfig:
    """OAuth2 (XOAUTH2) for IMAP/SMTP: a token from a file, a command, or the client-credentials flow."""

    token_file: str | None = None
    token_command: str | None = None
    tenant: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    #: The token endpoint; None: Microsoft's for `tenant` (set it to test against a local server).
    token_url: str | None = None
    scope: str = "https://outlook.office365.com/.default"
    refresh_margin_seconds: int = 300


@dataclass
class MailboxConfig:
    """One function mailbox: where to read, where to file, which rules apply, how to answer."""

    name: str = "default"
    kind: str = "folder"  # imap | maildir | folder
    path: str | None = None  # for maildir / folder mailboxes
    host: str | None = None
    port: int | None = None
    tls: str = "ssl"  # ssl | starttls | none
    verify_tls: bool = True
    ca_file: str | None = None
    username: str | None = None
    auth: str = "login"  # login | plain | xoauth2
    password_env: str | None = None
    password_file: str | None = None
    oauth: OAuthConfig = field(default_factory=OAuthConfig)
    folder: str = "INBOX"
    processed_folder: str | None = "Triage/Processed"
    review_folder: str | None = "Triage/Needs review"
    failed_folder: str | None = "Triage/Failed"
    digest_folder: str | None = None
    drafts_folder: str = "Drafts"
    keyword: str = "$Triaged"
    address: str | None = None  # the function mailbox's own address
    jurisdiction: str | None = None  # SE | NO; None: decided per message
    language: str = "sv"  # language of the digest
    reply_mode: str = "draft"  # draft | send | off
    reply_to_non_compliant: bool = False
    reply_cite_violations: bool = True
    signature: str = ""
    idle: bool = True
    idle_renew_seconds: int = 300
    timeout_seconds: int = 60

    def password(self, environ: Mapping[str, str] | None = None) -> Secret | None:
        return resolve_secret(self.password_env, self.password_file, environ)


@dataclass
class SmtpConfig:
    """The outgoing mail server for digests and replies."""

    host: str | None = None
    port: int = 587
    tls: str = "starttls"  # ssl | starttls | none
    verify_tls: bool = True
    #: A CA bundle to trust for the server's certificate (an internal CA); None: the system's.
    ca_file: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    sender: str | None = None
    timeout_seconds: int = 30
    max_replies_per_sender_per_day: int = 3

    def password(self, environ: Mapping[str, str] | None = None) -> Secret | None:
        return resolve_secret(self.password_env, self.password_file, environ)


@dataclass
class DigestConfig:
    """When the daily digest is made and where it goes."""

    time: str = "07:00"
    timezone: str = "Europe/Stockholm"
    recipients: list[str] = field(default_factory=list)
    directory: str = "var/digests"
    imap_folder: str | None = None
    review_url: str | None = None


@dataclass
class ClassifierConfig:
    """How sure the chapter model must be before a person need not look."""

    review_threshold: float = 0.6
    finding_review_threshold: float = 0.5


@dataclass
class RuleOverride:
    """A site's change to one shipped rule, without editing the rulebook."""

    enabled: bool = True
    severity: str | None = None


@dataclass
class RulesConfig:
    """Site-level rule settings: overrides by rule id and the limits judgement rules use."""

    overrides: dict[str, RuleOverride] = field(default_factory=dict)
    max_meal_sek: int = 450
    max_meal_nok: int = 500
    max_meal_eur: int = 45
    function_mailbox_words: list[str] = field(
        default_factory=lambda: ["funktionsbrevlada", "funktionsbrevlåda", "samverkan", "postmottak", "verksamhetschef"]
    )


@dataclass
class LimitsConfig:
    """Bounds on one message, so a hostile mail cannot exhaust the worker."""

    max_message_bytes: int = 30 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_header_bytes: int = 256 * 1024
    max_attachment_text_chars: int = 200_000
    max_body_chars: int = 500_000
    max_unpacked_bytes: int = 32 * 1024 * 1024
    max_compression_ratio: int = 100


@dataclass
class WebUserConfig:
    """A review-UI user named in the config: an Argon2 hash (`triage users hash`), never a password."""

    name: str = ""
    role: str = "reviewer"  # reviewer | manager
    password_hash: str = ""
    display_name: str | None = None


@dataclass
class WebConfig:
    """The review web UI."""

    host: str = "127.0.0.1"
    port: int = 8080
    secret_key_env: str = "TRIAGE_WEB_SECRET"
    secure_cookies: bool = False
    language: str = "sv"
    login_attempts_per_minute: int = 5
    #: How long a login lasts, in minutes (the signed cookie expires then).
    session_minutes: int = 480
    #: Bearer token for /metrics, read from this environment variable; unset: /metrics needs a login.
    metrics_token_env: str | None = "TRIAGE_METRICS_TOKEN"
    #: Users who may log in besides those `triage users add` stored in the database.
    users: list[WebUserConfig] = field(default_factory=list)


@dataclass
class ClusterConfig:
    """Several `triage run` workers on one database (`triage.worker.cluster`)."""

    #: How long a worker's mailbox leases last without renewal (renewed every third of it): after
    #: a crash its mailboxes wait at most this long for another worker, or for its restart.
    lease_seconds: int = 90
    #: This worker's name in the cluster; empty: host:pid. Must be unique among running workers;
    #: a stable one (per machine or container) lets a restarted worker take its mailboxes back at once.
    worker_id: str = ""


@dataclass
class Settings:
    """The whole effective configuration of one triage installation."""

    database_url: str = "sqlite:///var/triage.db"
    models_dir: str = DEFAULT_MODELS_DIR
    var_dir: str = "var"
    poll_interval_seconds: int = 60
    #: Processes that judge a poll with 200 or more new messages (a backfill): 0, one per CPU;
    #: 1, none (judge in the worker itself). Each loads the models: ~400 MB and a few seconds.
    judge_processes: int = 0
    retention_days: int = 3 * 365
    log_level: str = "info"
    mailboxes: list[MailboxConfig] = field(default_factory=list)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)

    def mailbox(self, name: str) -> MailboxConfig:
        for mailbox in self.mailboxes:
            if mailbox.name == name:
                return mailbox
        raise ConfigError(f"no mailbox named {name!r} (configured: {', '.join(m.name for m in self.mailboxes) or 'none'})")


# --- loading ---------------------------------------------------------------------------------

def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Turn a TOML or environment value into the annotated type, or say clearly why not."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return _build(annotation, value, where)
    if origin is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return [_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table")
        return {str(k): _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if annotation is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if annotation is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if annotation is str:
        if not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return str(value)
    return value


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where or 'config'}: unknown key(s) {', '.join(unknown)}")
    kwargs = {key: _coerce(value, hints[key], f"{where}.{key}".lstrip(".")) for key, value in data.items()}
    return cls(**kwargs)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """TRIAGE_DATABASE_URL=… → {"database_url": …}; TRIAGE_SMTP__HOST=… → {"smtp": {"host": …}}."""
    top = {f.name for f in dataclasses.fields(Settings)}
    overrides: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == CONFIG_ENV:
            continue
        path = key[len(ENV_PREFIX):].lower().split("__")
        if path[0] not in top or path[0] == "mailboxes":
            continue
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return overrides


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults → TOML file (argument, else $TRIAGE_CONFIG) → TRIAGE_* variables."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV)
    data: dict[str, Any] = {}
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file {str(file)!r} does not exist")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(file)!r} is not valid TOML: {exc}") from None
    data = _merge(data, _env_overrides(environ))
    if "mailbox" in data and "mailboxes" not in data:  # [[mailbox]] reads naturally in TOML
        data["mailboxes"] = data.pop("mailbox")
    settings: Settings = _build(Settings, data, "")
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    names = [m.name for m in settings.mailboxes]
    if len(names) != len(set(names)):
        raise ConfigError("mailboxes: two mailboxes share a name")
    for m in settings.mailboxes:
        where = f"mailbox {m.name!r}"
        if m.kind not in {"imap", "maildir", "folder"}:
            raise ConfigError(f"{where}: kind must be imap, maildir or folder, not {m.kind!r}")
        if m.kind == "imap" and not m.host:
            raise ConfigError(f"{where}: an imap mailbox needs host")
        if m.kind != "imap" and not m.path:
            raise ConfigError(f"{where}: a {m.kind} mailbox needs path")
        if m.tls not in {"ssl", "starttls", "none"}:
            raise ConfigError(f"{where}: tls must be ssl, starttls or none")
        if m.auth not in {"login", "plain", "xoauth2"}:
            raise ConfigError(f"{where}: auth must be login, plain or xoauth2")
        if m.jurisdiction not in {None, "SE", "NO"}:
            raise ConfigError(f"{where}: jurisdiction must be SE or NO")
        if m.language not in {"sv", "nb", "en"}:
            raise ConfigError(f"{where}: language must be sv, nb or en")
        if m.reply_mode not in {"draft", "send", "off"}:
            raise ConfigError(f"{where}: reply_mode must be draft, send or off")
    if settings.cluster.lease_seconds < 3:
        raise ConfigError("cluster.lease_seconds must be at least 3 (leases are renewed every third of it)")
    if not 0.0 <= settings.classifier.review_threshold <= 1.0:
        raise ConfigError("classifier.review_threshold must lie between 0 and 1")


def _masked_url(url: str) -> str:
    """postgresql+psycopg://user:pw@host/db → postgresql+psycopg://user:********@host/db."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user, colon, _ = creds.partition(":")
    return f"{scheme}://{user}{':' + MASK if colon else ''}@{host}"


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    """The effective settings for display: secrets masked, and where each secret comes from."""
    data = dataclasses.asdict(settings)
    data["database_url"] = _masked_url(settings.database_url)
    for raw, mailbox in zip(data["mailboxes"], settings.mailboxes):
        raw["password"] = MASK if mailbox.password_env or mailbox.password_file else None
    data["smtp"]["password"] = MASK if settings.smtp.password_env or settings.smtp.password_file else None
    for user in data["web"]["users"]:
        user["password_hash"] = MASK  # a hash is no password, but still nothing to show around
    return data
