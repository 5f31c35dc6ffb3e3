"""How ``isthmus sync --dry-run`` and ``--json`` show their results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from isthmus.cli.output import console
from isthmus.engine.report import PREVIEW_ORDER, RunReport

_LABELS = {
    "link_exact": "link (exact key)",
    "link_fuzzy": "link (fuzzy score)",
    "review": "to review",
    "held": "held (in an open review)",
    "create": "create",
    "update": "update",
    "unchanged": "unchanged",
    "skip": "skip",
    "delete": "delete",
    "failed": "cannot be read",
}


def as_json(reports: Sequence[RunReport], seconds: float) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 3),
        "flows": [
            {
                "flow": report.flow,
                "status": report.status,
                "dry_run": report.preview is not None,
                "counts": dict(report.counts),
                "messages": report.messages,
                **({"preview": report.preview.as_dict()} if report.preview else {}),
            }
            for report in reports
        ],
    }


def print_json(reports: Sequence[RunReport], seconds: float) -> None:
    # Plain print, not Rich: the output is for programs and must not be wrapped.
    print(json.dumps(as_json(reports, seconds), ensure_ascii=False, indent=2, default=str))


def print_preview(reports: Sequence[RunReport]) -> None:
    for report in reports:
        preview = report.preview
        if preview is None:
            continue
        table = Table(title=f"Dry run of {report.flow}: nothing was written")
        for column in ("would", "records", "samples"):
            table.add_column(
                column, overflow="fold", justify="right" if column == "records" else "left"
            )
        for name in PREVIEW_ORDER:
            if preview.counts[name]:
                samples = "; ".join(_sample(s) for s in preview.samples.get(name, []))
                table.add_row(_LABELS[name], str(preview.counts[name]), samples)
        console.print(table)


def _sample(sample: dict[str, Any]) -> str:
    text = str(sample.get("label") or sample["id"])
    if "partner" in sample:
        score = f" ({sample['score']:.2f})" if "score" in sample else ""
        return f"{text} -> {sample['partner']}{score}"
    candidates = sample.get("candidates")
    if candidates:
        shown = ", ".join(
            f"{c['id']} ({c['score']:.2f})" if isinstance(c, dict) else str(c) for c in candidates
        )
        return f"{text} ~ {shown}"
    return text
