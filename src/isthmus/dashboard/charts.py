"""Small bar charts as inline SVG, drawn on the server: no script, nothing fetched.

A missing value (no run in that slice) is drawn as a gap, not as zero, so "nothing
happened" and "everything failed" look different.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 240, 64, 2


def bar_chart(
    values: Sequence[float | None],
    starts: Sequence[datetime],
    *,
    unit: str,
    ceiling: float | None = None,
    label: str = "",
) -> Markup:
    """An SVG bar chart, one bar per value; each bar's tooltip gives its time and value."""
    known = [v for v in values if v is not None]
    top = ceiling if ceiling is not None else max(known, default=0.0)
    top = top or 1.0
    slot = (WIDTH - PAD * 2) / max(len(values), 1)
    bars = []
    for index, value in enumerate(values):
        x = PAD + index * slot
        when = starts[index].strftime("%H:%M") if index < len(starts) else ""
        if value is None:
            bars.append(
                f'<rect class="gap" x="{x:.1f}" y="{HEIGHT - 3}" width="{slot - 2:.1f}" '
                f'height="1"><title>{when}: no runs</title></rect>'
            )
            continue
        height = max((value / top) * (HEIGHT - PAD * 2), 1.0)
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{HEIGHT - PAD - height:.1f}" '
            f'width="{slot - 2:.1f}" height="{height:.1f}">'
            f"<title>{when}: {value:.4g} {escape(unit)}</title></rect>"
        )
    title = escape(label)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" '
        f'preserveAspectRatio="none">{"".join(bars)}</svg>'
    )
