"""How the CLI shows things: one console, errors that say what to do, run tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    "paused": "yellow",
}


def fail(message: str, hint: str | None = None) -> None:
    from rich.markup import escape

    from isthmus.security.redact import redact_text

    # An error may quote a vendor's answer or a URL: known secrets never reach the screen
    # (and brackets in it are text, not rich markup).
    errors.print(f"[bold red]error:[/] {escape(redact_text(message))}")
    if hint:
        errors.print(f"[dim]{hint}[/]")


# (heading, how to count it from a report); the first three always show, the others only
# when some flow of the table has one, so the table fits an 80-column terminal.
_RUN_COLUMNS: tuple[tuple[str, Callable[[RunReport], int]], ...] = (
    ("read", lambda r: r.counts["read"]),
    ("created", lambda r: r.counts["created"]),
    ("updated", lambda r: r.counts["updated"]),
    ("linked", lambda r: r.counts["linked"]),
    ("deleted", lambda r: r.counts["deleted"]),
    ("unchanged", lambda r: r.counts["unchanged"] + r.counts["echo"]),
    ("conflicts", lambda r: r.counts["conflicts"]),
    ("dead letters", lambda r: r.counts["dead_letters"]),
    ("waiting", lambda r: r.counts["waiting"]),
)
_ALWAYS = ("read", "created", "updated")


def run_table(reports: Sequence[RunReport], seconds: float | None = None) -> Table:
    table = Table(title="Sync results" + (f" ({seconds:.1f} s)" if seconds is not None else ""))
    columns = [
        (heading, count)
        for heading, count in _RUN_COLUMNS
        if heading in _ALWAYS or any(count(report) for report in reports)
    ]
    table.add_column("flow")
    table.add_column("status")
    for heading, _ in columns:
        table.add_column(heading, justify="right")
    for report in reports:
        style = STATUS_STYLE.get(report.status, "")
        table.add_row(
            report.flow,
            f"[{style}]{report.status}[/]",
            *(str(count(report)) for _, count in columns),
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
        previous = counts["linked_previous"]
        if not (exact or fuzzy or previous or counts["held"]):
            continue
        again = f", {previous} undeleted and linked to their old partner" if previous else ""
        console.print(
            f"[bold]{report.flow}[/]: matched {exact + fuzzy + previous} existing record(s) "
            f"({exact} by exact key, {fuzzy} by fuzzy score{again}), "
            f"created {counts['created']}; "
            f"{counts['review']} sent to review and {counts['held']} held until their "
            "look-alike is reviewed (`isthmus review list`)"
        )
