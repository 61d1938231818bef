"""The human form of a triage result: the event, the chapter, and one finding per line."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from triage.results import EVENT_FIELDS, TriageResult
from triage.vocabulary import chapter_title

VERDICT_STYLE = {
    "non_compliant": "bold red",
    "needs_info": "bold yellow",
    "compliant": "bold green",
    "not_applicable": "dim",
}


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_result(console: Console, result: TriageResult) -> None:
    """Print one result for a person: what it is, what it says, and why."""
    console.rule(escape(result.file or result.message_id or "message"))
    if result.subject is not None:
        console.print(f"[bold]Subject:[/] {escape(result.subject)}")
    if result.sender:
        console.print(f"[bold]From:[/] {escape(result.sender)}")
    if result.error:
        console.print(f"[bold red]error:[/] {escape(result.error)}")
    lang = result.language or "?"
    console.print(
        f"[bold]Language:[/] {lang}   [bold]Jurisdiction:[/] {result.routing.jurisdiction or '?'}"
        f"   [bold]Rulebook:[/] {result.routing.rulebook or '?'}"
        + (f"   [bold]Section:[/] {escape(result.routing.no_section)}" if result.routing.no_section else "")
    )
    c = result.classification
    confidence = f" ({c.confidence:.2f})" if c.confidence is not None else ""
    review = "  [yellow]needs review[/]" if result.decision.needs_review else ""
    console.print(f"[bold]Chapter:[/] {escape(chapter_title(c.chapter, 'en'))}{confidence}{review}")
    verdict = result.decision.verdict
    console.print(f"[bold]Verdict:[/] [{VERDICT_STYLE.get(verdict or '', 'bold')}]{verdict or 'unknown'}[/]")
    event = result.event.to_json()
    shown = [(name, event[name]) for name in EVENT_FIELDS if event[name] not in (None, [], "")]
    if shown:
        console.print("[bold]Event:[/]")
        for name, value in shown:
            value_text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            console.print(f"  {name:<22} {escape(_short(value_text))}")
            for ev in result.event.evidence.get(name, [])[:2]:
                where = ev.source + (f":{ev.part}" if ev.part else "")
                console.print(f"  {'':<22} [dim]↳ {escape(where)}: “{escape(_short(ev.text, 70))}”[/]")
    if result.check.findings:
        console.print("[bold]Findings:[/]")
        for f in result.check.findings:
            evidence = f" — “{escape(_short(f.evidence.text, 80))}”" if f.evidence else ""
            console.print(
                f"  [{'red' if f.kind == 'violation' else 'yellow'}]{f.kind:<9}[/] {f.severity:<6} "
                f"{escape(f.rule)} [{escape(f.code)}] {escape(f.message)}{evidence}"
            )
