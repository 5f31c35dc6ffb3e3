"""Fault injection: config validation, seeded reproducibility, and the ASGI middleware over HTTP."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from isthmus.sandbox.common import (
    FaultConfig,
    FaultConfigError,
    FaultInjector,
    FaultMiddleware,
    generate_self_signed,
    running_server,
)


async def _hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


def _app(injector: FaultInjector) -> FaultMiddleware:
    return FaultMiddleware(Starlette(routes=[Route("/hello", _hello)]), injector)


@pytest.fixture
def injector() -> FaultInjector:
    return FaultInjector(FaultConfig(seed=1))


@pytest.fixture
def base_url(injector: FaultInjector) -> Iterator[str]:
    with running_server(_app(injector)) as url:
        yield url


@pytest.mark.parametrize(
    "settings",
    [
        {"error_rate": 1.5},
        {"slow_rate": -0.1},
        {"error_rate": 0.6, "timeout_rate": 0.6},
        {"error_statuses": ()},
        {"error_statuses": (404,)},
        {"timeout_seconds": -1},
    ],
)
def test_config_rejects_out_of_range_values(settings: dict[str, object]) -> None:
    with pytest.raises(FaultConfigError):
        FaultConfig(**settings)  # type: ignore[arg-type]


def test_config_update_rejects_unknown_keys() -> None:
    with pytest.raises(FaultConfigError, match="unknown fault settings"):
        FaultConfig().updated({"eror_rate": 0.1})


def test_same_seed_gives_same_fault_sequence() -> None:
    config = FaultConfig(error_rate=0.3, drop_rate=0.2, slow_rate=0.1, seed=42)
    a, b = FaultInjector(config), FaultInjector(config)
    first = [a.decide("/x").kind for _ in range(200)]
    second = [b.decide("/x").kind for _ in range(200)]
    assert first == second
    assert {"error", "drop", "slow", "none"} <= set(first)


def test_rates_are_roughly_honoured() -> None:
    injector = FaultInjector(FaultConfig(error_rate=0.25, seed=3))
    kinds = [injector.decide("/x").kind for _ in range(4000)]
    assert 0.2 < kinds.count("error") / len(kinds) < 0.3


def test_exempt_paths_never_fail() -> None:
    injector = FaultInjector(FaultConfig(error_rate=1.0, seed=3))
    assert injector.decide("/__sandbox/faults").kind == "none"
    assert injector.decide("/hello").kind == "error"


def test_item_failures_follow_partial_failure_rate() -> None:
    never = FaultInjector(FaultConfig(seed=1))
    always = FaultInjector(FaultConfig(partial_failure_rate=1.0, seed=1))
    assert not any(never.item_fails() for _ in range(50))
    assert all(always.item_fails() for _ in range(50))


def test_no_faults_by_default(base_url: str) -> None:
    for _ in range(20):
        assert httpx.get(f"{base_url}/hello").json() == {"hello": "world"}


def test_admin_endpoint_changes_faults_at_run_time(base_url: str) -> None:
    shown = httpx.get(f"{base_url}/__sandbox/faults").json()
    assert shown["error_rate"] == 0.0
    changed = httpx.post(
        f"{base_url}/__sandbox/faults",
        json={"error_rate": 1.0, "error_statuses": [503], "retry_after_seconds": 7},
    )
    assert changed.status_code == 200
    assert changed.json()["error_statuses"] == [503]
    answer = httpx.get(f"{base_url}/hello")
    assert answer.status_code == 503
    assert httpx.get(f"{base_url}/__sandbox/faults").json()["injected"]["error"] >= 1
    assert answer.headers["retry-after"] == "7"
    assert answer.json()["error"] == "injected_fault"
    httpx.post(f"{base_url}/__sandbox/faults", json={"error_rate": 0.0})
    assert httpx.get(f"{base_url}/hello").status_code == 200


def test_admin_endpoint_rejects_bad_settings_with_a_reason(base_url: str) -> None:
    answer = httpx.post(f"{base_url}/__sandbox/faults", json={"error_rate": 2})
    assert answer.status_code == 400
    assert "between 0 and 1" in answer.json()["message"]
    answer = httpx.post(f"{base_url}/__sandbox/faults", content=b"[1, 2]")
    assert answer.status_code == 400
    answer = httpx.post(f"{base_url}/__sandbox/faults", json={"error_statuses": 503})
    assert answer.status_code == 400
    answer = httpx.post(f"{base_url}/__sandbox/faults", json={"error_rate": "high"})
    assert answer.status_code == 400


def test_vendor_error_body_is_used(injector: FaultInjector) -> None:
    def body(status: int) -> tuple[bytes, str]:
        return json.dumps([{"errorCode": "SERVER_UNAVAILABLE", "status": status}]).encode(), (
            "application/json"
        )

    injector.error_body = body
    injector.configure(FaultConfig(error_rate=1.0, error_statuses=(500,), seed=1))
    with running_server(_app(injector)) as url:
        answer = httpx.get(f"{url}/hello")
    assert answer.status_code == 500
    assert answer.json() == [{"errorCode": "SERVER_UNAVAILABLE", "status": 500}]


def test_dropped_connection_is_a_transport_error(base_url: str) -> None:
    httpx.post(f"{base_url}/__sandbox/faults", json={"drop_rate": 1.0})
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/hello")


def test_timeout_fault_outlasts_a_short_client_timeout(base_url: str) -> None:
    httpx.post(f"{base_url}/__sandbox/faults", json={"timeout_rate": 1.0, "timeout_seconds": 5})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{base_url}/hello", timeout=0.3)


def test_slow_fault_delays_but_answers(base_url: str) -> None:
    httpx.post(f"{base_url}/__sandbox/faults", json={"slow_rate": 1.0, "slow_seconds": 0.3})
    started = time.monotonic()
    answer = httpx.get(f"{base_url}/hello")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.29


def test_tls_server_is_reachable_with_the_generated_certificate(injector: FaultInjector) -> None:
    tls = generate_self_signed()
    with running_server(_app(injector), tls=tls) as url:
        assert url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(tls.cert_path))
        answer = httpx.get(f"{url}/hello", verify=trust)
        assert answer.json() == {"hello": "world"}
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/hello")  # not trusted without the certificate


def test_configuring_a_seed_replays_the_sequence_from_there() -> None:
    injector = FaultInjector()
    config = FaultConfig(error_rate=0.5, seed=5)
    injector.configure(config)
    first = [injector.decide("/x").kind for _ in range(50)]
    injector.configure(config)
    assert [injector.decide("/x").kind for _ in range(50)] == first
