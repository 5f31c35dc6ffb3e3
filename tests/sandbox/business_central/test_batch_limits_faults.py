"""$batch (limit, change sets), the rate limit with Retry-After, injected faults, persistence."""

from __future__ import annotations

from pathlib import Path

import httpx

from isthmus.sandbox.business_central.app import create_app
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.business_central.simulator import ActivitySimulator
from isthmus.sandbox.common import FAULTS_ADMIN_PATH
from tests.sandbox.business_central.conftest import FAST, Sandbox, start


def _customer_post(i: int, group: str | None = None, **extra: object) -> dict[str, object]:
    request: dict[str, object] = {
        "id": str(i),
        "method": "POST",
        "url": "companies({company})/customers",
        "headers": {"Content-Type": "application/json"},
        "body": {"displayName": f"Batch {i}", **extra},
    }
    if group:
        request["atomicityGroup"] = group
    return request


def _batch(sandbox: Sandbox, requests: list[dict[str, object]]) -> httpx.Response:
    for request in requests:
        request["url"] = str(request["url"]).replace("{company}", sandbox.company_id)
    return sandbox.http.post(f"{sandbox.api}/$batch", json={"requests": requests})


def _count(sandbox: Sandbox, display_prefix: str) -> int:
    params = {"$filter": f"startswith(displayName,'{display_prefix}')", "$count": "true"}
    return int(
        sandbox.http.get(f"{sandbox.company}/customers", params=params).json()["@odata.count"]
    )


def test_batch_runs_operations_and_rolls_back_failed_change_set(sandbox: Sandbox) -> None:
    reply = _batch(
        sandbox,
        [
            _customer_post(1),
            _customer_post(2, "set"),
            _customer_post(3, "set", nope=True),
            {"id": "4", "method": "GET", "url": f"{sandbox.company}/customers?$top=1"},
        ],
    )
    assert reply.status_code == 200
    statuses = {r["id"]: r["status"] for r in reply.json()["responses"]}
    assert statuses == {"1": 201, "2": 424, "3": 400, "4": 200}
    assert _count(sandbox, "Batch ") == 1


def test_batch_over_100_operations_is_refused(sandbox: Sandbox) -> None:
    reply = _batch(sandbox, [_customer_post(i) for i in range(101)])
    assert reply.status_code == 400
    assert "limit is 100" in reply.json()["error"]["message"]
    assert _count(sandbox, "Batch ") == 0
    assert _batch(sandbox, [_customer_post(i) for i in range(100)]).status_code == 200
    assert _count(sandbox, "Batch ") == 100


def test_rate_limit_answers_429_with_retry_after() -> None:
    for sandbox in start(SandboxConfig(customers=1, items=1, rate_limit=5, rate_window_seconds=60)):
        statuses = [sandbox.http.get(f"{sandbox.api}/companies").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = sandbox.http.get(f"{sandbox.api}/companies")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["error"]["code"] == "Application_TooManyRequests"


def test_injected_faults_use_business_central_error_shape(sandbox: Sandbox) -> None:
    admin = f"{sandbox.url}{FAULTS_ADMIN_PATH}"
    assert (
        sandbox.http.put(admin, json={"error_rate": 1.0, "error_statuses": [503]}).status_code
        == 200
    )
    failed = sandbox.http.get(f"{sandbox.api}/companies")
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "ServiceUnavailable"
    sandbox.http.put(admin, json={"error_rate": 0.0})
    assert sandbox.http.get(f"{sandbox.api}/companies").status_code == 200


def test_sqlite_persistence_survives_restart(tmp_path: Path) -> None:
    config = SandboxConfig(customers=2, items=2, db_path=tmp_path / "bc.sqlite")
    for sandbox in start(config):
        created = sandbox.http.post(f"{sandbox.company}/customers", json={"displayName": "Kept"})
        assert created.status_code == 201
        company_id = sandbox.company_id
    app = create_app(config)
    assert app.state.company_id == company_id
    kept = [c for c in app.state.store.rows(company_id, "customers") if c["displayName"] == "Kept"]
    assert len(kept) == 1
    assert len(app.state.store.rows(company_id, "customers")) == 3


def test_simulator_produces_erp_activity() -> None:
    app = create_app(SandboxConfig(customers=5, items=5, seed=3))
    store = app.state.store
    for customer in store.rows(app.state.company_id, "customers"):
        customer["creditLimit"] = 0  # no credit holds, so every activity can happen
    simulator = ActivitySimulator(store, app.state.company_id, FAST)
    done = [simulator.step() for _ in range(40)]
    assert any(d.startswith("took order") for d in done)
    assert any(d.startswith("shipped") for d in done)
    assert any(d.startswith("collected") for d in done)
    assert store.rows(app.state.company_id, "salesInvoices")


def test_defaults_follow_the_documented_limits() -> None:
    """API-NOTES §7: 6,000 requests / 5 min, 20,000 rows a page, 100 per $batch, webhooks
    delayed 30 s, 3-day subscriptions, collection past 1,000 changes, retries for 36 h."""
    config = SandboxConfig()
    assert (config.rate_limit, config.rate_window_seconds) == (6_000, 300.0)
    assert config.page_size == 20_000
    assert config.batch_limit == 100
    assert config.webhook_delay_seconds == 30.0
    assert config.subscription_lifetime_seconds == 3 * 24 * 3600
    assert config.webhook_collection_threshold == 1_000
    assert config.webhook_retry_window_seconds == 36 * 3600
