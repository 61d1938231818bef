"""`triage rules`: the shipped rulebooks – list them, explain one rule, run the examples, measure."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from triage.cli.common import ConfigOption, console, err_console, settings_or_exit
from triage.config import Settings
from triage.rules.examples import run_rule_examples
from triage.rules.lexicons import Lexicons, load_lexicons
from triage.rules.loading import load_rulebooks
from triage.rules.model import Rule, Rulebook, RulebookError

app = typer.Typer(help="The rulebooks (se-2026, no-2023): rules, citations, examples.", no_args_is_help=True)


def _load() -> tuple[dict[str, Rulebook], Lexicons]:
    try:
        lexicons = load_lexicons()
        return load_rulebooks(lexicons=lexicons), lexicons
    except RulebookError as exc:
        err_console.print(f"[bold red]rulebook error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _find(books: dict[str, Rulebook], rule_id: str) -> tuple[Rulebook, Rule]:
    for book in books.values():
        for rule in book.rules:
            if rule.id == rule_id:
                return book, rule
    known = ", ".join(r.id for b in books.values() for r in b.rules if rule_id.split("/")[0] in r.id) or "see `triage rules list`"
    err_console.print(f"[bold red]no rule {rule_id!r}[/] ({escape(known)})")
    raise typer.Exit(2)


def _effective(settings: Settings, rule: Rule) -> tuple[bool, str]:
    override = settings.rules.overrides.get(rule.id)
    if override is None:
        return rule.enabled, rule.severity
    return override.enabled, override.severity or rule.severity


@app.command("list")
def list_rules(
    rulebook: str | None = typer.Option(None, "--rulebook", "-r", help="Only this rulebook (se-2026, no-2023)."),
    language: str = typer.Option("en", "--language", "-l", help="Language of the descriptions (en, sv, nb)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per rule."),
    config: Path | None = ConfigOption,
) -> None:
    """Every rule: id, code, chapters, severity (after site overrides), description and citation.

    Example:  triage rules list --rulebook se-2026
    """
    settings = settings_or_exit(config)
    books, _ = _load()
    for book in books.values():
        if rulebook and book.id != rulebook:
            continue
        if as_json:
            for rule in book.rules:
                enabled, severity = _effective(settings, rule)
                print(json.dumps({"id": rule.id, "kind": rule.kind, "code": rule.code, "chapters": list(rule.chapters),
                                  "severity": severity, "enabled": enabled, "description": rule.describe(language),
                                  "citation": rule.citation}, ensure_ascii=False))
            continue
        table = Table(title=f"{book.id} v{book.version} – {book.title}", show_lines=True)
        for column in ("id", "code", "chapters", "severity", "description", "citation"):
            table.add_column(column, overflow="fold")
        for rule in book.rules:
            enabled, severity = _effective(settings, rule)
            sev = severity + ("" if enabled else " (off)")
            table.add_row(rule.id, f"{rule.code}\n[dim]{rule.kind}[/]", ", ".join(rule.chapters), sev,
                          escape(rule.describe(language)), escape(rule.citation))
        console.print(table)


@app.command("explain")
def explain(
    rule_id: str = typer.Argument(..., help="A rule id, e.g. se-2026/3.1/travel."),
    config: Path | None = ConfigOption,
) -> None:
    """One rule in full: what it requires, where it comes from, its exceptions and its examples (run now).

    Example:  triage rules explain se-2026/3.1/travel
    """
    settings = settings_or_exit(config)
    books, lexicons = _load()
    book, rule = _find(books, rule_id)
    enabled, severity = _effective(settings, rule)
    console.rule(escape(rule.id))
    for language, text in rule.description.items():
        console.print(f"[bold]{language}:[/] {escape(text)}")
    console.print(f"[bold]Citation:[/] {escape(rule.citation)}  [dim]({escape(book.title)})[/]")
    console.print(f"[bold]Kind:[/] {rule.kind}   [bold]Code:[/] {rule.code}   [bold]Severity:[/] {severity}"
                  f"{'' if enabled else ' (switched off at this site)'}   [bold]Chapters:[/] {', '.join(rule.chapters)}")
    console.print(f"[bold]Check:[/] {rule.check}{'  + trained sentence scorer' if rule.scorer else ''}"
                  + (f"   [bold]params:[/] {escape(json.dumps(rule.params, ensure_ascii=False))}" if rule.params else ""))
    console.print("[bold]Messages:[/]")
    for language, text in rule.messages.items():
        console.print(f"  {language}: {escape(text)}")
    for exc in rule.exceptions:
        console.print(f"[bold]Exception[/] {exc.id} ({exc.scope}): {escape(exc.description)}  [dim]{exc.lexicon}[/]")
    console.print("[bold]Examples:[/]")
    for result in run_rule_examples(book, rule, lexicons):
        mark = "[green]ok[/]" if result.ok else "[red]FAIL[/]"
        where = f" [dim](exception {result.exception})[/]" if result.exception else ""
        console.print(f"  {mark} {result.example.expect:<4}{where} {escape(' '.join(result.example.text.split()))}")
        if result.findings and result.findings[0].evidence:
            console.print(f"       [dim]↳ evidence:[/] “{escape(result.findings[0].evidence.text)}”")
        for problem in result.problems():
            console.print(f"       [red]{escape(problem)}[/]")


@app.command("check")
def check_rules() -> None:
    """Validate the rulebooks and run every rule's examples; exit 1 when one fails.

    Example:  triage rules check
    """
    books, lexicons = _load()
    failed = total = 0
    for book in books.values():
        for rule in book.rules:
            for result in run_rule_examples(book, rule, lexicons):
                total += 1
                if not result.ok:
                    failed += 1
                    err_console.print(f"[red]FAIL[/] {rule.id} {result.example.expect}: "
                                      f"{escape(result.example.text[:70])} – {escape('; '.join(result.problems()))}")
    rules = sum(len(b.rules) for b in books.values())
    console.print(f"{len(books)} rulebooks, {rules} rules, {total} examples, {failed} failed")
    raise typer.Exit(1 if failed else 0)


@app.command("measure")
def measure_rules(
    split: str = typer.Option("dev", "--split", help="train, dev or test (test: report only, never tune on it)."),
    chapter: str = typer.Option("gold", "--chapter", help="gold: the label's chapter; model: the classifier's."),
    event: str = typer.Option("model", "--event", help="model: the extractor's; gold: the label's; none: patterns only."),
    errors: bool = typer.Option(False, "--errors", help="List every wrong code per mail."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    config: Path | None = ConfigOption,
) -> None:
    """Per-code precision/recall/F1 of the rule check on a corpus split, the micro averages and the verdict accuracy.

    Example:  triage rules measure --split dev --chapter gold --event model
    """
    from triage.classify.loader import load_classifier
    from triage.corpus.labels import load_split
    from triage.nlp.loader import load_extractor
    from triage.rules.loader import load_checker
    from triage.rules.measure import format_report, measure

    settings = settings_or_exit(config)
    if split == "test":
        err_console.print("[yellow]held-out test split: for the final figures only – do not tune on it[/]")
    try:
        checker = load_checker(settings)
    except RulebookError as exc:
        err_console.print(f"[bold red]rulebook error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    extractor = load_extractor(settings) if event == "model" else None
    classify = load_classifier(settings).classify if chapter == "model" else None
    report = measure(load_split(split), checker, extractor=extractor, classify=classify, gold_event=event == "gold")
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(escape(format_report(report)))
    if errors:
        for mail_id, kind, code, what in sorted(report.errors, key=lambda e: (e[2], e[3], e[0])):
            console.print(f"  {what}  {kind:<9} {code:<32} {mail_id}")
