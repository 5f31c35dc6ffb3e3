"""Fixtures: a Salesforce sandbox served over real HTTP in a thread, and clients for it.

simple-salesforce always builds ``https://{domain}.salesforce.com`` and
``https://{instance}`` URLs; :class:`SandboxAdapter` (a requests transport adapter)
sends every such request to the sandbox's plain-HTTP base URL instead, so the library
runs unchanged. ``test_tls.py`` covers the HTTPS route with a trusted certificate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from isthmus.sandbox.common import running_server
from isthmus.sandbox.salesforce.app import SalesforceSandbox, create_sandbox
from isthmus.sandbox.salesforce.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    SandboxSettings,
)

API = "/services/data/v59.0"


class SandboxAdapter(HTTPAdapter):
    """Sends every request, whatever its host, to ``base_url`` (scheme and port included)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(str(request.url))
        request.url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


@dataclass
class RunningSandbox:
    """A sandbox being served: its base URL, its internals, and ready clients."""

    url: str
    sandbox: SalesforceSandbox

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
            },
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def http(self) -> httpx.Client:
        """An httpx client with a valid bearer token."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token()}"}, timeout=10
        )

    def simple_salesforce(self, **options: Any) -> Salesforce:
        """simple-salesforce logged in with the OAuth2 password flow."""
        session = requests.Session()
        session.mount("https://", SandboxAdapter(self.url))
        return Salesforce(
            username=DEFAULT_USERNAME,
            password=DEFAULT_PASSWORD,
            consumer_key=DEFAULT_CLIENT_ID,
            consumer_secret=DEFAULT_CLIENT_SECRET,
            session=session,
            **options,
        )


@contextlib.contextmanager
def serve_sandbox(
    settings: SandboxSettings | None = None, *, accounts: int | None = None
) -> Iterator[RunningSandbox]:
    """Build a sandbox and serve it on a free port for the ``with`` block."""
    sandbox = create_sandbox(settings, accounts=accounts)
    with running_server(sandbox.asgi) as url:
        yield RunningSandbox(url, sandbox)


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningSandbox]:
    """One small seeded org per test module; tests on it create their own records."""
    with serve_sandbox(SandboxSettings(seed=7, volume="small")) as running:
        yield running


@pytest.fixture
def fresh() -> Iterator[RunningSandbox]:
    """An empty org for tests that count or change org-wide state."""
    with serve_sandbox(SandboxSettings(volume="empty")) as running:
        yield running


@pytest.fixture(scope="module")
def sf(shared: RunningSandbox) -> Salesforce:
    return shared.simple_salesforce()


@pytest.fixture(scope="module")
def http(shared: RunningSandbox) -> Iterator[httpx.Client]:
    with shared.http() as client:
        yield client
