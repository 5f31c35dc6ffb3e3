"""A Business Central sandbox on a real port, and an authenticated httpx client for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from isthmus.sandbox.business_central.app import create_app, with_faults
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.common import running_server

FAST = SandboxConfig(
    customers=12, items=8, page_size=5, webhook_delay_seconds=0.2, webhook_retry_seconds=0.1
)


@dataclass
class Sandbox:
    url: str
    config: SandboxConfig
    company_id: str
    http: httpx.Client

    @property
    def api(self) -> str:
        return f"{self.url}/v2.0/{self.config.tenant}/{self.config.environment}/api/v2.0"

    @property
    def company(self) -> str:
        return f"{self.api}/companies({self.company_id})"


def token_for(url: str, config: SandboxConfig) -> str:
    reply = httpx.post(
        f"{url}/{config.tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "scope": "https://api.businesscentral.dynamics.com/.default",
        },
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


def start(config: SandboxConfig) -> Iterator[Sandbox]:
    app = create_app(config)
    with running_server(with_faults(app)) as url:
        headers = {"Authorization": f"Bearer {token_for(url, config)}"}
        with httpx.Client(headers=headers, timeout=10) as http:
            yield Sandbox(url, config, app.state.company_id, http)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from start(FAST)
