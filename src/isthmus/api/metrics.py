"""``GET /metrics``: Prometheus text, read from the store at scrape time.

Gauges come from the state store (the source of truth, shared by every worker), so a
scrape of any process gives the installation's numbers, not one process's memory.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from isthmus.engine.engine import Engine


def render(engine: Engine) -> bytes:
    registry = CollectorRegistry()
    letters = Gauge(
        "isthmus_dead_letters",
        "Dead letters by flow and status",
        ["flow", "status"],
        registry=registry,
    )
    review = Gauge("isthmus_review_items_open", "Open review items", ["flow"], registry=registry)
    links = Gauge("isthmus_links", "Linked records", ["flow"], registry=registry)
    last = Gauge(
        "isthmus_last_run_records",
        "Records of the last run by outcome",
        ["flow", "outcome"],
        registry=registry,
    )
    ok = Gauge(
        "isthmus_last_run_succeeded",
        "1 when the flow's last run succeeded",
        ["flow"],
        registry=registry,
    )
    breaker = Gauge(
        "isthmus_circuit_open", "1 while a system's circuit is open", ["system"], registry=registry
    )
    counters = Gauge(
        "isthmus_counter",
        "Installation counters (duplicates prevented, ...)",
        ["name", "key"],
        registry=registry,
    )
    store = engine.store
    for name, flow in engine.flows.items():
        for status in ("open", "waiting"):
            letters.labels(name, status).set(len(store.dead_letters(flow=name, status=status)))
        review.labels(name).set(len(store.review_items(flow=name, status="open")))
        links.labels(name).set(store.count_xrefs(flow.entity, flow.target.system))
        runs = store.runs(name, limit=1)
        if runs:
            ok.labels(name).set(1 if runs[0].status == "succeeded" else 0)
            for outcome, count in runs[0].counts.items():
                last.labels(name, outcome).set(count)
    for system, circuit in engine.breakers.items():
        breaker.labels(system).set(1 if circuit.opened_at is not None else 0)
    for (counter, key), value in store.counters().items():
        counters.labels(counter, key).set(value)
    return generate_latest(registry)
