"""Put a digest into words: plain text and HTML from Jinja2 templates, in sv, nb or en.

`render_digest(view, …)` prepares every value once (dates in the digest's time zone, chapter
titles, cost words, the recommended action, the reply's state, the review link) and gives the
same context to `templates/digest.txt.j2` and `templates/digest.html.j2`, so the two versions
cannot say different things. Mail-derived text is cleaned of control characters and cut to a
readable length here; the HTML template escapes it (autoescape is on), the text template
prints it as it is. A fixed `now` gives a byte-identical digest (the golden test relies on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from triage.outbound import texts
from triage.outbound.digest.collect import DigestItem, DigestView
from triage.outbound.mail import one_line
from triage.outbound.templating import html_environment, text_environment
from triage.vocabulary import chapter_title

#: How much of a mail-derived value a digest shows.
SUBJECT_CHARS = 200
VALUE_CHARS = 300
EVIDENCE_CHARS = 240
ERROR_CHARS = 400

#: Colours of the groups in the HTML digest: (accent, background). Readable in Outlook's renderer.
GROUP_COLOURS: dict[str, tuple[str, str]] = {
    "non_compliant": ("#b42318", "#fef3f2"),
    "needs_info": ("#b54708", "#fffaeb"),
    "needs_review": ("#175cd3", "#eff8ff"),
    "compliant": ("#067647", "#ecfdf3"),
    "failed": ("#475467", "#f2f4f7"),
    "not_applicable": ("#667085", "#f9fafb"),
}


@dataclass(frozen=True)
class RenderedDigest:
    """One digest in words: its mail subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # extraction may give a floating local time: it is local already
        return value
    return value.astimezone(zone)


def _deadline_note(item: DigestItem, today, lang: str) -> str | None:
    days = item.deadline_in_days(today)
    if days is None:
        return None
    words = texts.DIGEST[lang]
    if days < 0:
        return words["deadline_passed"]
    if days == 0:
        return words["days_left_0"]
    if days == 1:
        return words["days_left_1"]
    return words["days_left_n"].format(n=days)


def _reply_text(item: DigestItem, lang: str, zone: ZoneInfo, drafts_folder: str | None) -> str | None:
    words = texts.REPLY_STATUS[lang]
    reply = item.reply
    if reply is None:
        return words["none"] if item.group in ("needs_info", "non_compliant") else None
    if reply.status == "sent":
        at = _local(reply.sent_at, zone)
        return words["sent"].format(at=texts.format_datetime(at, lang) if at else "")
    if reply.status == "drafted":
        if drafts_folder and reply.mode == "draft" and not reply.error:
            return words["drafted_folder"].format(folder=drafts_folder)
        return words["drafted"]
    if reply.status == "pending":
        if reply.sent_at is not None:
            at = _local(reply.sent_at, zone)
            return words["pending_started"].format(at=texts.format_datetime(at, lang) if at else "")
        return words["pending"]
    if reply.status == "suppressed":
        return words["suppressed"].format(reason=one_line(reply.reason, 160) or "–")
    if reply.status == "failed":
        return words["failed"].format(error=one_line(reply.error, 160) or "–")
    return reply.status


def _chapter(item: DigestItem, lang: str) -> str | None:
    if item.chapter is None:
        return None
    title = chapter_title(item.chapter, lang)
    return f"{title} ({item.no_section})" if item.no_section else title


def _when(item: DigestItem, lang: str, zone: ZoneInfo) -> str | None:
    span = texts.format_span(_local(item.start, zone), _local(item.end, zone), lang)
    if span is None and item.duration_minutes:
        return f"{item.duration_minutes} min"
    if span is not None and item.duration_minutes and item.end is None:
        return f"{span} ({item.duration_minutes} min)"
    return span


def _where(item: DigestItem, lang: str) -> str | None:
    parts = [one_line(item.location, VALUE_CHARS)] if item.location else []
    if item.online:
        parts.append(texts.DIGEST[lang]["online"])
    return ", ".join(parts) or None


def _item_context(item: DigestItem, lang: str, zone: ZoneInfo, today, review_url: str | None,
                  drafts_folder: str | None) -> dict[str, Any]:
    words = texts.DIGEST[lang]
    group_names = texts.GROUP_NAMES[lang]
    provisional = None
    if item.group == "needs_review" and item.verdict in group_names and item.verdict != "needs_review":
        provisional = f"{words['provisional']}: {group_names[item.verdict]}"
    deadline = item.registration_deadline
    received = _local(item.received_at, zone)
    return {
        "pk": item.message_pk,
        "group": item.group,
        "subject": one_line(item.subject, SUBJECT_CHARS) or "–",
        "sender": one_line(item.sender, VALUE_CHARS) or None,
        "company": one_line(item.company, VALUE_CHARS) or None,
        "received": texts.format_datetime(received, lang) if received else None,
        "title": one_line(item.title, VALUE_CHARS) or None,
        "chapter": _chapter(item, lang),
        "when": _when(item, lang, zone),
        "where": _where(item, lang),
        "target_group": one_line(item.target_group, VALUE_CHARS) or None,
        "covers": ", ".join(texts.COSTS[lang].get(c, c) for c in item.costs_covered) or None,
        "deadline": texts.format_date(deadline, lang) if deadline else None,
        "deadline_note": _deadline_note(item, today, lang),
        "deadline_soon": item.deadline_soon(today),
        "findings": [
            {
                "kind": f.kind,
                "kind_label": words["violation"] if f.kind == "violation" else words["missing"],
                "rule": one_line(f.rule, 120),
                "code": f.code,
                "severity": f.severity,
                "message": one_line(f.message, VALUE_CHARS),
                "evidence": one_line(f.evidence, EVIDENCE_CHARS) or None,
                "citation": one_line(f.citation, 160) or None,
            }
            for f in item.findings
        ],
        "provisional": provisional,
        "action": texts.ACTIONS[lang][item.group],
        "reply": _reply_text(item, lang, zone, drafts_folder),
        "link": f"{review_url.rstrip('/')}/messages/{item.message_pk}" if review_url else None,
        "error": one_line(item.error, ERROR_CHARS) or None,
    }


def digest_context(
    view: DigestView,
    *,
    language: str,
    timezone: str,
    now: datetime,
    review_url: str | None = None,
    drafts_folder: str | None = None,
) -> dict[str, Any]:
    """Everything the two digest templates print, prepared once."""
    lang = texts.language(language)
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    words = texts.DIGEST[lang]
    items = {item.message_pk: _item_context(item, lang, zone, today, review_url, drafts_folder) for item in view.items}
    counts = view.counts()
    groups = []
    for name in texts.GROUPS:
        members = [items[i.message_pk] for i in view.group(name)]
        accent, background = GROUP_COLOURS[name]
        groups.append({
            "key": name, "name": texts.GROUP_NAMES[lang][name], "action": texts.ACTIONS[lang][name],
            "members": members, "count": len(members), "accent": accent, "background": background,
            "collapsed": name == "not_applicable",
        })
    soon = sorted(
        (i for i in view.items if i.deadline_soon(today) and i.group not in ("not_applicable", "failed")),
        key=lambda i: (i.registration_deadline, i.message_pk),
    )
    start = _local(view.period_start, zone)
    end = _local(view.period_end, zone)
    period_text = (
        f"{texts.format_datetime(start, lang) if start else words['since_start']} – "
        f"{texts.format_datetime(end, lang)} ({zone.key})"
    )
    label_keys = ("from", "company", "chapter", "when", "where", "target_group", "covers", "deadline", "findings",
                  "action", "reply", "review", "error", "received")
    return {
        "lang": lang,
        "t": words,
        "mailbox": view.mailbox,
        "address": view.address,
        "period": view.period,
        "period_text": period_text,
        "generated": texts.format_datetime(now.astimezone(zone), lang),
        "total": len(view.items),
        "to_act_on": view.to_act_on(),
        "counts": [{"key": g["key"], "name": g["name"], "count": counts[g["key"]], "accent": g["accent"]}
                   for g in groups],
        "groups": groups,
        "deadlines": [items[i.message_pk] for i in soon],
        "label_width": max(len(words[k]) for k in label_keys) + 2,
    }


def digest_subject(view: DigestView, language: str) -> str:
    """The mail subject: mailbox, period, how many are new and how many need a person."""
    words = texts.DIGEST[texts.language(language)]
    if not view.items:
        return words["subject_empty"].format(mailbox=view.mailbox, period=view.period)
    return words["subject"].format(mailbox=view.mailbox, period=view.period, total=len(view.items),
                                   actions=view.to_act_on())


def render_digest(
    view: DigestView,
    *,
    language: str,
    timezone: str,
    now: datetime,
    review_url: str | None = None,
    drafts_folder: str | None = None,
) -> RenderedDigest:
    """The digest as subject, plain text and HTML (see the module docstring)."""
    context = digest_context(view, language=language, timezone=timezone, now=now, review_url=review_url,
                             drafts_folder=drafts_folder)
    text = text_environment().get_template("digest.txt.j2").render(context)
    html = html_environment().get_template("digest.html.j2").render(context)
    return RenderedDigest(subject=digest_subject(view, language), text=text, html=html)
