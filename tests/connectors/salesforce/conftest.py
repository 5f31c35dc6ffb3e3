"""A Salesforce sandbox per test, served over real HTTP, and connectors logged in to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from isthmus.connectors.salesforce import SalesforceConnector, from_config
from isthmus.sandbox.salesforce.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    SandboxSettings,
)
from tests.sandbox.salesforce.conftest import RunningSandbox, serve_sandbox


def options(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "login_url": url,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        **extra,
    }


def password_options(url: str, **extra: Any) -> dict[str, Any]:
    return options(
        url, grant="password", username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, **extra
    )


@pytest.fixture
def org() -> Iterator[RunningSandbox]:
    """An empty org of its own for each test."""
    with serve_sandbox(SandboxSettings(volume="empty")) as running:
        yield running


@pytest.fixture
def connect(org: RunningSandbox) -> Callable[..., SalesforceConnector]:
    def make(**extra: Any) -> SalesforceConnector:
        return from_config("crm", options(org.url, **extra))

    return make


def set_faults(org: RunningSandbox, **faults: Any) -> None:
    answer = httpx.post(f"{org.url}/__sandbox/faults", json=faults, timeout=5)
    answer.raise_for_status()
