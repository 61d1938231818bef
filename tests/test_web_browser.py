"""The review UI end to end, in headless Chromium, against `triage serve` and a real SMTP server.

The database is made by the real migrations and filled by judging the bundled samples with the
real pipeline and storing them with the real store; users are added with `triage users add`;
the server is `triage serve` (uvicorn) on a free loopback port; replies go to aiosmtpd. The
browser is the Debian `chromium` with its `chromium-driver` (never a downloaded one), driven by
Selenium. Screenshots go to test-artifacts/web/ (git-ignored); the one of the message page is
also written to docs/screenshots/review.png for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from triage.config import Settings, load_settings
from triage.db import migrate, store
from triage.db.engine import make_engine, session_factory
from triage.db.schema import EventField, FindingRow, Message, Reply, Result, Review
from triage.results import TriageResult

pytestmark = [pytest.mark.browser, pytest.mark.smtp, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
ARTIFACTS = REPO / "test-artifacts" / "web"
README_SCREENSHOT = REPO / "docs" / "screenshots" / "review.png"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
USER, PASSWORD = "karin", "granska-noga-2026"
SECRET = "browser-test-secret-" + "k" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a real SMTP server ------------------------------------------------------------------------

class _Collect:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Collect]]:
    from aiosmtpd.controller import Controller

    handler = _Collect()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


# --- a loopback HTTP listener that records any request (a "remote load" detector) ---------------

class _Tripwire:
    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the site: database, users, server ------------------------------------------------------------

@dataclass
class Site:
    base: str
    settings: Settings
    sessions: sessionmaker[Session]
    smtp: _Collect
    tripwire: _Tripwire


def _draft_reply(session: Session, settings: Settings, message: Message, result: TriageResult) -> None:
    """The reply the worker drafts for a message that needs one (the outbound package's own path)."""
    from triage.outbound.replies.dispatch import prepare_reply

    prepare_reply(session, settings, settings.mailboxes[0], message, result)


def _hostile_mail(tripwire_port: int) -> bytes:
    remote = f"http://127.0.0.1:{tripwire_port}"
    return (
        "From: \"<script>alert('from')</script>\" <evil@pharma.example>\r\n"
        "To: samverkan.kardiologi@skane.se\r\n"
        "Subject: <script>document.title='pwned'</script> Inbjudan\r\n"
        "Date: Tue, 10 Feb 2026 10:00:00 +0100\r\n"
        "Message-ID: <hostile@pharma.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hej! <script>alert(1)</script> <img src=x onerror=alert(2)>\r\n"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"<html><head><meta http-equiv=\"refresh\" content=\"0;url={remote}/refresh\">"
        f"<link rel=stylesheet href=\"{remote}/css\"></head>"
        f"<body><p>Hej!</p><script>document.title='pwned'; fetch('{remote}/script')</script>"
        f"<img src=\"{remote}/pixel.png\" onerror=\"alert(3)\">"
        f"<div style=\"background:url({remote}/bg.png)\">x</div></body></html>\r\n"
        "--b--\r\n"
    ).encode()


@pytest.fixture
def site(tmp_path: Path, smtp_server: tuple[int, _Collect]) -> Iterator[Site]:
    smtp_port, smtp = smtp_server
    db = tmp_path / "triage.db"
    config = tmp_path / "triage.toml"
    config.write_text(
        f'database_url = "sqlite:///{db}"\n'
        "[smtp]\n"
        f'host = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\nsender = "samverkan.kardiologi@skane.se"\n'
        "[web]\nlogin_attempts_per_minute = 20\n"
        "[[mailbox]]\n"
        f'name = "kardiologi"\nkind = "folder"\npath = "{SAMPLES}"\naddress = "samverkan.kardiologi@skane.se"\n',
        encoding="utf-8",
    )
    migrate.upgrade(f"sqlite:///{db}")
    settings = load_settings(config, environ={})
    from triage.pipeline.factory import build_pipeline

    pipeline = build_pipeline(settings, settings.mailboxes[0])
    engine = make_engine(settings.database_url, sqlite_immediate=True)
    sessions = session_factory(engine)
    tripwire = _Tripwire()
    with sessions() as session:
        for path in sorted(SAMPLES.glob("*.eml")):
            raw = path.read_bytes()
            result = pipeline.judge(raw, path.name)
            message, _ = store.record_message(session, "kardiologi", None, None, raw, result, origin=path.name)
            _draft_reply(session, settings, message, result)
            session.commit()
        raw = _hostile_mail(tripwire.port)
        store.record_message(session, "kardiologi", None, None, raw, pipeline.judge(raw, "hostile.eml"), origin="hostile.eml")
        store.record_poll(session, "kardiologi")
        session.commit()

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_WEB_SECRET"] = SECRET
    cli = [sys.executable, "-m", "triage.cli"]
    added = subprocess.run([*cli, "users", "add", USER, "--role", "manager", "--password-stdin", "--config", str(config)],
                           input=PASSWORD + "\n", text=True, capture_output=True, env=env, cwd=REPO, timeout=120)
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr

    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(config)],
                              env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("triage serve did not come up:\n" + (tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        yield Site(base, settings, sessions, smtp, tripwire)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        tripwire.close()
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver

    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists(), f"{binary} is missing: install the Debian packages chromium and chromium-driver"
    profile = tempfile.mkdtemp(prefix="triage-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1700", "--lang=sv-SE"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _click_and_load(driver, element) -> None:
    """Click something that loads a new page, and wait until the new page is there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _login(driver, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    assert "/login" in driver.current_url  # no page without login
    driver.find_element(By.ID, "username").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    _shot(driver, "01-login")
    _click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Inkorg"


def _space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _invitation_with_evidence(sessions: sessionmaker[Session]) -> tuple[int, set[str], str | None]:
    """The invitation whose stored result quotes the most evidence, its evidence texts, and its chapter."""
    with sessions() as session:
        rows = session.scalars(
            select(Message).join(Result, Result.message_pk == Message.id)
            .where(Result.chapter.is_not(None), Result.chapter != "not_invitation")
            .options(selectinload(Message.result).selectinload(Result.findings),
                     selectinload(Message.result).selectinload(Result.event_fields), selectinload(Message.reply))
        ).all()
        best = None
        for message in rows:
            texts = {row.evidence_text for row in [*message.result.findings, *message.result.event_fields]
                     if isinstance(row, (FindingRow, EventField)) and row.evidence_text}
            key = (message.reply is not None and message.reply.status == "drafted", len(texts))
            if best is None or key > best[0]:
                best = (key, message.id, texts, message.result.chapter)
        assert best is not None and best[2], "the pipeline stored no invitation with evidence"
        return best[1], best[2], best[3]


def test_review_an_invitation_in_the_browser(site: Site, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    _login(driver, site.base)
    _shot(driver, "02-inbox")
    message_id, evidence, chapter = _invitation_with_evidence(site.sessions)

    # open the invitation from the inbox
    _click_and_load(driver, driver.find_element(By.CSS_SELECTOR, f"a[href='/messages/{message_id}']"))
    assert driver.current_url.endswith(f"/messages/{message_id}")

    # the evidence is highlighted in the mail's text, and the highlights quote stored evidence
    marks = driver.find_elements(By.CSS_SELECTOR, "pre.mailtext mark.ev")
    assert marks, "no evidence highlighted"
    wanted = {_space(text) for text in evidence}
    assert {_space(m.text) for m in marks} & wanted
    assert marks[0].value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    # keyboard: a "show in the text" link jumps to its mark
    jump = driver.find_elements(By.LINK_TEXT, "Visa i texten")
    if jump:
        target = jump[0].get_attribute("href").split("#", 1)[1]
        jump[0].click()
        assert driver.current_url.endswith(f"#{target}")
        assert driver.find_element(By.ID, target).tag_name in ("mark", "span")
    driver.execute_script("window.scrollTo(0, 0)")
    driver.set_window_size(1280, 2600)  # tall enough to show the findings and the highlighted text
    path = _shot(driver, "03-message")
    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, README_SCREENSHOT)
    driver.set_window_size(1280, 1700)

    # correct the chapter
    new_chapter = "2" if chapter != "2" else "3.2"
    Select(driver.find_element(By.ID, "r-chapter")).select_by_value(new_chapter)
    driver.find_element(By.ID, "r-comment").send_keys("Produktinformation enligt konvention 2.")
    _click_and_load(driver, driver.find_element(By.ID, "save-review"))
    assert "Rättelsen är sparad." in driver.find_element(By.CSS_SELECTOR, "main").text
    assert driver.find_element(By.ID, "current-chapter").text.startswith(new_chapter + " ")
    _shot(driver, "04-corrected")
    with site.sessions() as session:
        review = session.scalars(select(Review).where(Review.message_pk == message_id)).one()
        assert review.reviewer == USER
        assert review.before["chapter"] == chapter and review.after["chapter"] == new_chapter

    # send the reply, edited, once
    with site.sessions() as session:
        reply = session.scalars(select(Reply).where(Reply.message_pk == message_id)).one()
        assert reply.status == "drafted"
        recipient = reply.recipient
    body = driver.find_element(By.ID, "reply-body")
    body.send_keys("\nPS. Skicka gärna programmet som PDF. /Karin")
    _click_and_load(driver, driver.find_element(By.ID, "send-reply"))
    assert "Svaret är skickat." in driver.find_element(By.CSS_SELECTOR, "main").text
    assert driver.find_element(By.ID, "reply-status").text == "skickat"
    assert not driver.find_elements(By.ID, "send-reply")  # once: no second Send button
    _shot(driver, "05-reply-sent")
    assert len(site.smtp.messages) == 1
    _mail_from, rcpts, content = site.smtp.messages[0]
    assert rcpts == [recipient]
    sent = message_from_bytes(content, policy=default_policy)
    assert "Skicka gärna programmet som PDF" in sent.get_body(("plain",)).get_content()
    with site.sessions() as session:
        reply = session.scalars(select(Reply).where(Reply.message_pk == message_id)).one()
        assert reply.status == "sent" and reply.sent_by == USER

    # a second try (another tab, an old form) sends nothing
    driver.back()
    driver.refresh()
    assert not driver.find_elements(By.ID, "send-reply")
    assert len(site.smtp.messages) == 1


def test_hostile_mail_runs_nothing_and_loads_nothing(site: Site, browser) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    driver = browser
    _login(driver, site.base)
    with site.sessions() as session:
        message_id = session.scalars(select(Message.id).where(Message.origin == "hostile.eml")).one()
    driver.get(f"{site.base}/messages/{message_id}")
    assert "<script>document.title='pwned'</script> Inbjudan" in driver.find_element(By.TAG_NAME, "h1").text
    iframe = driver.find_element(By.CSS_SELECTOR, "iframe.mailhtml")
    assert iframe.get_attribute("sandbox") == ""
    driver.switch_to.frame(iframe)
    assert "Hej!" in driver.find_element(By.TAG_NAME, "body").text
    driver.switch_to.default_content()
    time.sleep(1.0)  # give a refresh, an image or a script time to fire if anything let it through
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    # the subject is the title, as text; a script that ran would have set it to "pwned"
    assert driver.title == "<script>document.title='pwned'</script> Inbjudan · triage"
    assert site.tripwire.hits == []
    _shot(driver, "06-hostile")
