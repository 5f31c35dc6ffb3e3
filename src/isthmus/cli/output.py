"""How the CLI shows things: one console, errors that say what to do, run tables."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from isthmus.engine.report import RunReport

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

STATUS_STYLE = {
    "succeeded": "green",
    "partial": "yellow",
    "stopped": "red",
    "failed": "red",
    "running": "cyan",
}


def fail(message: str, hint: str | None = None) -> None:
    errors.print(f"[bold red]error:[/] {message}")
    if hint:
        errors.print(f"[dim]{hint}[/]")


def run_table(reports: Sequence[RunReport], seconds: float | None = None) -> Table:
    table = Table(title="Sync results" + (f" ({seconds:.1f} s)" if seconds is not None else ""))
    for column in (
        "flow",
        "status",
        "read",
        "created",
        "updated",
        "linked",
        "deleted",
        "unchanged",
        "conflicts",
        "dead letters",
        "waiting",
    ):
        table.add_column(column, justify="right" if column not in ("flow", "status") else "left")
    for report in reports:
        counts = report.counts
        style = STATUS_STYLE.get(report.status, "")
        table.add_row(
            report.flow,
            f"[{style}]{report.status}[/]",
            str(counts["read"]),
            str(counts["created"]),
            str(counts["updated"]),
            str(counts["linked"]),
            str(counts["deleted"]),
            str(counts["unchanged"] + counts["echo"]),
            str(counts["conflicts"]),
            str(counts["dead_letters"]),
            str(counts["waiting"]),
        )
    return table


def report_messages(reports: Sequence[RunReport]) -> None:
    for report in reports:
        for message in report.messages:
            style = "red" if report.status in ("stopped", "failed") else "yellow"
            console.print(f"[{style}]{report.flow}:[/] {message}")


def print_matching(reports: Sequence[RunReport]) -> None:
    """After a sync that matched records: how many were linked (and how) vs created."""
    for report in reports:
        counts = report.counts
        exact, fuzzy = counts["linked_exact"], counts["linked_fuzzy"]
        if not (exact or fuzzy or counts["held"]):
            continue
        console.print(
            f"[bold]{report.flow}[/]: matched {exact + fuzzy} existing record(s) "
            f"({exact} by exact key, {fuzzy} by fuzzy score), created {counts['created']}; "
            f"{counts['review']} sent to review and {counts['held']} held until their "
            "look-alike is reviewed (`isthmus review list`)"
        )
