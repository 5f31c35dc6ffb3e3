"""Dependency order: parents are linked before children refer to them.

A contact whose account has no link yet syncs the account first (through the
account's own flow); when the account cannot be synced, the contact waits without
blocking the other contacts, and goes through once its parent does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from tests.engine.memoryfixtures import open_engine, write_config


def _sync(engine: Engine, *flows: str) -> list[RunReport]:
    async def run() -> list[RunReport]:
        return await engine.sync(list(flows) or None)

    return asyncio.run(run())


def test_flows_run_parents_first_whatever_the_file_order(tmp_path: Path) -> None:
    engine, _, _ = open_engine(write_config(tmp_path))
    assert [flow.name for flow in engine.ordered(["contacts", "customers"])] == [
        "customers",
        "contacts",
    ]
    asyncio.run(engine.close())


def test_a_child_syncs_its_unlinked_parent_first(tmp_path: Path) -> None:
    engine, crm, erp = open_engine(write_config(tmp_path))
    account = crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
    crm.put("Contact", {"LastName": "Smith", "Email": "smith@acme.example", "AccountId": account})
    (report,) = _sync(engine, "contacts")  # only the child flow is asked for
    assert report.status == "succeeded"
    ((customer_id, customer),) = erp.records("customers").items()
    assert customer["name"] == "Acme"
    ((_, contact),) = erp.records("contacts").items()
    assert contact["customer"] == customer_id, "the reference is translated through the link"
    asyncio.run(engine.close())


def test_a_child_waits_for_a_parent_that_fails_without_blocking_others(tmp_path: Path) -> None:
    engine, crm, erp = open_engine(write_config(tmp_path))
    good = crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
    bad = crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})  # ERP holds 50
    crm.put("Contact", {"LastName": "Smith", "Email": "s@acme.example", "AccountId": good})
    crm.put("Contact", {"LastName": "Jones", "Email": "j@bee.example", "AccountId": bad})
    customers, contacts = _sync(engine)
    assert customers.counts["dead_letters"] == 1
    assert contacts.counts["created"] == 1, "the contact with a linked parent goes through"
    assert contacts.counts["waiting"] == 1
    waiting = engine.store.dead_letters(flow="contacts", status="waiting")
    assert len(waiting) == 1
    assert "not linked yet; sync that customer first" in waiting[0].message

    crm.put("Account", {"Name": "Bee Ltd"}, bad)  # fixed at the source
    _sync(engine)
    surnames = {c["surname"]: c["customer"] for c in erp.records("contacts").values()}
    bee = next(k for k, v in erp.records("customers").items() if v["name"] == "Bee Ltd")
    assert surnames == {"Smith": surnames["Smith"], "Jones": bee}
    assert engine.store.dead_letters(status="waiting") == []
    assert engine.store.dead_letters(status="open") == []
    asyncio.run(engine.close())
