"""Salesforce sandbox -> Business Central sandbox: the engine beside the ceiling and a
naive script, measured in one run (``make bench``; VENDOR_ROWS=N, default 20,000).

- engine: ``isthmus`` syncing Accounts into BC customers (SOQL pages in, ``$batch`` out);
- ceiling: the same records posted straight to BC as ``$batch`` requests of 100, no
  engine in between: the most the target sandbox ingests here;
- naive: what most hand-written integrations do, one query page then one POST per
  record (run on NAIVE_ROWS, default 2,000, and reported as a rate).

Both sandboxes run in this process on local ports, so the figures include their cost;
they are comparable with each other, not with a vendor's cloud.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.sandbox.business_central.conftest import token_for

from isthmus.connectors.business_central import BusinessCentralConnector
from isthmus.connectors.salesforce import SalesforceConnector
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.sandbox.business_central.app import create_app, with_faults
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.common import running_server
from isthmus.sandbox.salesforce.app import create_sandbox
from isthmus.sandbox.salesforce.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SandboxSettings,
)

BC = SandboxConfig(customers=0, items=0, rate_limit=100_000_000)


@dataclass(frozen=True)
class Figure:
    what: str
    rows: int
    seconds: float
    calls: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    def line(self) -> str:
        per_thousand = 1000 * self.calls / self.rows
        return (
            f"| {self.what}, {self.rows:,} accounts | {self.seconds:.1f} s | "
            f"{self.rate:,.0f} records/s | {per_thousand:,.1f} API calls / 1,000 records |"
        )


def engine_load(rows: int) -> Figure:
    sandbox = create_sandbox(SandboxSettings(volume="empty"), accounts=rows)
    bc_app = create_app(BC)
    with (
        running_server(sandbox.asgi) as sf_url,
        running_server(with_faults(bc_app)) as bc_url,
        tempfile.TemporaryDirectory() as folder,
    ):
        directory = Path(folder)
        (directory / "mappings").mkdir()
        for name, obj, fields in (
            ("sf", "Account", {"name": "Name", "number": "AccountNumber"}),
            ("bc", "customers", {"name": "displayName", "number": "taxRegistrationNumber"}),
        ):
            rules = [{"canonical": c, "native": n} for c, n in fields.items()]
            spec = {"name": name, "entity": "customer", "object": obj, "fields": rules}
            (directory / "mappings" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
        config: dict[str, Any] = {
            "store": f"sqlite:///{directory}/state.db",
            "systems": {
                "crm": {
                    "connector": "salesforce",
                    "options": {
                        "login_url": sf_url,
                        "client_id": DEFAULT_CLIENT_ID,
                        "client_secret": DEFAULT_CLIENT_SECRET,
                    },
                },
                "erp": {
                    "connector": "business_central",
                    "options": {
                        "base_url": bc_url,
                        "login_url": bc_url,
                        "tenant": BC.tenant,
                        "environment": BC.environment,
                        "company": bc_app.state.company_id,
                        "client_id": BC.client_id,
                        "client_secret": BC.client_secret,
                    },
                },
            },
            "mappings": ["mappings/"],
            "flows": [
                {
                    "name": "accounts",
                    "entity": "customer",
                    "source": {"system": "crm", "object": "Account", "mapping": "sf"},
                    "target": {"system": "erp", "object": "customers", "mapping": "bc"},
                    "page_size": 2000,
                }
            ],
        }
        path = directory / "isthmus.yaml"
        path.write_text(yaml.safe_dump(config))

        async def run() -> Figure:
            engine = Engine.from_config(load_config(path))
            try:
                started = time.perf_counter()
                (report,) = await engine.sync()
                seconds = time.perf_counter() - started
                assert report.counts["created"] == rows, report.counts
                crm, erp = engine.connectors["crm"], engine.connectors["erp"]
                assert isinstance(crm, SalesforceConnector)
                assert isinstance(erp, BusinessCentralConnector)
                calls = (crm.client.budget.used or 0) + erp.client.calls
                return Figure("engine, Salesforce -> Business Central", rows, seconds, calls)
            finally:
                await engine.close()

        return asyncio.run(run())


def ceiling(rows: int) -> Figure:
    app = create_app(BC)
    with running_server(with_faults(app)) as url:
        company = f"companies({app.state.company_id})"
        api = f"{url}/v2.0/{BC.tenant}/{BC.environment}/api/v2.0"
        headers = {"Authorization": f"Bearer {token_for(url, BC)}"}
        with httpx.Client(headers=headers, timeout=60) as http:
            started = time.perf_counter()
            calls = 0
            for start in range(0, rows, 100):
                requests = [
                    {
                        "id": str(n),
                        "method": "POST",
                        "url": f"{company}/customers",
                        "headers": {"Content-Type": "application/json"},
                        "body": {"displayName": f"Account {n}", "taxRegistrationNumber": str(n)},
                    }
                    for n in range(start, min(start + 100, rows))
                ]
                http.post(f"{api}/$batch", json={"requests": requests}).raise_for_status()
                calls += 1
            seconds = time.perf_counter() - started
    return Figure("ceiling, $batch straight into Business Central", rows, seconds, calls)


def naive(rows: int) -> Figure:
    sandbox = create_sandbox(SandboxSettings(volume="empty"), accounts=rows)
    app = create_app(BC)
    with running_server(sandbox.asgi) as sf_url, running_server(with_faults(app)) as bc_url:
        sf_token = httpx.post(
            f"{sf_url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
            },
        ).json()["access_token"]
        api = f"{bc_url}/v2.0/{BC.tenant}/{BC.environment}/api/v2.0"
        customers = f"{api}/companies({app.state.company_id})/customers"
        started = time.perf_counter()
        calls = 0
        with (
            httpx.Client(headers={"Authorization": f"Bearer {sf_token}"}, timeout=60) as sf,
            httpx.Client(headers={"Authorization": f"Bearer {token_for(bc_url, BC)}"}) as bc,
        ):
            answer = sf.get(
                f"{sf_url}/services/data/v59.0/query",
                params={"q": "SELECT Id, Name, AccountNumber FROM Account"},
            ).json()
            calls += 1
            while True:
                for account in answer["records"]:
                    bc.post(
                        customers,
                        json={
                            "displayName": account["Name"],
                            "taxRegistrationNumber": account["AccountNumber"] or "",
                        },
                    ).raise_for_status()
                    calls += 1
                if answer.get("done", True):
                    break
                answer = sf.get(f"{sf_url}{answer['nextRecordsUrl']}").json()
                calls += 1
        seconds = time.perf_counter() - started
    return Figure("naive script, one POST per record", rows, seconds, calls)


def measure() -> tuple[list[Figure], float]:
    rows = int(os.environ.get("VENDOR_ROWS", "20000"))
    naive_rows = int(os.environ.get("NAIVE_ROWS", "2000"))
    figures = [engine_load(rows), ceiling(rows), naive(naive_rows)]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures, rss_mb


if __name__ == "__main__":
    found, rss = measure()
    for figure in found:
        print(figure.line())
    print(f"peak RSS of the process (engine and both sandboxes): {rss:.0f} MB")
