"""The numbers of the overview page, read from the store (and the scheduler's queue).

Series are bucketed over the window of recent runs, so a chart shows how the last hours
went, not only the state now. Everything here is read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from isthmus.api.systems_budget import budget_of
from isthmus.store import DeadLetter, ReviewItem, Run

if TYPE_CHECKING:
    from isthmus.api.context import ApiContext

# Outcomes that mean "a record went through a run" (unchanged ones were read and compared).
PROCESSED = ("created", "updated", "deleted", "linked", "unchanged", "dead_letters", "skipped")
FINISHED = ("succeeded", "partial", "failed", "stopped", "paused")
BUCKETS = 12
WINDOW = timedelta(hours=24)
RUNS_READ = 1000


@dataclass(frozen=True)
class Attention:
    """One thing a person should look at: what, how many, and where to act."""

    text: str
    link: str
    severity: str = "warn"  # "warn" or "bad"


@dataclass
class Series:
    """Values per time bucket, oldest first, with each bucket's start."""

    starts: list[datetime]
    values: list[float | None]


@dataclass
class Kpis:
    runs: int
    records: int
    records_per_min: Series
    success_rate: float | None
    success_series: Series
    p50_seconds: float | None
    p95_seconds: float | None
    p95_series: Series
    errors_series: Series
    queue_depth: int
    pending_writes: int
    dead_letters_open: int
    waiting: int
    failed_runs: int
    duplicates_prevented: int
    conflicts_open: int
    budgets: dict[str, dict[str, float] | None]
    attention: list[Attention] = field(default_factory=list)

    @property
    def all_good(self) -> bool:
        return not self.attention


def processed(run: Run) -> int:
    return sum(int(run.counts.get(name, 0)) for name in PROCESSED)


def duration(run: Run) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return max((run.finished_at - run.started_at).total_seconds(), 0.0)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile; None when there is nothing to rank."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))  # ceil without float surprises
    return ordered[min(rank, len(ordered)) - 1]


def success_rate(runs: Sequence[Run]) -> float | None:
    finished = [run for run in runs if run.status in FINISHED]
    if not finished:
        return None
    return sum(1 for run in finished if run.status == "succeeded") / len(finished)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def bucketed(runs: Sequence[Run], now: datetime) -> tuple[list[datetime], list[list[Run]]]:
    """Split runs into ``BUCKETS`` equal time slices from the oldest run (within
    ``WINDOW``) to now; a slice is at least a minute long."""
    times = [_aware(run.started_at) for run in runs if run.started_at is not None]
    start = max(min(times, default=now), now - WINDOW)
    width = max((now - start) / BUCKETS, timedelta(minutes=1))
    start = now - width * BUCKETS
    starts = [start + width * index for index in range(BUCKETS)]
    slices: list[list[Run]] = [[] for _ in range(BUCKETS)]
    for run in runs:
        if run.started_at is None or _aware(run.started_at) < start:
            continue
        index = min(int((_aware(run.started_at) - start) / width), BUCKETS - 1)
        slices[index].append(run)
    return starts, slices


def series_of(runs: Sequence[Run], now: datetime) -> dict[str, Series]:
    starts, slices = bucketed(runs, now)
    minutes = ((starts[1] - starts[0]) if len(starts) > 1 else timedelta(minutes=1)) / timedelta(
        minutes=1
    )
    per_min: list[float | None] = [sum(processed(r) for r in s) / minutes for s in slices]
    success: list[float | None] = [
        None if (rate := success_rate(s)) is None else rate * 100 for s in slices
    ]
    p95: list[float | None] = [
        percentile([d for r in s if (d := duration(r)) is not None], 0.95) for s in slices
    ]
    errors: list[float | None] = [
        float(sum(int(r.counts.get("dead_letters", 0)) for r in s)) for s in slices
    ]
    return {
        "per_min": Series(starts, per_min),
        "success": Series(starts, success),
        "p95": Series(starts, p95),
        "errors": Series(starts, errors),
    }


def kpis_of(ctx: ApiContext, now: datetime | None = None) -> Kpis:
    """Everything the overview shows, with the list of what needs a person."""
    now = now or datetime.now(UTC)
    engine, store = ctx.engine, ctx.engine.store
    runs = [
        run
        for run in store.runs(None, RUNS_READ)
        # Reconciliations compare, they do not sync: they have their own page.
        if run.started_at is not None
        and _aware(run.started_at) >= now - WINDOW
        and run.trigger != "reconcile"
    ]
    series = series_of(runs, now)
    durations = [d for run in runs if (d := duration(run)) is not None]
    letters = store.dead_letters(status="open", limit=5000)
    waiting = store.dead_letters(status="waiting", limit=5000)
    review = store.review_items(status="open", limit=5000)
    budgets = {name: budget_of(connector) for name, connector in engine.connectors.items()}
    kpis = Kpis(
        runs=len(runs),
        records=sum(processed(run) for run in runs),
        records_per_min=series["per_min"],
        success_rate=success_rate(runs),
        success_series=series["success"],
        p50_seconds=percentile(durations, 0.5),
        p95_seconds=percentile(durations, 0.95),
        p95_series=series["p95"],
        errors_series=series["errors"],
        queue_depth=ctx.scheduler.queue.depth() if ctx.scheduler is not None else 0,
        pending_writes=len(store.pending_writes()),
        dead_letters_open=len(letters),
        waiting=len(waiting),
        failed_runs=sum(1 for run in runs if run.status == "failed"),
        duplicates_prevented=sum(store.counters("duplicates_prevented").values()),
        conflicts_open=len(review),
        budgets=budgets,
    )
    kpis.attention = attention(ctx, kpis, per_flow(letters), per_flow(review))
    return kpis


def per_flow(items: Sequence[DeadLetter | ReviewItem]) -> dict[str, int]:
    """How many of these dead letters or review items each flow has."""
    found: dict[str, int] = {}
    for item in items:
        found[item.flow] = found.get(item.flow, 0) + 1
    return found


def attention(
    ctx: ApiContext, kpis: Kpis, letters: dict[str, int], review: dict[str, int]
) -> list[Attention]:
    """What needs a person, most urgent first, each with the page to act on it."""
    found: list[Attention] = []
    engine = ctx.engine
    for flow in engine.flows:
        last = [run for run in engine.store.runs(flow, 5) if run.trigger != "reconcile"][:1]
        if last and last[0].status in ("failed", "stopped"):
            why = f": {last[0].message}" if last[0].message else ""
            found.append(
                Attention(
                    f"The last run of {flow} {last[0].status}{why}",
                    f"/dashboard/flows/{flow}",
                    "bad",
                )
            )
    for flow, count in sorted(letters.items()):
        found.append(
            Attention(
                f"{count} dead letter{'s' * (count != 1)} in {flow}: fix the record, then replay",
                f"/dashboard/dead-letters?flow={flow}",
            )
        )
    for flow, count in sorted(review.items()):
        found.append(
            Attention(
                f"{count} review item{'s' * (count != 1)} in {flow} "
                f"wait{'s' * (count == 1)} for a decision",
                f"/dashboard/review?flow={flow}",
            )
        )
    for flow in sorted(ctx.engine.paused):
        found.append(Attention(f"Flow {flow} is paused", f"/dashboard/flows/{flow}"))
    for system, budget in kpis.budgets.items():
        if budget and budget.get("limit") and budget.get("remaining", 1) / budget["limit"] < 0.1:
            found.append(
                Attention(
                    f"{system} has {budget['remaining']:.0f} of {budget['limit']:.0f} API calls "
                    "left",
                    "/dashboard#systems",
                    "bad",
                )
            )
    for name, report in sorted(ctx.reconciled.items()):
        if not report.clean:
            found.append(
                Attention(
                    f"Reconciliation of {name} found {len(report.drifts)} difference"
                    f"{'s' * (len(report.drifts) != 1)}",
                    "/dashboard/reconcile",
                )
            )
    found.sort(key=lambda item: item.severity != "bad")
    return found
