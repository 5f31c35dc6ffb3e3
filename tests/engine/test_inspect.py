"""A review item shown side by side: both records as they are now, and the base."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from isthmus.cli.views import side_by_side_table
from tests.engine.memoryfixtures import open_engine, write_config


def test_a_conflict_shows_both_whole_records_and_the_base(tmp_path: Path) -> None:
    engine, crm, erp = open_engine(write_config(tmp_path))
    account = crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1", "Phone": "100"})
    asyncio.run(engine.sync(["customers"]))
    (customer,) = erp.records("customers")
    crm.put("Account", {"Phone": "200", "Website": "acme.example"}, account)
    erp.put("customers", {"phone": "300"}, customer)
    asyncio.run(engine.sync(["customers"]))
    (item,) = engine.store.review_items(status="open")

    sides = asyncio.run(engine.review_sides(item.id or 0))
    assert sides.systems == ["crm", "erp"]
    assert sides.native_ids == {"crm": account, "erp": customer}
    rows = {path: (values, base, differs) for path, values, base, differs in sides.rows()}
    assert rows["phone"] == (["200", "300"], "100", True)
    assert rows["name"] == (["Acme", "Acme"], "Acme", False)
    assert rows["website"][0] == ["acme.example", "acme.example"], "the undisputed edit went"

    console = Console(record=True, width=140)
    console.print(side_by_side_table(sides))
    shown = console.export_text()
    assert f"crm {account}" in shown
    assert "base (last agreed)" in shown
    asyncio.run(engine.close())
