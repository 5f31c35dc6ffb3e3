"""Tables for ``status``, ``dead-letters`` and ``review``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from isthmus.cli.output import STATUS_STYLE
from isthmus.engine.engine import Engine
from isthmus.engine.inspect import SideBySide
from isthmus.store.types import DeadLetter, ReviewItem


def status_table(engine: Engine) -> Table:
    table = Table(title="Flows")
    for column in (
        "flow",
        "entity",
        "direction",
        "last run",
        "status",
        "links",
        "dead letters",
        "waiting",
        "review",
    ):
        table.add_column(column)
    for name, info in engine.status().items():
        flow = engine.flows[name]
        run = info["last_run"]
        when = run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run and run.started_at else "never"
        state = run.status if run else "-"
        style = STATUS_STYLE.get(state, "")
        arrow = "<->" if flow.config.direction == "both" else "->"
        table.add_row(
            name,
            flow.entity,
            f"{flow.source.system} {arrow} {flow.target.system}",
            when,
            f"[{style}]{state}[/]",
            str(info["links"]),
            _alert(info["dead_letters"]),
            str(info["waiting"]),
            _alert(info["review"]),
        )
    return table


def _alert(count: int) -> str:
    return f"[bold red]{count}[/]" if count else "0"


def dead_letter_table(letters: Sequence[DeadLetter]) -> Table:
    table = Table(title=f"Dead letters ({len(letters)})")
    for column in ("id", "flow", "record", "kind", "field", "attempts", "status", "message"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.flow,
            f"{letter.system}:{letter.native_id}",
            letter.kind,
            letter.field or "",
            str(letter.attempts),
            letter.status,
            letter.message,
        )
    return table


def review_table(items: Sequence[ReviewItem]) -> Table:
    table = Table(title=f"Review items ({len(items)})")
    for column in ("id", "flow", "kind", "subject", "field", "one side", "other side", "base"):
        table.add_column(column, overflow="fold")
    for item in items:
        details = item.details
        table.add_row(
            str(item.id),
            item.flow,
            item.kind,
            item.subject_key,
            str(details.get("field", "")),
            _side(details, "origin"),
            _side(details, "partner"),
            _show(details.get("base_value")),
        )
    return table


def _side(details: dict[str, Any], side: str) -> str:
    system = details.get(f"{side}_system", side)
    if side == "partner" and "suggestions" in details:
        return "candidates: " + ", ".join(
            f"{s['id']} ({s['score']:.2f}: {_values(s.get('values', {}))})"
            for s in details["suggestions"]
        )
    if side == "partner" and "candidates" in details:
        return f"candidates: {', '.join(details['candidates'])}"
    if side == "origin" and "origin_values" in details:
        return f"{system}:{details.get('origin_id')} {_values(details['origin_values'])}"
    return f"{system}: {_show(details.get(f'{side}_value'))}"


def _values(values: dict[str, Any]) -> str:
    return "; ".join(str(value) for value in values.values() if value not in (None, ""))


def _show(value: Any) -> str:
    return "∅" if value is None else json.dumps(value, ensure_ascii=False)


def side_by_side_table(sides: SideBySide) -> Table:
    """Every field of both records, the base, and the fields that differ in bold."""
    item = sides.item
    disputed = item.details.get("field")
    title = f"Review item {item.id} ({item.kind}, {item.status}) in flow {item.flow}"
    table = Table(title=title)
    table.add_column("field")
    for system in sides.systems:
        table.add_column(f"{system} {sides.native_ids[system]}", overflow="fold")
    table.add_column("base (last agreed)", overflow="fold")
    for path, values, base, differs in sides.rows():
        style = "bold red" if path == disputed else ("yellow" if differs else "")
        table.add_row(path, *(_show(v) for v in values), _show(base), style=style)
    return table
