"""``isthmus reconcile``: compare both systems record by record, and repair on request."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from isthmus.cli.output import console, fail
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.reconcile import DriftKind, ReconcileReport
from isthmus.errors import IsthmusError

KINDS: tuple[DriftKind, ...] = ("missing", "orphaned", "mismatch", "unmappable")
WHAT_TO_DO = {
    "missing": "a record without a partner: --repair syncs it (matching first, then create)",
    "orphaned": "a link whose record is gone: --repair applies the flow's on_delete rule",
    "mismatch": "linked records disagree: --repair re-syncs both through the flow's policy",
    "unmappable": "the mapping cannot read the record: fix the value or the mapping",
}


def _summary(reports: list[ReconcileReport]) -> Table:
    table = Table(title="Reconciliation")
    for column in ("flow", "records", "compared", "in agreement", *KINDS):
        table.add_column(column, justify="left" if column == "flow" else "right")
    for report in reports:
        records = " / ".join(f"{system} {n}" for system, n in report.records.items())
        counts = report.counts()
        table.add_row(
            report.flow,
            records,
            str(report.compared),
            str(report.in_agreement),
            *(f"[red]{counts[k]}[/]" if counts[k] else "0" for k in KINDS),
        )
    return table


def _samples(report: ReconcileReport) -> None:
    for kind in KINDS:
        samples = report.samples(kind)
        if not samples:
            continue
        console.print(f"[bold]{report.flow}[/]: {report.count(kind)} {kind} ({WHAT_TO_DO[kind]})")
        for drift in samples:
            values = ", ".join(f"{system}={value!r}" for system, value in drift.values.items())
            console.print(f"  - {drift.detail}" + (f" [dim]({values})[/]" if values else ""))


def reconcile(
    config: Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")],
    flow: Annotated[list[str] | None, typer.Option("--flow", "-f", help="Only this flow.")] = None,
    repair: Annotated[
        bool, typer.Option(help="Send each drift through the normal pipeline, then check again.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Compare both systems record by record through the mappings: missing records,
    orphaned links and field mismatches. Exits 1 while drift remains."""
    try:
        engine = Engine.from_config(load_config(config))
    except IsthmusError as error:
        fail(str(error), "Fix the file and run `isthmus validate -c FILE` again.")
        raise typer.Exit(2) from None
    unknown = [name for name in flow or [] if name not in engine.flows]
    if unknown:
        fail(f"no flow named {unknown[0]!r}", f"flows: {', '.join(engine.flows)}")
        raise typer.Exit(2)

    async def go() -> tuple[list[ReconcileReport], list[ReconcileReport]]:
        try:
            found = await engine.reconcile(flow or None)
            if not repair or all(report.clean for report in found):
                return found, found
            for report in found:
                if not report.clean:
                    run = await engine.repair(report)
                    console.print(f"repaired [bold]{report.flow}[/]: {run.summary()}")
            return found, await engine.reconcile(flow or None)
        finally:
            await engine.close()

    try:
        before, after = asyncio.run(go())
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    if as_json:
        payload = {"found": [r.as_dict() for r in before]}
        if repair:
            payload["after_repair"] = [r.as_dict() for r in after]
        console.print_json(json.dumps(payload))
    else:
        console.print(_summary(after if repair else before))
        for report in after:
            _samples(report)
        if all(report.clean for report in after):
            console.print("[green]Both systems agree.[/]")
    if not all(report.clean for report in after):
        raise typer.Exit(1)
