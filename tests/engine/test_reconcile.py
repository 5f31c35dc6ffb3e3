"""Reconciliation finds every planted drift, and --repair clears it through the pipeline.

Drift is planted the way it happens in real life: edits and deletes the change feed
never reported (the systems' cursors are moved past them), so a normal sync cannot see
them and only a record-by-record comparison can.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from isthmus.cli.main import app
from isthmus.engine.config import ReconcileConfig
from isthmus.engine.engine import Engine
from isthmus.engine.reconcile import ReconcileReport
from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config
from tests.engine.sqlfixtures import write_setup


def _sync(engine: Engine) -> None:
    asyncio.run(engine.sync(["customers"]))


def _reconcile(engine: Engine) -> ReconcileReport:
    (report,) = asyncio.run(engine.reconcile(["customers"]))
    return report


def _hide_from_feed(engine: Engine, *systems: MemoryConnector) -> None:
    """Move each system's cursor past everything: what happened is never read."""
    for system in systems:
        obj = "Account" if system.name == "crm" else "customers"
        latest = max(row.seq for row in system._tables[obj].rows.values())
        with engine.store.unit_of_work() as uow:
            uow.set_cursor("customers", system.name, obj, {"seq": latest})


def _planted(
    tmp_path: Path,
    direction: str = "both",
    on_delete: str = "propagate",
    **flow: Any,
) -> tuple[Engine, MemoryConnector, MemoryConnector, dict[str, str]]:
    engine, crm, erp = open_engine(
        write_config(
            tmp_path,
            customers={
                "direction": direction,
                "on_delete": {"action": on_delete},
                "conflict": {"default": "source"},
                **flow,
            },
        )
    )
    ids = {
        n: crm.put("Account", {"Name": f"Account {n}", "AccountNumber": f"C-{n}", "Phone": "1"})
        for n in range(6)
    }
    _sync(engine)
    by_number = {c["customer_no"]: k for k, c in erp.records("customers").items()}
    assert _reconcile(engine).clean
    # The drift nobody's change feed reported:
    missing = crm.put("Account", {"Name": "Newcomer", "AccountNumber": "C-new"})
    erp.put("customers", {"phone": "999"}, by_number["C-1"])  # a mismatch
    crm.remove("Account", ids[2])  # an orphaned link (its ERP partner remains)
    erp.put(
        "customers", {"name": "Account 3 with a name too long for the ERP"[:50]}, by_number["C-3"]
    )
    _hide_from_feed(engine, crm, erp)
    _sync(engine)
    return engine, crm, erp, {"missing": missing, "mismatch": by_number["C-1"], "orphan": ids[2]}


def test_every_planted_drift_is_found(tmp_path: Path) -> None:
    engine, _, _, planted = _planted(tmp_path)
    report = _reconcile(engine)
    assert report.counts() == {"missing": 1, "orphaned": 1, "mismatch": 2, "unmappable": 0}
    (missing,) = report.samples("missing")
    assert missing.values == {"crm": planted["missing"]}
    (orphan,) = report.samples("orphaned")
    assert (orphan.system, orphan.native_id) == ("crm", planted["orphan"])
    mismatches = {(d.native_id, d.field): d.values for d in report.samples("mismatch")}
    assert mismatches[(planted["mismatch"], "phone")] == {"crm": "1", "erp": "999"}
    assert report.compared == 5
    asyncio.run(engine.close())


def test_repair_clears_every_drift_through_the_pipeline(tmp_path: Path) -> None:
    engine, crm, erp, _ = _planted(tmp_path)
    report = _reconcile(engine)
    run = asyncio.run(engine.repair(report, actor="test"))
    assert run.status == "succeeded", run.messages
    after = _reconcile(engine)
    assert after.clean, [d.detail for d in after.drifts]
    assert len(crm.records("Account")) == len(erp.records("customers")) == 6
    # Two-way: the ERP's unseen edit was a real change, so it travelled to the CRM.
    assert {a["Phone"] for a in crm.records("Account").values() if a["AccountNumber"] == "C-1"} == {
        "999"
    }
    assert engine.store.audit_events(flow="customers", field="phone")
    asyncio.run(engine.close())


def test_a_one_way_repair_restores_the_source_value(tmp_path: Path) -> None:
    engine, _crm, erp, planted = _planted(tmp_path, direction="one_way")
    report = _reconcile(engine)
    assert report.count("mismatch") == 2
    asyncio.run(engine.repair(report))
    assert _reconcile(engine).clean
    assert erp.get("customers", planted["mismatch"])["phone"] == "1"  # type: ignore[index]
    asyncio.run(engine.close())


def test_a_decoupled_pair_is_not_reported_as_drift(tmp_path: Path) -> None:
    engine, _, erp, _ = _planted(tmp_path, on_delete="decouple")
    report = _reconcile(engine)
    asyncio.run(engine.repair(report))
    after = _reconcile(engine)
    assert after.clean, [d.detail for d in after.drifts]
    assert len(erp.records("customers")) == 7, "decouple keeps the ERP customer"
    asyncio.run(engine.close())


def test_a_name_cut_to_the_erp_length_is_not_a_mismatch(tmp_path: Path) -> None:
    config = write_config(tmp_path, customers={"conflict": {"default": "source"}})
    mapping = tmp_path / "mappings" / "erp_customer.yaml"
    spec = yaml.safe_load(mapping.read_text())
    spec["fields"][0]["truncate"] = True  # name: cut to the ERP's 50 characters
    mapping.write_text(yaml.safe_dump(spec))
    engine, crm, erp = open_engine(config)
    crm.put("Account", {"Name": "N" * 70, "AccountNumber": "C-1"})
    asyncio.run(engine.sync(["customers"]))
    (customer,) = erp.records("customers").values()
    assert len(customer["name"]) == 50
    assert _reconcile(engine).clean
    asyncio.run(engine.close())


def test_the_cli_finds_repairs_and_exits_by_the_outcome(tmp_path: Path) -> None:
    config = write_setup(tmp_path, 5)  # two real SQLite databases, a one-way flow
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "-c", str(config), "-q"]).exit_code == 0
    target = create_engine(f"sqlite:///{tmp_path}/target.db")
    with target.begin() as tx:  # an edit behind the integration's back
        tx.execute(text("UPDATE items SET title = 'Tampered' WHERE item_code = 'SKU-0000002'"))

    found = runner.invoke(app, ["reconcile", "-c", str(config), "--json"])
    assert found.exit_code == 1, found.output
    (report,) = json.loads(found.output)["found"]
    assert report["counts"] == {"missing": 0, "orphaned": 0, "mismatch": 1, "unmappable": 0}
    assert report["drifts"][0]["values"] == {"src": "Product 2", "dst": "Tampered"}

    repaired = runner.invoke(app, ["reconcile", "-c", str(config), "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "Both systems agree." in repaired.output
    with target.connect() as connection:
        title = connection.execute(
            text("SELECT title FROM items WHERE item_code = 'SKU-0000002'")
        ).scalar_one()
    assert title == "Product 2"
    target.dispose()


def test_a_scheduled_reconciliation_repairs_and_is_recorded(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from isthmus.engine.scheduler import Scheduler

    engine, _, erp, planted = _planted(
        tmp_path, direction="one_way", reconcile={"every": "1h", "repair": True}
    )
    scheduler = Scheduler(engine)
    (entry,) = [e for e in scheduler.entries if e.kind == "repair"]

    async def later() -> None:
        assert await scheduler.tick(datetime.now(UTC)) == 0, "not due at start"
        assert await scheduler.tick(entry.next_due + timedelta(seconds=1)) == 1
        await scheduler.work_once()

    asyncio.run(later())
    assert erp.get("customers", planted["mismatch"])["phone"] == "1"  # type: ignore[index]
    runs = engine.store.runs("customers")
    assert [r.trigger for r in runs[:2]] == ["reconcile", "reconcile"]
    assert _reconcile(engine).clean
    asyncio.run(engine.close())


def test_a_reconcile_schedule_needs_a_period(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reconcile needs 'every'"):
        ReconcileConfig(repair=True)
