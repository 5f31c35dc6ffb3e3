"""The alert rules: each looks at the store (and the connectors' budgets) and says which
conditions hold now. Read-only; deciding when to notify is ``monitor``'s job.

Every alert names its subject (a flow or a system) and the dashboard page that
explains it, so whoever receives it lands where they can act.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from isthmus.api.systems_budget import budget_of
from isthmus.engine.config import AlertRulesConfig
from isthmus.engine.engine import Engine
from isthmus.store import Run

FAILED = ("failed", "stopped")
FINISHED = ("succeeded", "partial", "failed", "stopped")


@dataclass(frozen=True)
class Alert:
    rule: str
    subject: str  # a flow or a system
    text: str
    page: str  # dashboard path that explains it

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule, self.subject)


def _finished(engine: Engine, flow: str, count: int) -> list[Run]:
    """The newest ``count`` finished sync runs of a flow, newest first."""
    runs = engine.store.runs(flow, count * 3 + 10)
    return [r for r in runs if r.trigger != "reconcile" and r.status in FINISHED][:count]


def _seconds(run: Run) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return max((run.finished_at - run.started_at).total_seconds(), 0.0)


def _rate(runs: Sequence[Run]) -> float:
    return sum(1 for r in runs if r.status == "succeeded") / len(runs)


def failure_rate(engine: Engine, rules: AlertRulesConfig) -> Iterator[Alert]:
    if rules.failure_rate is None:
        return
    for flow in engine.flows:
        runs = _finished(engine, flow, rules.window)
        if len(runs) < rules.min_runs:
            continue
        failed = sum(1 for r in runs if r.status in FAILED)
        if failed / len(runs) >= rules.failure_rate:
            yield Alert(
                "failure_rate",
                flow,
                f"{failed} of the last {len(runs)} runs of {flow} failed "
                f"(alert at {rules.failure_rate:.0%}); the flow page shows each run's message",
                f"/dashboard/flows/{flow}",
            )


def success_drop(engine: Engine, rules: AlertRulesConfig) -> Iterator[Alert]:
    if rules.success_drop is None:
        return
    for flow in engine.flows:
        runs = _finished(engine, flow, rules.window * 2)
        recent, baseline = runs[: rules.window], runs[rules.window :]
        if len(recent) < rules.min_runs or len(baseline) < rules.min_runs:
            continue
        now, before = _rate(recent), _rate(baseline)
        if before - now >= rules.success_drop:
            yield Alert(
                "success_drop",
                flow,
                f"success rate of {flow} fell to {now:.0%} over its last {len(recent)} runs, "
                f"from {before:.0%} before",
                f"/dashboard/flows/{flow}",
            )


def latency_spike(engine: Engine, rules: AlertRulesConfig) -> Iterator[Alert]:
    if rules.latency_factor is None:
        return
    for flow in engine.flows:
        runs = _finished(engine, flow, rules.window + 1)
        durations = [d for r in runs[1:] if (d := _seconds(r)) is not None]
        last = _seconds(runs[0]) if runs else None
        if last is None or len(durations) < rules.min_runs:
            continue
        usual = statistics.median(durations)
        if last >= rules.latency_min_seconds and last > usual * rules.latency_factor:
            yield Alert(
                "latency_spike",
                flow,
                f"the last run of {flow} took {last:.1f} s, {last / max(usual, 1e-9):.0f}x "
                f"its usual {usual:.1f} s",
                f"/dashboard/flows/{flow}",
            )


def dead_letter_growth(engine: Engine, rules: AlertRulesConfig, now: datetime) -> Iterator[Alert]:
    if rules.dead_letters_new is None or rules.dead_letters_within is None:
        return
    since = now - rules.dead_letters_within
    for flow in engine.flows:
        letters = engine.store.dead_letters(flow=flow, status="open", limit=5000)
        new = [
            letter
            for letter in letters
            if letter.first_at is not None and _aware(letter.first_at) >= since
        ]
        if len(new) >= rules.dead_letters_new:
            yield Alert(
                "dead_letter_growth",
                flow,
                f"{len(new)} new dead letter{'s' * (len(new) != 1)} in {flow} in the last "
                f"{_span(rules.dead_letters_within)} ({len(letters)} open in all)",
                f"/dashboard/dead-letters?flow={flow}",
            )


def budget_exhaustion(engine: Engine, rules: AlertRulesConfig) -> Iterator[Alert]:
    if rules.budget_below is None:
        return
    for system, connector in engine.connectors.items():
        budget = budget_of(connector) or {}
        limit, left = budget.get("limit"), budget.get("remaining")
        if limit and left is not None and left / limit < rules.budget_below:
            yield Alert(
                "budget",
                system,
                f"{system} has {left:.0f} of {limit:.0f} API calls left "
                f"(alert below {rules.budget_below:.0%}); runs will pause when it is spent",
                "/dashboard#systems",
            )


def reconcile_drift(engine: Engine, rules: AlertRulesConfig) -> Iterator[Alert]:
    if rules.drift_above is None:
        return
    for flow in engine.flows:
        latest = next((r for r in engine.store.runs(flow, 50) if r.trigger == "reconcile"), None)
        if latest is None:
            continue
        kinds = {k: latest.counts.get(k, 0) for k in ("mismatch", "missing", "orphaned")}
        if sum(kinds.values()) > rules.drift_above:
            found = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n)
            yield Alert(
                "reconcile_drift",
                flow,
                f"reconciliation of {flow} found the systems disagree: {found}",
                "/dashboard/reconcile",
            )


def evaluate(engine: Engine, rules: AlertRulesConfig, now: datetime | None = None) -> list[Alert]:
    """Every alert whose condition holds now."""
    now = now or datetime.now(UTC)
    return [
        *failure_rate(engine, rules),
        *success_drop(engine, rules),
        *latency_spike(engine, rules),
        *dead_letter_growth(engine, rules, now),
        *budget_exhaustion(engine, rules),
        *reconcile_drift(engine, rules),
    ]


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
