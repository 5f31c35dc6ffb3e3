"""A user's consent (authorization code) against the Salesforce sandbox: `isthmus oauth`
yields a refresh token that is stored encrypted and drives the sync."""

from __future__ import annotations

import asyncio
import io
import urllib.parse
from pathlib import Path

import httpx
import yaml
from sqlalchemy import create_engine
from typer.testing import CliRunner

from isthmus.cli.main import app
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.sandbox.salesforce.settings import DEFAULT_CLIENT_SECRET
from tests.connectors.salesforce.test_sync import ERP
from tests.sandbox.salesforce.conftest import RunningSandbox
from tests.security.test_no_plaintext import _cli, _config

runner = CliRunner()
CALLBACK = "https://isthmus.example/oauth/callback"


def test_a_consent_code_becomes_an_encrypted_refresh_token_that_syncs(
    tmp_path: Path, org: RunningSandbox, key: str
) -> None:
    config = _config(tmp_path, org.url, f"sqlite:///{tmp_path}/state.db")
    data = yaml.safe_load(config.read_text())
    crm = data["systems"]["crm"]["options"]
    for unused in ("username", "password"):
        crm.pop(unused)
    crm |= {"grant": "refresh_token", "refresh_token": "${secret:SF_REFRESH_TOKEN}"}
    config.write_text(yaml.safe_dump(data))
    ERP.create_all(create_engine(f"sqlite:///{tmp_path}/erp.db"))
    out = io.StringIO()
    _cli(out, "secrets", "set", "-c", str(config), "SF_CLIENT_SECRET", stdin=DEFAULT_CLIENT_SECRET)

    common = ["-c", str(config), "--system", "crm", "--redirect-uri", CALLBACK]
    _cli(out, "oauth", "url", *common)
    (url,) = [line for line in out.getvalue().splitlines() if "/services/oauth2/authorize?" in line]
    consent = httpx.get(url)  # the user approves; the sandbox redirects at once
    assert consent.status_code == 302
    redirect = urllib.parse.urlsplit(consent.headers["location"])
    assert redirect.geturl().startswith(CALLBACK)
    code = urllib.parse.parse_qs(redirect.query)["code"][0]

    _cli(out, "oauth", "exchange", *common, "--code", code)
    assert "stored encrypted as SF_REFRESH_TOKEN" in out.getvalue()
    refused = runner.invoke(app, ["oauth", "exchange", *common, "--code", code])
    assert refused.exit_code == 1
    assert "a code works once" in refused.output

    with org.http() as client:
        client.post(
            "/services/data/v59.0/sobjects/Account",
            json={"Name": "Consented", "AccountNumber": "C-1"},
        ).raise_for_status()

    async def sync() -> str:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.sync()
            return report.status
        finally:
            await engine.close()

    assert asyncio.run(sync()) == "succeeded"
    refresh_tokens = [t for t in org.sandbox.state.tokens.issued if t.startswith("5Aep")]
    assert len(refresh_tokens) == 1
    assert refresh_tokens[0].encode() not in (tmp_path / "state.db").read_bytes()
    assert refresh_tokens[0] not in out.getvalue()
