"""Prometheus metrics of one installation, on a registry of its own.

Counters and the run-duration histogram grow as runs end (``observe``); gauges that
describe state (open dead letters and review items, queue depth, API budget,
duplicates prevented) are read from the store and the scheduler at scrape time, so
they are right even for work done by another process (the CLI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from isthmus.api.logs import log_run
from isthmus.api.systems_budget import budget_of
from isthmus.engine.report import RunReport
from isthmus.store import Run

if TYPE_CHECKING:
    from isthmus.engine.engine import Engine
    from isthmus.engine.scheduler import Scheduler

OUTCOMES = ("created", "updated", "deleted", "linked", "unchanged", "dead_letters", "skipped")


class StateCollector(Collector):
    def __init__(self, engine: Engine, scheduler: Scheduler | None) -> None:
        self.engine = engine
        self.scheduler = scheduler

    def collect(self) -> Iterator[Any]:
        store = self.engine.store
        letters = GaugeMetricFamily(
            "isthmus_dead_letters_open", "Dead letters open, per flow", labels=["flow"]
        )
        review = GaugeMetricFamily(
            "isthmus_review_items_open", "Review items open, per flow", labels=["flow"]
        )
        for name in self.engine.flows:
            letters.add_metric([name], len(store.dead_letters(flow=name, status="open")))
            review.add_metric([name], len(store.review_items(flow=name)))
        yield letters
        yield review
        depth = self.scheduler.queue.depth() if self.scheduler is not None else 0
        yield GaugeMetricFamily("isthmus_queue_depth", "Work items waiting", value=depth)
        duplicates = GaugeMetricFamily(
            "isthmus_duplicates_prevented",
            "Records linked to an existing partner instead of created twice",
            labels=["flow"],
        )
        for (_, flow), value in store.counters("duplicates_prevented").items():
            duplicates.add_metric([flow], value)
        yield duplicates
        budget = GaugeMetricFamily(
            "isthmus_api_budget", "API calls left, per system and budget", labels=["system", "kind"]
        )
        for system, connector in self.engine.connectors.items():
            for kind, left in (budget_of(connector) or {}).items():
                budget.add_metric([system, kind], left)
        yield budget


class Metrics:
    def __init__(self, engine: Engine, scheduler: Scheduler | None = None) -> None:
        self.registry = CollectorRegistry()
        self.records = Counter(
            "isthmus_records_synced",
            "Records processed, per flow and outcome",
            ["flow", "outcome"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "isthmus_run_seconds",
            "Run durations, per flow",
            ["flow"],
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 1800),
            registry=self.registry,
        )
        self.registry.register(StateCollector(engine, scheduler))
        self.engine = engine

    def observe(self, report: RunReport) -> None:
        """Count and log a finished run (record outcomes and, when stored, its duration)."""
        log_run(report)
        for outcome in OUTCOMES:
            if report.counts[outcome]:
                self.records.labels(report.flow, outcome).inc(report.counts[outcome])
        run = next(
            (r for r in self.engine.store.runs(report.flow, 5) if r.id == report.run_id), None
        )
        seconds = _seconds(run) if run is not None else None
        if seconds is not None:
            self.durations.labels(report.flow).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _seconds(run: Run) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return max((run.finished_at - run.started_at).total_seconds(), 0.0)
