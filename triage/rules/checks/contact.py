"""Checks of how the company reaches the unit: the function mailbox, meetings agreed in advance, who attends.

se-2026 3.2/3.3 (invitation with a copy to the head of unit or the function mailbox), 2 and 5
(the employer decides who takes part or receives); no-2023 pkt. 5 (invitations to postmottak,
meetings agreed in advance).
"""

from __future__ import annotations

import re

from triage.message.envelope import Address
from triage.results import Evidence, Finding
from triage.rules.checks import PATTERN_CONFIDENCE, CheckContext, register_check


def is_function_mailbox(ctx: CheckContext, address: Address) -> bool:
    """A function mailbox or head of unit (SE), or postmottak (NO), by address or display name."""
    local = address.email.partition("@")[0].lower()
    name = (address.name or "").lower()
    books = ["contact:mailbox_no"] if ctx.jurisdiction == "NO" else ["contact:mailbox_se", "contact:mailbox_no"]
    for ref in books:
        for pattern_id, pattern in ctx.lexicons.patterns(ref):
            if pattern_id == "address" and local and pattern.search(local):
                return True
            if pattern_id == "name" and name and pattern.search(name):
                return True
    words = [w.lower() for w in ctx.settings.function_mailbox_words]
    if ctx.jurisdiction == "NO":
        words = [w for w in words if w.startswith("post")]
    return any(w in local or w in name for w in words)


def _domain(address: Address | None) -> str:
    return address.domain.lower() if address and address.email else ""


def _base(domain: str) -> str:
    """The registered part of a domain ("akademiska.regionuppsala.se" → "regionuppsala.se")."""
    return ".".join(domain.split(".")[-2:])


def original_recipients(ctx: CheckContext) -> tuple[tuple[Address, ...], Evidence | None] | None:
    """Who the invitation was sent to as the company sent it, with the header line that says so.

    A mail the company sent itself: its own To and Cc. A mail someone at the unit forwarded (the
    sender shares a domain with a recipient, or writes from a region or health trust): the To of the
    innermost forwarded original that has one. None when that cannot be known.
    """
    message = ctx.message
    outer = message.recipients
    sender_domain = _domain(message.sender)
    colleague = any(_base(_domain(a)) == _base(sender_domain) for a in outer if a.email) or (
        bool(sender_domain) and ctx.has("contact:healthcare_domain", sender_domain)
    )
    internal_forward = bool(message.forwarded) and colleague
    if message.forwarded and (internal_forward or not outer):
        for index in range(len(message.forwarded) - 1, -1, -1):
            fwd = message.forwarded[index]
            if fwd.to:
                text = "To: " + "; ".join(str(a) for a in fwd.to)
                return fwd.to, Evidence(text=text, source="forwarded", part=f"forwarded[{index}]")
        return None
    if not outer:
        return None
    text = "To: " + "; ".join(str(a) for a in message.to)
    if message.cc:
        text += " | Cc: " + "; ".join(str(a) for a in message.cc)
    return outer, Evidence(text=text, source="header", part="To")


@register_check("function_mailbox")
def function_mailbox(ctx: CheckContext) -> list[Finding]:
    """The invitation as sent reached no function mailbox or head of unit (NO: no postmottak)."""
    statements = ctx.find("contact:direct_send", negatable=False)
    known = original_recipients(ctx)
    if known is not None:
        recipients, header = known
        if any(is_function_mailbox(ctx, a) for a in recipients if a.email or a.name):
            return []
        if statements:
            return ctx.findings_from(statements)
        return [ctx.finding(header, PATTERN_CONFIDENCE)]
    return ctx.findings_from(statements)


@register_check("unannounced_visit")
def unannounced_visit(ctx: CheckContext) -> list[Finding]:
    """A visit or meeting the company announces without having agreed it with the unit."""
    # "travel is not covered and must be arranged by the hospital" is about who books the trip, not the meeting
    hits = ctx.find("contact:unannounced", block=["contact:agreed", "travel:trip", "travel:stay"],
                    patterns=["not_agreed", "anyway"])
    drop_ins = ctx.find("contact:unannounced", block=["contact:agreed"], patterns=["drop_in"])
    if drop_ins and not hits:
        # dropping by is a breach only when nothing says it was agreed
        if not any(ctx.has("contact:agreed", u.text) for u in ctx.units()):
            hits = drop_ins
    elif drop_ins:
        hits = drop_ins[:1] + hits
    return ctx.patterns_or_scorer(hits)


_US = re.compile(r"\b(?:vi|we|oss|us|our|vår|våra|våre|i\s+\w+\s+(?:AB|AS))\b", re.IGNORECASE)
#: A passive selection with its agent ("valts ut av …", "selected by …"): who picked is said.
_AGENT = re.compile(r"\b(?:valts|valgt|valda|valgte|utvalda|utvalgte|selected|chosen|picked|plukket|handplockade|håndplukket)\s+(?:ut\s+)?(?:av|by)\s", re.IGNORECASE)


@register_check("company_picks_recipients")
def company_picks_recipients(ctx: CheckContext) -> list[Finding]:
    """The company, not the employer or a committee, picks who attends or receives."""
    hits = [
        h for h in ctx.find("contact:company_picks", require=["contact:person"], patterns=["picked"], negatable=True)
        if _US.search(h.unit.text) or _AGENT.search(h.unit.text)
    ]
    hits += ctx.find("contact:company_picks", patterns=["decided", "company_agent", "company_selects", "top_prescribers", "only_them", "reserved"],
                     negatable=True)
    return ctx.patterns_or_scorer(hits)
