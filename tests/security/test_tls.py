"""Outbound TLS: the Salesforce and Business Central sandboxes served with a self-signed
certificate are refused with a clear error unless their CA is configured (``ca_bundle``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.connectors.business_central import from_config as bc_from_config
from isthmus.connectors.salesforce import from_config
from isthmus.errors import ConfigError
from isthmus.sandbox.business_central.app import create_app, with_faults
from isthmus.sandbox.common import running_server
from isthmus.sandbox.common.tls import TlsFiles, generate_self_signed
from isthmus.sandbox.salesforce.app import create_sandbox
from isthmus.sandbox.salesforce.settings import SandboxSettings
from isthmus.security.tls import TlsVerificationError
from tests.connectors.salesforce.conftest import options
from tests.sandbox.business_central.conftest import FAST


@pytest.fixture(scope="module")
def tls_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TlsFiles]]:
    files = generate_self_signed(directory=tmp_path_factory.mktemp("tls"))
    sandbox = create_sandbox(SandboxSettings(volume="empty"))
    with running_server(sandbox.asgi, tls=files) as url:
        yield url, files


def _describe(url: str, **extra: str) -> None:
    async def go() -> None:
        crm = from_config("crm", options(url, **extra))
        try:
            await crm.describe("Account")
        finally:
            await crm.close()

    asyncio.run(go())


def test_a_self_signed_server_is_refused_with_the_system_url_and_fix(
    tls_org: tuple[str, TlsFiles],
) -> None:
    url, _ = tls_org
    assert url.startswith("https://")
    with pytest.raises(TlsVerificationError) as caught:
        _describe(url)
    message = str(caught.value)
    assert "system 'crm'" in message
    assert f"{url}/services/oauth2/token" in message
    assert "self-signed certificate" in message
    assert "systems.crm.options.ca_bundle" in message


def test_the_configured_ca_is_trusted(tls_org: tuple[str, TlsFiles]) -> None:
    url, files = tls_org
    _describe(url, ca_bundle=str(files.cert_path))  # no error: verified against its CA


def test_another_ca_does_not_open_the_door(tls_org: tuple[str, TlsFiles], tmp_path: Path) -> None:
    url, _ = tls_org
    other = generate_self_signed(directory=tmp_path)
    with pytest.raises(TlsVerificationError):
        _describe(url, ca_bundle=str(other.cert_path))


def test_an_unreadable_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"system 'crm': options.ca_bundle .*missing.pem"):
        from_config("crm", options("https://127.0.0.1:1", ca_bundle=str(tmp_path / "missing.pem")))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError, match="cannot be used"):
        from_config("crm", options("https://127.0.0.1:1", ca_bundle=str(garbage)))


@pytest.fixture(scope="module")
def tls_erp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TlsFiles]]:
    files = generate_self_signed(directory=tmp_path_factory.mktemp("bc-tls"))
    with running_server(with_faults(create_app(FAST)), tls=files) as url:
        yield url, files


def _companies(url: str, **extra: str) -> None:
    config = FAST
    options = {
        "base_url": url,
        "login_url": url,
        "tenant": config.tenant,
        "environment": config.environment,
        "company": "CRONUS",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        **extra,
    }

    async def go() -> None:
        erp = bc_from_config("erp", options)
        try:
            await erp.client.call("GET", f"{erp.client.api}/companies", what="list companies")
        finally:
            await erp.close()

    asyncio.run(go())


def test_business_central_over_a_self_signed_certificate_needs_its_ca(
    tls_erp: tuple[str, TlsFiles],
) -> None:
    url, files = tls_erp
    with pytest.raises(TlsVerificationError, match=r"system 'erp'.*systems.erp.options.ca_bundle"):
        _companies(url)
    _companies(url, ca_bundle=str(files.cert_path))
