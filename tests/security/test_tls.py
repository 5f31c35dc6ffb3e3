"""Outbound TLS: the Salesforce sandbox served with a self-signed certificate is refused
with a clear error unless its CA is configured with ``ca_bundle``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.connectors.salesforce import from_config
from isthmus.errors import ConfigError
from isthmus.sandbox.common import running_server
from isthmus.sandbox.common.tls import TlsFiles, generate_self_signed
from isthmus.sandbox.salesforce.app import create_sandbox
from isthmus.sandbox.salesforce.settings import SandboxSettings
from isthmus.security.tls import TlsVerificationError
from tests.connectors.salesforce.conftest import options


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
