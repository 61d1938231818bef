"""A real Dovecot IMAP server for tests: private config, temporary Maildirs, a free loopback port.

Dovecot 2.3 runs as root with its own config when mail_uid/mail_gid are the `dovecot` user (its
login process refuses to run as root). Users live in a passwd-file with plain-text passwords.
`exchange_like=True` advertises a reduced capability list without MOVE and CONDSTORE, the way
Exchange Online does, so the no-MOVE/no-CONDSTORE code paths are exercised against a real server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
EXCHANGE_LIKE_CAPABILITIES = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS NAMESPACE CHILDREN SPECIAL-USE"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Dovecot did not listen on port {port} within {timeout}s")


def make_self_signed_cert(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A throwaway certificate for the TLS listener, made with openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@dataclass
class DovecotServer:
    """One private Dovecot instance; start(), stop(), restart(); users map name → password."""

    root: Path | None = None
    users: dict[str, str] = field(default_factory=lambda: {"triage": "triage-test-pw"})
    exchange_like: bool = False
    tls: bool = False
    port: int = 0
    tls_port: int = 0
    process: subprocess.Popen | None = None
    cert: Path | None = None

    def __post_init__(self) -> None:
        # Dovecot's auth and mail processes run as the dovecot user, who must be able to walk
        # into the folder; pytest's tmp_path lives under a 0700 folder, so use our own.
        self.root = Path(tempfile.mkdtemp(prefix="triage-dovecot-", dir="/tmp"))
        self.root.chmod(0o755)
        self.port = self.port or free_port()
        if self.tls:
            self.tls_port = self.tls_port or free_port()

    @property
    def mail_root(self) -> Path:
        return self.root / "mail"

    def maildir(self, user: str) -> Path:
        return self.mail_root / user / "Maildir"

    def write_config(self) -> Path:
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        dovecot_user = pwd.getpwnam("dovecot")
        for sub in ("mail", "state"):
            os.chown(self.root / sub, dovecot_user.pw_uid, dovecot_user.pw_gid)
        for user in self.users:
            home = self.mail_root / user
            home.mkdir(parents=True, exist_ok=True)
            os.chown(home, dovecot_user.pw_uid, dovecot_user.pw_gid)
        (self.root / "users").write_text(
            "".join(f"{name}:{{PLAIN}}{password}::::::\n" for name, password in self.users.items())
        )
        ssl_lines = "ssl = no\n"
        listeners = f"  inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.port}\n  }}\n"
        if self.tls:
            self.cert, key = make_self_signed_cert(self.root)
            ssl_lines = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}\n"
            listeners += f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.tls_port}\n    ssl = yes\n  }}\n"
        else:
            listeners += "  inet_listener imaps {\n    port = 0\n  }\n"
        capability = f"imap_capability = {EXCHANGE_LIKE_CAPABILITIES}\n" if self.exchange_like else ""
        config = f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = triage-test-{self.port}
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.mail_root}/%u/Maildir
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={self.mail_root}/%u
}}
service imap-login {{
{listeners}}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
}}
protocol imap {{
  imap_idle_notify_interval = 1 secs
{capability}}}
"""
        path = self.root / "dovecot.conf"
        path.write_text(config)
        return path

    def start(self) -> "DovecotServer":
        config = self.write_config()
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port)
            if self.tls:
                wait_for_port(self.tls_port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"Dovecot failed to start: {self.log_tail()}") from None
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        log = self.root / "dovecot.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"
