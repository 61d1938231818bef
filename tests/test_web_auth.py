"""Who gets into the review UI: login, sessions, CSRF, the login rate limit, roles, secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.web import (
    MANAGER,
    REVIEWER,
    SECRET,
    WebEnv,
    csrf_of,
    judged,
    login,
    make_mail,
    make_web_env,
    web,  # noqa: F401 - fixture
)
from triage.config import Settings, WebConfig, WebUserConfig
from triage.db import store
from triage.db.schema import Reply, Review, User
from triage.web.app import SecretKeyMissing, create_app
from triage.web.auth import LoginLimiter, hash_password

PAGES = ["/", "/messages/1", "/messages/1/html", "/reports/agreement", "/users"]
JSON_ENDPOINTS = ["/api/messages", "/api/messages/1", "/api/openapi.json", "/metrics"]


def _seed_one(web: WebEnv) -> int:
    raw = make_mail("Lunchföreläsning om KOL", "Välkomna på lunchföreläsning tisdag kl. 12.")
    return web.seed(raw, judged(raw))


def test_no_page_without_login(web: WebEnv) -> None:
    _seed_one(web)
    for path in PAGES:
        response = web.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    for path in JSON_ENDPOINTS:
        response = web.client.get(path, follow_redirects=False)
        assert response.status_code == 401, path


def test_health_needs_no_login_and_shows_last_poll(web: WebEnv) -> None:
    with web.sessions() as session:
        store.record_poll(session, "kardiologi")
        store.record_poll(session, "onkologi", error="IMAP login failed for secret-host")
        session.commit()
    response = web.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    by_name = {m["mailbox"]: m for m in body["mailboxes"]}
    assert by_name["kardiologi"]["last_poll_at"] and not by_name["kardiologi"]["failing"]
    assert by_name["onkologi"]["failing"] is True
    assert "secret-host" not in response.text  # no error text to callers who are not logged in


def test_health_says_when_the_database_is_not_usable(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated: no tables
    from fastapi.testclient import TestClient

    client = TestClient(create_app(settings, secret_key=SECRET))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_login_with_the_right_password_opens_the_inbox(web: WebEnv) -> None:
    response = web.login(MANAGER)
    assert response.headers["location"] == "/"
    page = web.client.get("/")
    assert page.status_code == 200
    assert "maria" in page.text


def test_wrong_password_and_unknown_user_are_refused_alike(web: WebEnv) -> None:
    wrong = login(web.client, "maria", "not-the-password")
    unknown = login(web.client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Fel användarnamn eller lösenord." in wrong.text
    assert "Fel användarnamn eller lösenord." in unknown.text
    assert web.client.get("/", follow_redirects=False).status_code == 303


def test_login_rate_limit_blocks_even_the_right_password(tmp_path: Path) -> None:
    env = make_web_env(tmp_path, login_attempts_per_minute=3)
    now = [1000.0]
    env.client.app.state.web.limiter = LoginLimiter(3, clock=lambda: now[0])
    for _ in range(3):
        assert login(env.client, "maria", "wrong password").status_code == 401
    blocked = login(env.client, *MANAGER)
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == "60"
    assert env.client.get("/", follow_redirects=False).status_code == 303  # not logged in
    now[0] += 61
    assert login(env.client, *MANAGER).status_code == 303


def test_rate_limit_counts_per_user_name_across_addresses() -> None:
    limiter = LoginLimiter(2, clock=lambda: 0.0)
    limiter.failed(["ip:10.0.0.1", "user:maria"])
    limiter.failed(["ip:10.0.0.2", "user:maria"])
    assert limiter.blocked(["ip:10.0.0.3", "user:maria"])
    assert not limiter.blocked(["ip:10.0.0.3", "user:rolf"])


def test_login_without_csrf_token_is_rejected(web: WebEnv) -> None:
    web.client.get("/login")
    response = web.client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1]}, follow_redirects=False)
    assert response.status_code == 403
    assert web.client.get("/", follow_redirects=False).status_code == 303


def test_state_changing_forms_reject_a_missing_or_wrong_csrf_token(web: WebEnv) -> None:
    message_id = _seed_one(web)
    with web.sessions() as session:
        store.claim_reply(session, message_id, mode="draft", recipient="anna@pharma.example", subject="Sv: x",
                          body_text="Hej", status="drafted")
        session.commit()
    web.login(MANAGER)
    for data in ({}, {"csrf_token": "forged-token-" + "x" * 30}):
        review = web.client.post(f"/messages/{message_id}/review", data={"chapter": "2", **data}, follow_redirects=False)
        assert review.status_code == 403
        reply = web.client.post(f"/messages/{message_id}/reply", data={"body_text": "x", **data}, follow_redirects=False)
        assert reply.status_code == 403
        logout = web.client.post("/logout", data=data, follow_redirects=False)
        assert logout.status_code == 403
    with web.sessions() as session:
        assert session.scalars(select(Review)).all() == []
        assert session.scalars(select(Reply)).one().status == "drafted"
    assert web.sent == []
    assert web.client.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_logout_ends_the_session(web: WebEnv) -> None:
    web.login(MANAGER)
    token = web.csrf("/")
    assert web.client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert web.client.get("/", follow_redirects=False).status_code == 303


def test_session_cookie_is_signed_httponly_and_samesite(web: WebEnv) -> None:
    response = web.login(MANAGER)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP in this test: secure_cookies is off
    value = web.client.cookies.get("triage_session")
    web.client.cookies.set("triage_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert web.client.get("/", follow_redirects=False).status_code == 303  # a forged cookie is no login


def test_secure_cookies_setting_marks_the_cookie_secure(tmp_path: Path) -> None:
    env = make_web_env(tmp_path, secure_cookies=True)
    env.client.base_url = "https://testserver"
    response = login(env.client, *MANAGER)
    assert "secure" in response.headers["set-cookie"].lower()
    assert env.client.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_login_does_not_redirect_off_site(web: WebEnv) -> None:
    token = csrf_of(web.client.get("/login").text)
    response = web.client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1], "csrf_token": token,
                                                "next": "//evil.example/phish"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_login_goes_back_to_the_page_asked_for(web: WebEnv) -> None:
    message_id = _seed_one(web)
    first = web.client.get(f"/messages/{message_id}", follow_redirects=False)
    login_page = web.client.get(first.headers["location"])
    token = csrf_of(login_page.text)
    assert f'value="/messages/{message_id}"' in login_page.text
    response = web.client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1], "csrf_token": token,
                                                "next": f"/messages/{message_id}"}, follow_redirects=False)
    assert response.headers["location"] == f"/messages/{message_id}"


def test_roles_reviewer_cannot_open_manager_pages(web: WebEnv) -> None:
    web.login(REVIEWER)
    assert web.client.get("/reports/agreement").status_code == 403
    assert web.client.get("/users").status_code == 403
    assert web.client.get("/").status_code == 200
    web.client.cookies.clear()
    web.login(MANAGER)
    assert web.client.get("/reports/agreement").status_code == 200
    users = web.client.get("/users")
    assert users.status_code == 200 and "rolf" in users.text


def test_a_deactivated_user_loses_the_session(web: WebEnv) -> None:
    web.login(REVIEWER)
    with web.sessions() as session:
        store.get_user(session, REVIEWER[0]).active = False
        session.commit()
    assert web.client.get("/", follow_redirects=False).status_code == 303
    assert login(web.client, *REVIEWER).status_code == 401


def test_passwords_are_never_logged_nor_stored(web: WebEnv, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    login(web.client, "maria", "wrong-Secret-Attempt-42")
    web.login(MANAGER)
    assert "wrong-Secret-Attempt-42" not in caplog.text and MANAGER[1] not in caplog.text
    with web.sessions() as session:
        user = session.scalars(select(User).where(User.username == "maria")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert MANAGER[1] not in user.password_hash
        assert user.last_login_at is not None


def test_users_from_the_config_can_log_in(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from triage.db.engine import make_engine
    from triage.db.schema import Base

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 't.db'}",
        web=WebConfig(users=[WebUserConfig(name="ops", role="manager", password_hash=hash_password("from-config-pw"))]),
    )
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    client = TestClient(create_app(settings, secret_key=SECRET, engine=engine))
    assert login(client, "ops", "wrong").status_code == 401
    assert login(client, "ops", "from-config-pw").status_code == 303
    assert client.get("/users").status_code == 200  # a manager from the config


def test_config_users_must_have_an_argon2_hash(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 't.db'}",
                        web=WebConfig(users=[WebUserConfig(name="ops", role="manager", password_hash="plaintext")]))
    with pytest.raises(ValueError, match="Argon2"):
        create_app(settings, secret_key=SECRET)


def test_the_app_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 't.db'}")
    with pytest.raises(SecretKeyMissing, match="TRIAGE_WEB_SECRET"):
        create_app(settings, environ={})
    with pytest.raises(SecretKeyMissing, match="shorter"):
        create_app(settings, environ={"TRIAGE_WEB_SECRET": "short"})
    assert create_app(settings, environ={"TRIAGE_WEB_SECRET": "k" * 40}) is not None
    assert create_app(settings, dev=True, environ={}) is not None  # --dev: a throwaway key


def test_a_key_from_the_environment_signs_cookies_other_keys_reject(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    env = make_web_env(tmp_path)
    env.login(MANAGER)
    cookie = env.client.cookies.get("triage_session")
    other = TestClient(create_app(env.settings, engine=env.engine, environ={"TRIAGE_WEB_SECRET": "another-key-" * 4}))
    other.cookies.set("triage_session", cookie)
    assert other.get("/", follow_redirects=False).status_code == 303
