"""An undelete restores the link: the record comes back to its old partner, instead of
being matched by keys or created again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.engine.memoryfixtures import open_engine, write_config


@pytest.mark.parametrize(
    "on_delete",
    [{"action": "decouple"}, {"action": "deactivate", "set": {"website": "(closed)"}}],
    ids=["decouple", "deactivate"],
)
def test_an_undeleted_record_finds_its_old_partner(
    tmp_path: Path, on_delete: dict[str, object]
) -> None:
    engine, crm, erp = open_engine(
        write_config(tmp_path, customers={"on_delete": on_delete, "match": {"keys": []}})
    )
    account = crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
    asyncio.run(engine.sync(["customers"]))
    (customer,) = erp.records("customers")
    fields = crm.get("Account", account)
    assert fields is not None

    crm.remove("Account", account)
    asyncio.run(engine.sync(["customers"]))
    assert engine.store.xrefs_by_native("customer", "crm", [account]) == {}
    # The ERP customer left behind is kept apart: not synced back as a "new" record,
    # even when someone edits it later.
    erp.put("customers", {"phone": "555"}, customer)
    (apart,) = asyncio.run(engine.sync(["customers"]))
    assert apart.counts["kept_apart"] == 1
    assert crm.records("Account") == {}, "the deleted account is not re-created"

    crm.put("Account", fields, account)  # the undelete: same id, same record
    (report,) = asyncio.run(engine.sync(["customers"]))
    assert report.counts["linked_previous"] == 1
    assert report.counts["created"] == 0
    assert list(erp.records("customers")) == [customer], "no second ERP customer"
    linked = engine.store.xrefs_by_native("customer", "crm", [account])[account]
    partner = engine.store.xrefs_by_canonical("customer", [linked.canonical_id])
    assert partner[linked.canonical_id]["erp"].native_id == customer
    asyncio.run(engine.close())
