"""A Business Central sandbox per test on a real port, and connectors for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from isthmus.connectors.business_central import BusinessCentralConnector, from_config
from isthmus.sandbox.business_central.config import SandboxConfig
from tests.sandbox.business_central.conftest import FAST, Sandbox, start


def options(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    config = sandbox.config
    return {
        "base_url": sandbox.url,
        "login_url": sandbox.url,
        "tenant": config.tenant,
        "environment": config.environment,
        "company": sandbox.company_id,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "timeout_seconds": 5,
        **extra,
    }


@pytest.fixture
def erp() -> Iterator[Sandbox]:
    yield from start(replace(FAST, customers=6, items=4))


@pytest.fixture
def connect(erp: Sandbox) -> Callable[..., BusinessCentralConnector]:
    def make(**extra: Any) -> BusinessCentralConnector:
        return from_config("erp", options(erp, **extra))

    return make


def all_customers(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every customer, through the sandbox's own paging."""
    rows: list[dict[str, Any]] = []
    url: str | None = f"{sandbox.company}/customers"
    while url:
        body = sandbox.http.get(url).json()
        rows += body["value"]
        url = body.get("@odata.nextLink")
    return rows


def set_faults(sandbox: Sandbox, **faults: Any) -> None:
    answer = httpx.put(f"{sandbox.url}/__sandbox/faults", json=faults, timeout=5)
    answer.raise_for_status()


def sandbox_with(**changes: Any) -> Iterator[Sandbox]:
    yield from start(replace(FAST, **changes))


__all__ = ["SandboxConfig", "all_customers", "options", "sandbox_with", "set_faults"]
