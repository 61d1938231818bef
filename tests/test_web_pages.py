"""The pages of the review UI: hostile mail stays text, evidence is highlighted where it stands,
the inbox filters and counts, corrections are recorded, the reply is sent once, /metrics, OpenAPI."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.support.web import (
    HOSTILE,
    MANAGER,
    REVIEWER,
    WebEnv,
    evidence_in,
    judged,
    make_mail,
    web,  # noqa: F401 - fixture
    web_each,  # noqa: F401 - fixture
)
from triage.db import store
from triage.db.schema import Message, Reply, Review
from triage.results import Evidence, EventDetails, Finding

HOSTILE_IMG = '<img src=x onerror=alert(2)>'


def _hostile_message(web: WebEnv) -> int:
    raw = make_mail(
        f"Inbjudan {HOSTILE}",
        f"Hej!\nVi bjuder på middag {HOSTILE} med vinprovning.\nPlats: Hotell {HOSTILE_IMG}, Lund.\n",
        sender=f'"{HOSTILE}" <evil@pharma.example>',
        attachment=(f"{HOSTILE_IMG}.txt", f"Program {HOSTILE}"),
        html=f"<p onclick='alert(3)'>Hej {HOSTILE}<img src='http://127.0.0.1:9/track.png'></p>"
             "<meta http-equiv='refresh' content='0;url=http://127.0.0.1:9/'>",
    )
    violation = evidence_in(raw, f"middag {HOSTILE} med vinprovning")
    place = evidence_in(raw, f"Hotell {HOSTILE_IMG}, Lund")
    event = EventDetails(location=f"Hotell {HOSTILE_IMG}, Lund")
    event.add_evidence("location", place)
    findings = (
        Finding("se-2026/3.1/meal", "violation", "meal_not_modest", "high", f"Middagen {HOSTILE} är inte måttlig",
                violation, f"3.1 {HOSTILE}"),
    )
    return web.seed(raw, judged(raw, findings=findings, event=event))


def _no_live_markup(html: str) -> None:
    assert HOSTILE not in html
    assert HOSTILE_IMG not in html
    assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")


def test_hostile_mail_content_is_escaped_everywhere(web: WebEnv) -> None:
    message_id = _hostile_message(web)
    web.login(MANAGER)
    inbox = web.client.get("/").text
    page = web.client.get(f"/messages/{message_id}").text
    for html in (inbox, page):
        _no_live_markup(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # subject, sender, body, attachment name, evidence, finding message and citation are all shown, as text
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
    assert "&lt;img src=x onerror=alert(2)&gt;.txt" in page
    assert "<script" not in page.lower()


def test_the_mail_html_is_sandboxed_without_scripts_or_remote_loads(web: WebEnv) -> None:
    message_id = _hostile_message(web)
    web.login(MANAGER)
    page = web.client.get(f"/messages/{message_id}").text
    iframe = re.search(r"<iframe[^>]*>", page).group(0)
    assert re.search(r"\ssandbox(\s|>)", iframe), iframe  # sandbox with no allow-* tokens at all
    assert "allow-" not in iframe
    response = web.client.get(f"/messages/{message_id}/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert "img-src data:" in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    body = response.text
    assert "<script" not in body.lower() and "onclick" not in body and "127.0.0.1:9" not in body
    assert "http-equiv" not in body
    assert "Hej" in body


def test_app_pages_allow_no_script_and_no_framing(web: WebEnv) -> None:
    web.login(MANAGER)
    response = web.client.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_evidence_is_highlighted_where_it_stands(web: WebEnv) -> None:
    raw = make_mail(
        "Kvällsmöte om KOL",
        "Välkommen till kvällsmöte om KOL.\nVi bjuder på trerättersmiddag med vinprovning.\n"
        "Plats: Hotell Svea, Storgatan 4, Lund.\n",
    )
    meal = evidence_in(raw, "trerättersmiddag med vinprovning")
    place = evidence_in(raw, "Hotell Svea, Storgatan 4, Lund")
    # stale offsets (the parser moved on): found again by its text
    stale = Evidence("kvällsmöte om KOL", "body", None, 0, 5)
    nowhere = Evidence("golfrunda på Båstad", "body", None, None, None)
    event = EventDetails(location="Hotell Svea, Storgatan 4, Lund", title="kvällsmöte om KOL")
    event.add_evidence("location", place)
    event.add_evidence("title", stale)
    findings = (
        Finding("se-2026/3.1/meal", "violation", "meal_not_modest", "high", "Middag", meal, "3.1"),
        Finding("se-2026/3.1/entertainment", "violation", "entertainment", "high", "Golf", nowhere, "3.1"),
        Finding("se-2026/3.2/purpose", "missing", "purpose", "medium", "Syftet saknas", None, "3.2"),
    )
    message_id = web.seed(raw, judged(raw, findings=findings, event=event))
    web.login(MANAGER)
    page = web.client.get(f"/messages/{message_id}").text
    assert re.search(r'<mark class="ev violation"[^>]*id="finding-0">trerättersmiddag med vinprovning</mark>', page)
    assert re.search(r'<mark class="ev field"[^>]*id="field-location-0">Hotell Svea, Storgatan 4, Lund</mark>', page)
    assert re.search(r'<mark class="ev field"[^>]*id="field-title-0">kvällsmöte om KOL</mark>', page)
    assert 'href="#finding-0"' in page and 'href="#field-location-0"' in page
    assert 'id="finding-1"' not in page and "belägget hittades inte i texten" in page
    assert "se-2026/3.2/purpose" in page
    assert "83 %" in page  # chapter confidence


def test_inbox_filters_and_counts(web_each: WebEnv) -> None:
    web = web_each  # on SQLite and on PostgreSQL
    def mail(n: int) -> bytes:
        return make_mail(f"Mail {n}", f"Text {n}", message_id=f"<m{n}@x.example>")

    meal = lambda raw: (Finding("r/meal", "violation", "meal_not_modest", "high", "m",  # noqa: E731
                                evidence_in(raw, "Text"), None),)
    a, b, c, d = mail(1), mail(2), mail(3), mail(4)
    web.seed(a, judged(a, chapter="3.2"), mailbox="kardiologi")
    web.seed(b, judged(b, chapter="3.2", findings=meal(b), needs_review=True), mailbox="kardiologi")
    web.seed(c, judged(c, chapter="not_invitation"), mailbox="onkologi")
    failed = judged(d, chapter="2")
    failed.error = "classify: boom"
    web.seed(d, failed, mailbox="onkologi")
    with web.sessions() as session:  # one message processed long ago
        old = session.scalars(select(Message).where(Message.subject == "Mail 1")).one()
        old.processed_at = datetime(2025, 1, 10, 12, tzinfo=UTC)
        session.commit()
    web.login(MANAGER)

    def subjects(**params: str) -> set[str]:
        data = web.client.get("/api/messages", params=params).json()
        return {m["subject"] for m in data["messages"]}

    assert subjects() == {"Mail 1", "Mail 2", "Mail 3", "Mail 4"}
    assert subjects(mailbox="onkologi") == {"Mail 3", "Mail 4"}
    assert subjects(verdict="non_compliant") == {"Mail 2"}
    assert subjects(verdict="failed") == {"Mail 4"}
    assert subjects(chapter="not_invitation") == {"Mail 3"}
    assert subjects(needs_review="yes") == {"Mail 2"}
    assert subjects(needs_review="no") == {"Mail 1", "Mail 3", "Mail 4"}
    assert subjects(date_to="2025-01-10") == {"Mail 1"}
    assert subjects(date_from="2025-01-11") == {"Mail 2", "Mail 3", "Mail 4"}
    counts = web.client.get("/api/messages", params={"mailbox": "kardiologi"}).json()["counts"]
    # the digest's groups: one per message, needs_review before the verdict
    assert counts == {"total": 2, "non_compliant": 0, "needs_info": 0, "needs_review": 1, "compliant": 1,
                      "not_applicable": 0, "failed": 0}
    everything = web.client.get("/api/messages").json()["counts"]
    with web.sessions() as session:
        from collections import Counter

        from triage.outbound.digest.collect import group_of

        by_digest = Counter(group_of(m, store.load_result(session, m)) for m, _ in store.list_results(session))
    assert {k: v for k, v in everything.items() if v and k != "total"} == dict(by_digest)
    page = web.client.get("/", params={"verdict": "non_compliant"}).text
    assert "Mail 2" in page and "Mail 1" not in page
    assert re.search(r'<span class="count">4</span> Totalt', page)


def test_ui_is_swedish_by_default_and_english_on_request(web: WebEnv) -> None:
    login_page = web.client.get("/login").text
    assert '<html lang="sv">' in login_page and "Logga in" in login_page
    web.login(MANAGER)
    assert "Inkorg" in web.client.get("/").text
    token = web.csrf("/")
    web.client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    page = web.client.get("/").text
    assert '<html lang="en">' in page and "Inbox" in page and "Inkorg" not in page


def test_every_form_control_has_a_label(web: WebEnv) -> None:
    raw = make_mail("Mail", "Text")
    message_id = web.seed(raw, judged(raw))
    with web.sessions() as session:
        store.claim_reply(session, message_id, mode="draft", recipient="a@b.example", subject="Sv: Mail",
                          body_text="Hej", status="drafted")
        session.commit()
    web.login(MANAGER)
    for path in ("/", f"/messages/{message_id}", "/login"):
        html = web.client.get(path).text
        ids = set(re.findall(r'<label for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            control_id = re.search(r'id="([^"]+)"', tag)
            assert control_id and control_id.group(1) in ids, (path, tag)


def _post_review(web: WebEnv, message_id: int, **form: object):
    token = web.csrf(f"/messages/{message_id}")
    return web.client.post(f"/messages/{message_id}/review", data={"csrf_token": token, **form}, follow_redirects=False)


def test_a_correction_is_stored_with_who_when_before_and_after(web_each: WebEnv) -> None:
    web = web_each  # on SQLite and on PostgreSQL
    raw = make_mail("Produktlunch", "Vi presenterar vår nya inhalator på lunchen.")
    purpose = Finding("se-2026/3.2/purpose", "missing", "purpose", "medium", "Syfte saknas", None, "3.2")
    message_id = web.seed(raw, judged(raw, chapter="3.2", findings=(purpose,)))
    web.login(REVIEWER)
    response = _post_review(web, message_id, chapter="2", missing=["purpose", "content"],
                            comment="Produktpresentation, inte sammankomst.")
    assert response.status_code == 303
    with web.sessions() as session:
        review = session.scalars(select(Review)).one()
        assert review.reviewer == "rolf" and review.created_at is not None
        assert review.before["chapter"] == "3.2" and review.before["missing"] == ["purpose"]
        assert review.after == {"chapter": "2", "missing": ["purpose", "content"], "violations": [],
                                "verdict": "needs_info", "violation_evidence": {}}
        assert review.comment == "Produktpresentation, inte sammankomst."
    page = web.client.get(f"/messages/{message_id}").text
    assert "Rättelsen är sparad." in page
    assert 'id="current-chapter">2 Produktinformation' in page
    assert "3.2 Sammankomst arrangerad av företag → 2 Produktinformation" in page
    inbox = web.client.get("/").text
    assert "ändrat till 2 Produktinformation" in inbox


def test_adding_a_violation_keeps_its_quote_and_sets_the_verdict(web: WebEnv) -> None:
    raw = make_mail("Middag", "Vi bjuder på middag och en golfrunda efteråt.")
    message_id = web.seed(raw, judged(raw, chapter="3.2"))
    web.login(MANAGER)
    _post_review(web, message_id, chapter="3.2", violations=["entertainment"], quote="en golfrunda efteråt")
    with web.sessions() as session:
        after = session.scalars(select(Review)).one().after
    assert after["violations"] == ["entertainment"]
    assert after["violation_evidence"] == {"entertainment": ["en golfrunda efteråt"]}
    assert after["verdict"] == "non_compliant"


def test_a_review_that_changes_nothing_is_a_confirmation(web: WebEnv) -> None:
    raw = make_mail("Mail", "Text")
    message_id = web.seed(raw, judged(raw, chapter="3.2"))
    web.login(MANAGER)
    _post_review(web, message_id, chapter="3.2")
    with web.sessions() as session:
        review = session.scalars(select(Review)).one()
        assert review.before["chapter"] == review.after["chapter"] == "3.2"
    assert "Inget ändrades" in web.client.get(f"/messages/{message_id}").text


def test_a_correction_with_an_unknown_code_is_refused(web: WebEnv) -> None:
    raw = make_mail("Mail", "Text")
    message_id = web.seed(raw, judged(raw))
    web.login(MANAGER)
    assert _post_review(web, message_id, chapter="3.2", violations=["free_beer"]).status_code == 400
    assert _post_review(web, message_id, chapter="99").status_code == 400
    with web.sessions() as session:
        assert session.scalars(select(Review)).all() == []


def _with_reply(web: WebEnv, status: str = "drafted") -> int:
    raw = make_mail("Inbjudan", "Kurs i KOL.")
    message_id = web.seed(raw, judged(raw))
    with web.sessions() as session:
        store.claim_reply(session, message_id, mode="draft", recipient="anna@pharma.example", subject="Sv: Inbjudan",
                          body_text="Hej! Vi saknar syftet.", status=status)
        session.commit()
    return message_id


def test_the_reply_is_editable_and_sent_once(web_each: WebEnv) -> None:
    web = web_each  # on SQLite and on PostgreSQL
    message_id = _with_reply(web)
    web.login(REVIEWER)
    page = web.client.get(f"/messages/{message_id}").text
    assert "Hej! Vi saknar syftet." in page and 'id="send-reply"' in page
    token = web.csrf(f"/messages/{message_id}")
    form = {"csrf_token": token, "subject": "Sv: Inbjudan", "body_text": "Hej! Vi saknar syftet och målgruppen."}
    first = web.client.post(f"/messages/{message_id}/reply", data=form, follow_redirects=False)
    second = web.client.post(f"/messages/{message_id}/reply", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert web.sent == [(message_id, "Sv: Inbjudan", "Hej! Vi saknar syftet och målgruppen.")]
    with web.sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "sent" and reply.sent_by == "rolf" and reply.sent_at is not None
        assert reply.body_text == "Hej! Vi saknar syftet och målgruppen."
    page = web.client.get(f"/messages/{message_id}").text
    assert "Svaret har redan skickats" in page
    assert 'id="send-reply"' not in page


def test_a_failed_send_is_shown_and_may_be_retried(web: WebEnv) -> None:
    message_id = _with_reply(web)
    web.login(MANAGER)
    web.fail_next_send.append("SMTP 451 try later")
    token = web.csrf(f"/messages/{message_id}")
    web.client.post(f"/messages/{message_id}/reply", data={"csrf_token": token, "body_text": "Hej"})
    with web.sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.status == "failed" and "451" in reply.error
    page = web.client.get(f"/messages/{message_id}").text
    assert "Svaret kunde inte skickas" in page or "451" in page
    token = web.csrf(f"/messages/{message_id}")
    web.client.post(f"/messages/{message_id}/reply", data={"csrf_token": token, "body_text": "Hej igen"})
    assert [body for _, _, body in web.sent] == ["Hej igen"]


def test_a_suppressed_reply_cannot_be_sent(web: WebEnv) -> None:
    message_id = _with_reply(web, status="suppressed")
    web.login(MANAGER)
    token = web.csrf(f"/messages/{message_id}")
    web.client.post(f"/messages/{message_id}/reply", data={"csrf_token": token, "body_text": "Hej"})
    assert web.sent == []
    with web.sessions() as session:
        assert session.scalars(select(Reply)).one().status == "suppressed"


def test_metrics_in_prometheus_format_behind_token_or_login(web_each: WebEnv) -> None:
    web = web_each  # on SQLite and on PostgreSQL
    raw = make_mail("Mail", "Text")
    web.seed(raw, judged(raw, timings={"parse": 4.0, "classify": 20.0}))
    assert web.client.get("/metrics").status_code == 401
    web.client.app.state.web.metrics_token = "scrape-token-123"
    assert web.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = web.client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'triage_messages{mailbox="kardiologi",status="processed",verdict="compliant"} 1' in text
    assert 'triage_stage_duration_seconds{stage="classify",quantile="0.5"} 0.02' in text
    assert 'triage_stage_duration_seconds_count{stage="parse"} 1' in text
    assert "# TYPE triage_stage_duration_seconds summary" in text


def test_openapi_describes_the_json_endpoints(web: WebEnv) -> None:
    web.login(MANAGER)
    schema = web.client.get("/api/openapi.json").json()
    assert {"/api/messages", "/api/messages/{message_id}", "/health", "/metrics"} <= set(schema["paths"])
    assert "/login" not in schema["paths"] and "/messages/{message_id}" not in schema["paths"]
    assert "MessageSummary" in schema["components"]["schemas"]


def test_message_json_has_the_spec_result_and_the_reviewed_state(web_each: WebEnv) -> None:
    web = web_each  # on SQLite and on PostgreSQL
    raw = make_mail("Mail", "Text")
    message_id = web.seed(raw, judged(raw, chapter="3.2"))
    web.login(MANAGER)
    _post_review(web, message_id, chapter="10")
    data = web.client.get(f"/api/messages/{message_id}").json()
    assert data["result"]["chapter"] == "3.2" and data["result"]["verdict"] == "compliant"
    assert data["current"]["chapter"] == "10" and data["reviews"] == 1
    assert web.client.get("/api/messages/999").status_code == 404
    assert web.client.get("/messages/999").status_code == 404


def test_old_results_show_failed_messages_with_their_error(web: WebEnv) -> None:
    raw = b"not a mail at all"
    from triage.results import TriageResult

    web.seed(raw, TriageResult(file=None, error="parse: not a mail: no header section"))
    web.login(MANAGER)
    inbox = web.client.get("/").text
    assert "Misslyckades" in inbox
    with web.sessions() as session:
        message_id = session.scalars(select(Message.id)).one()
    page = web.client.get(f"/messages/{message_id}").text
    assert "parse: not a mail" in page
