"""deploy/: what can be checked without a Docker engine or a systemd host.

The compose file and the example config parse and agree with each other and with the units
(every secret the config names is mounted or loaded as a credential); the units pass
`systemd-analyze verify`; the image's entry points run as plain processes with the image's
environment (`triage --help`, `triage db upgrade`, the health check, `triage run --once`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from triage.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
TRIAGE = shutil.which("triage") or str(Path(sys.executable).with_name("triage"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage's lines, continuations joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for op, args in final_stage():
        if op == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def unit_settings(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in path.read_text().splitlines()  # type: ignore[misc]
            if "=" in line and not line.startswith("#")]


# --- static checks ------------------------------------------------------------------------

def test_dockerfile_is_slim_non_root_with_models_and_a_healthcheck():
    stage = final_stage()
    assert re.match(r"python:3\.11-slim", stage[0][1])
    users = [args for op, args in stage if op == "USER"]
    assert users and not users[-1].startswith(("root", "0")), "the image must not run as root"
    entry = next(i for i, (op, _) in enumerate(stage) if op == "ENTRYPOINT")
    assert max(i for i, (op, _) in enumerate(stage) if op == "USER") < entry
    assert any(op == "COPY" and args.split()[0] == "models" for op, args in stage), "models are baked in"
    assert any(op == "HEALTHCHECK" and "healthcheck.py" in args for op, args in stage)
    env = image_env()
    assert env["TRIAGE_MODELS_DIR"].endswith("/models")


def test_compose_names_worker_web_and_postgres_and_mounts_every_secret_the_config_names():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"worker", "web", "db", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    for name in ("worker", "web", "migrate"):
        assert services[name]["environment"]["TRIAGE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert ":" not in services[name]["environment"]["TRIAGE_DATABASE_URL"].split("//")[1].split("@")[0], \
            "no password in the database URL"
        assert services[name]["depends_on"]
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in services["worker"] and "healthcheck" in services["web"]
    declared = set(compose["secrets"])
    mounted = {s["target"] for s in services["worker"]["secrets"] if isinstance(s, dict)}
    for service in services.values():
        for secret in service.get("secrets", []):
            assert (secret["source"] if isinstance(secret, dict) else secret) in declared
    settings = load_settings(DEPLOY / "triage.toml", environ={})
    named = {m.password_file for m in settings.mailboxes if m.password_file}
    named |= {m.oauth.client_secret_file for m in settings.mailboxes if m.oauth.client_secret_file}
    named.add(settings.smtp.password_file)
    assert named <= mounted, f"not mounted into the worker: {named - mounted}"


def test_example_config_is_a_region_with_swedish_and_norwegian_mailboxes_and_no_secret():
    settings = load_settings(DEPLOY / "triage.toml", environ={})
    assert len(settings.mailboxes) >= 4
    assert {m.jurisdiction for m in settings.mailboxes} == {"SE", "NO"}
    assert {m.language for m in settings.mailboxes if m.jurisdiction == "NO"} == {"nb"}
    assert settings.database_url.startswith("postgresql") and "@" in settings.database_url
    assert ":" not in settings.database_url.split("//")[1].split("@")[0]
    assert settings.retention_days == 1095
    text = (DEPLOY / "triage.toml").read_text()
    assert not re.search(r"^\s*(password|secret|token)\s*=", text, re.M)


def test_units_are_hardened_and_load_every_secret_as_a_credential():
    settings = load_settings(DEPLOY / "triage.toml", environ={})
    assert {u.name for u in UNITS} == {"triage-worker.service", "triage-web.service"}
    for unit in UNITS:
        values = unit_settings(unit)
        keys = {k for k, _ in values}
        assert ("DynamicUser", "yes") in values or "User" in keys
        for required in (("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes")):
            assert required in values, f"{unit.name}: {required}"
        assert ("ReadWritePaths", "/var/lib/triage") in values
        assert "LoadCredential" in keys and "Environment" in keys
        assert not any(k == "Environment" and re.search(r"PASSWORD=|SECRET=", v) for k, v in values)
    worker = dict((v.split(":", 1)[0], v) for k, v in unit_settings(DEPLOY / "systemd/triage-worker.service")
                  if k == "LoadCredential")
    prefix = "/run/credentials/triage-worker.service/"
    files = [m.password_file for m in settings.mailboxes if m.password_file] + [settings.smtp.password_file]
    for file in files:
        assert file.startswith(prefix) and file[len(prefix):] in worker, f"no LoadCredential for {file}"


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    for unit in UNITS:  # the units name /opt/triage; verify checks that the binaries exist
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/triage/bin/triage", TRIAGE))
    done = subprocess.run([analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr + done.stdout


# --- the image's entry points as plain processes ----------------------------------------

@pytest.fixture
def image_like(tmp_path) -> dict[str, str]:
    """The image's environment, with its paths moved under tmp_path (and models from the checkout)."""
    var = tmp_path / "var-lib-triage"
    var.mkdir()
    mail = tmp_path / "mail"
    shutil.copytree(ROOT / "samples", mail)
    config = tmp_path / "triage.toml"
    config.write_text(f'[[mailbox]]\nname = "demo"\nkind = "folder"\npath = "{mail}"\n')
    env = {k: v.replace("/var/lib/triage", str(var)).replace("/opt/triage/models", str(ROOT / "models"))
           .replace("/etc/triage/triage.toml", str(config)) for k, v in image_env().items() if k != "PATH"}
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}, **env}
    environ["PATH"] = f"{Path(TRIAGE).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return environ


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_image_entry_points_run_as_plain_processes(image_like, tmp_path):
    env = image_like
    health = [sys.executable, str(DEPLOY / "healthcheck.py"), "worker"]
    assert "run" in run([TRIAGE, "--help"], env, tmp_path).stdout
    not_yet = run(health, env, tmp_path)
    assert not_yet.returncode == 1 and "triage db upgrade" in not_yet.stderr
    upgraded = run([TRIAGE, "db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (Path(env["TRIAGE_VAR_DIR"]) / "triage.db").is_file()
    assert run(health, env, tmp_path).returncode == 0
    once = run([TRIAGE, "run", "--once", "--json"], env, tmp_path, timeout=240)
    assert once.returncode in (0, 1), once.stderr  # 1: a sample is deliberately malformed
    assert '"processed"' in once.stdout
    assert run(health, env, tmp_path).returncode == 0  # just polled: healthy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_web_healthcheck_against_a_running_triage_serve(image_like, tmp_path):
    env = {**image_like, "TRIAGE_WEB_SECRET": "x" * 48}
    assert run([TRIAGE, "db", "upgrade"], env, tmp_path).returncode == 0
    port = _free_port()
    health = [sys.executable, str(DEPLOY / "healthcheck.py"), "web", f"http://127.0.0.1:{port}/health"]
    assert run(health, env, tmp_path).returncode == 1  # nothing listens yet
    server = subprocess.Popen([TRIAGE, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if run(health, env, tmp_path).returncode == 0:
                break
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            time.sleep(0.5)
        else:
            pytest.fail("triage serve never answered /health")
    finally:
        server.terminate()
        server.wait(timeout=30)
