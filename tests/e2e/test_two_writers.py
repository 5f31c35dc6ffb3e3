"""Two writers, end to end between the Salesforce sandbox and the Business Central
sandbox, over real HTTP: match first (no duplicate), no echo, an edit on both sides
waiting for a person and resolved, ownership settling a field, a delete in the CRM
blocking the ERP customer, and a delete in BC (which has no delete feed) found by
reconciliation. Every check reads both systems through their own APIs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from isthmus.sandbox.salesforce.settings import SandboxSettings
from tests.connectors.business_central.conftest import options as bc_options
from tests.connectors.business_central.conftest import sandbox_with
from tests.connectors.salesforce.conftest import options as sf_options
from tests.sandbox.business_central.conftest import Sandbox
from tests.sandbox.salesforce.conftest import RunningSandbox, serve_sandbox

FAST = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=4)
SF_API = "/services/data/v59.0"
BLOCKED = [{"native": "_x0020_", "canonical": False}, {"native": "All", "canonical": True}]


@pytest.fixture
def crm() -> Iterator[RunningSandbox]:
    with serve_sandbox(SandboxSettings(volume="empty")) as running:
        yield running


@pytest.fixture
def erp() -> Iterator[Sandbox]:
    yield from sandbox_with(customers=0, items=0, page_size=1000)


def _config(directory: Path, crm: RunningSandbox, erp: Sandbox) -> Path:
    mappings = {
        "sf_account": (
            "Account",
            [
                {"canonical": "name", "native": "Name"},
                {"canonical": "number", "native": "AccountNumber"},
                {"canonical": "phone", "native": "Phone"},
            ],
        ),
        "bc_customer": (
            "customers",
            [
                {"canonical": "name", "native": "displayName"},
                {"canonical": "number", "native": "number"},
                {"canonical": "phone", "native": "phoneNumber"},
                {"canonical": "credit_hold", "native": "blocked", "value_map": BLOCKED},
            ],
        ),
    }
    (directory / "mappings").mkdir()
    for name, (obj, rules) in mappings.items():
        spec = {"name": name, "entity": "customer", "object": obj, "fields": rules}
        (directory / "mappings" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    config = {
        "store": f"sqlite:///{directory}/state.db",
        "systems": {
            "crm": {"connector": "salesforce", "options": sf_options(crm.url)},
            "erp": {"connector": "business_central", "options": bc_options(erp)},
        },
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "crm", "object": "Account", "mapping": "sf_account"},
                "target": {"system": "erp", "object": "customers", "mapping": "bc_customer"},
                "direction": "both",
                "match": {"keys": ["number"]},
                "ownership": {"number": "erp", "credit_hold": "erp", "name": "crm"},
                "conflict": {"default": "review"},
                "on_delete": {"deactivate": {"credit_hold": True}},
            }
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _sync(config: Path) -> RunReport:
    async def run() -> RunReport:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.sync(options=RunOptions(retry=FAST))
            return report
        finally:
            await engine.close()

    return asyncio.run(run())


def _accounts(crm: RunningSandbox) -> dict[str, dict[str, Any]]:
    with crm.http() as client:
        answer = client.get(
            f"{SF_API}/query", params={"q": "SELECT Id, Name, AccountNumber, Phone FROM Account"}
        )
        return {a["Id"]: a for a in answer.json()["records"]}


def _customers(erp: Sandbox) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in erp.http.get(f"{erp.company}/customers").json()["value"]}


def _by_number(rows: dict[str, dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    return {str(r[field]): r for r in rows.values()}


def _patch_bc(erp: Sandbox, customer: dict[str, Any], **fields: Any) -> None:
    erp.http.patch(
        f"{erp.company}/customers({customer['id']})", json=fields, headers={"If-Match": "*"}
    ).raise_for_status()


def test_two_writers_between_salesforce_and_business_central(
    tmp_path: Path, crm: RunningSandbox, erp: Sandbox
) -> None:
    shared = [("Acme Corp", "ACME  corp"), ("Globex", "GLOBEX"), ("Initech", "Initech Inc")]
    with crm.http() as client:
        for n, (sf_name, _) in enumerate(shared):
            client.post(
                f"{SF_API}/sobjects/Account", json={"Name": sf_name, "AccountNumber": f"C9{n}"}
            ).raise_for_status()
        for n in range(4):
            client.post(f"{SF_API}/sobjects/Account", json={"Name": f"Only CRM {n}"})
    for n, (_, bc_name) in enumerate(shared):
        erp.http.post(
            f"{erp.company}/customers", json={"displayName": bc_name, "number": f"C9{n}"}
        ).raise_for_status()
    for n in range(2):
        erp.http.post(f"{erp.company}/customers", json={"displayName": f"Only ERP {n}"})
    config = _config(tmp_path, crm, erp)

    # Match first: the three shared customers are linked by number, not created again.
    first = _sync(config)
    assert first.status == "succeeded", first.messages
    assert first.counts["linked"] == 3
    accounts, customers = _accounts(crm), _customers(erp)
    assert len(accounts) == len(customers) == 9, "4 + 2 created, 3 linked, 0 duplicates"
    sf_by_no, bc_by_no = _by_number(accounts, "AccountNumber"), _by_number(customers, "number")
    assert set(sf_by_no) == set(bc_by_no), "BC's numbers reached the CRM accounts it created"
    assert bc_by_no["C90"]["displayName"] == "Acme Corp", "the CRM owns the name"

    # No echo: nothing changed, nothing is written.
    again = _sync(config)
    assert again.counts["created"] == again.counts["updated"] == 0, again.counts

    # An edit on both sides of an unowned field waits for a person; nothing is overwritten.
    with crm.http() as client:
        client.patch(f"{SF_API}/sobjects/Account/{sf_by_no['C91']['Id']}", json={"Phone": "111"})
    _patch_bc(erp, bc_by_no["C91"], phoneNumber="222")
    # An edit on both sides of an owned field: the owner wins, audited.
    with crm.http() as client:
        client.patch(
            f"{SF_API}/sobjects/Account/{sf_by_no['C92']['Id']}", json={"Name": "Initech (CRM)"}
        )
    _patch_bc(erp, bc_by_no["C92"], displayName="Initech (ERP)")
    conflicted = _sync(config)
    assert conflicted.counts["review"] == 1, conflicted.counts
    assert _by_number(_accounts(crm), "AccountNumber")["C91"]["Phone"] == "111"
    assert _by_number(_customers(erp), "number")["C91"]["phoneNumber"] == "222"
    assert _by_number(_customers(erp), "number")["C92"]["displayName"] == "Initech (CRM)"

    async def resolve() -> None:
        engine = Engine.from_config(load_config(config))
        try:
            (item,) = engine.store.review_items(flow="customers")
            assert item.details, "both sides and the base are shown"
            await engine.resolve_review(item.id or 0, take="erp", actor="test")
            events = engine.store.audit_events(flow="customers", limit=500)
            assert any(e.action == "conflict" and e.field == "name" for e in events)
        finally:
            await engine.close()

    asyncio.run(resolve())
    assert _by_number(_accounts(crm), "AccountNumber")["C91"]["Phone"] == "222"

    # A delete in the CRM blocks the customer in the ERP (the flow's delete policy).
    with crm.http() as client:
        client.delete(f"{SF_API}/sobjects/Account/{sf_by_no['C90']['Id']}").raise_for_status()
    _sync(config)
    assert _by_number(_customers(erp), "number")["C90"]["blocked"] == "All"

    # A delete in BC is in no feed: reconciliation finds the orphaned link.
    erp.http.delete(
        f"{erp.company}/customers({bc_by_no['C91']['id']})", headers={"If-Match": "*"}
    ).raise_for_status()
    assert _sync(config).counts["deleted"] == 0, "the change feed cannot see it"

    async def reconcile() -> None:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.reconcile(["customers"])
            orphans = [d for d in report.drifts if d.kind == "orphaned"]
            assert [(d.system, d.native_id) for d in orphans] == [("erp", bc_by_no["C91"]["id"])]
            await engine.repair(report, actor="test")
            (after,) = await engine.reconcile(["customers"])
            assert after.count("orphaned") == 0
        finally:
            await engine.close()

    asyncio.run(reconcile())
    remaining = _by_number(_accounts(crm), "AccountNumber")
    assert "C91" in remaining, "its CRM account is kept: the policy deactivates, never deletes"
    assert len(remaining) == 8, "nine, less the one deleted in the CRM"
