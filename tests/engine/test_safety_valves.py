"""Safety valves through the real engine: a run that would do something drastic stops,
writes nothing of the drastic part, says why, and goes ahead only with ``--force``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.runner import RunOptions
from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config


def _sync(engine: Engine, **options: bool) -> RunReport:
    async def run() -> RunReport:
        (report,) = await engine.sync(["customers"], options=RunOptions(**options))
        return report

    return asyncio.run(run())


def _thirty_linked(
    tmp_path: Path, conflict: str = "source"
) -> tuple[Engine, MemoryConnector, MemoryConnector, list[str]]:
    engine, crm, erp = open_engine(
        write_config(
            tmp_path,
            customers={
                "on_delete": {"action": "propagate"},
                "conflict": {"default": conflict},
            },
        )
    )
    ids = [crm.put("Account", {"Name": f"A{n}", "AccountNumber": f"C{n}"}) for n in range(30)]
    assert _sync(engine).counts["created"] == 30
    return engine, crm, erp, ids


def test_a_side_suddenly_empty_stops_the_run_until_forced(tmp_path: Path) -> None:
    engine, crm, erp, ids = _thirty_linked(tmp_path)
    for record_id in ids:
        crm.remove("Account", record_id)
    report = _sync(engine, full=True)
    assert report.status == "stopped"
    assert "returned no records at all" in report.messages[0]
    assert "--force" in report.messages[0]
    assert len(erp.records("customers")) == 30, "nothing was deleted"
    (run, *_) = engine.store.runs("customers")
    assert run.status == "stopped"

    forced = _sync(engine, force=True)
    assert forced.status == "succeeded"
    assert forced.counts["deleted"] == 30
    assert erp.records("customers") == {}
    asyncio.run(engine.close())


def test_a_mass_delete_stops_before_any_delete_is_written(tmp_path: Path) -> None:
    engine, crm, erp, ids = _thirty_linked(tmp_path)
    for record_id in ids[:10]:  # a third; the limit is a fifth
        crm.remove("Account", record_id)
    report = _sync(engine)
    assert report.status == "stopped"
    assert "would delete 10 of 30 linked records (limit 20%)" in report.messages[0]
    assert len(erp.records("customers")) == 30
    # Stopping is not losing: the deletes are still pending and go with --force.
    assert _sync(engine, force=True).counts["deleted"] == 10
    assert len(erp.records("customers")) == 20
    asyncio.run(engine.close())


def test_a_few_deletes_go_through_without_asking(tmp_path: Path) -> None:
    engine, crm, erp, ids = _thirty_linked(tmp_path)
    for record_id in ids[:3]:
        crm.remove("Account", record_id)
    assert _sync(engine).counts["deleted"] == 3
    assert len(erp.records("customers")) == 27
    asyncio.run(engine.close())


def test_mass_overwrites_of_both_sides_edits_stop_until_forced(tmp_path: Path) -> None:
    engine, crm, erp, ids = _thirty_linked(tmp_path, conflict="source")
    customers = sorted(erp.records("customers"))
    for n in range(20):  # two thirds of the links edited on both sides
        crm.put("Account", {"Phone": f"crm-{n}"}, ids[n])
        erp.put("customers", {"phone": f"erp-{n}"}, customers[n])
    report = _sync(engine)
    assert report.status == "stopped"
    assert "would overwrite values changed on both sides" in report.messages[0]
    untouched = [c for c in erp.records("customers").values() if str(c["phone"]).startswith("erp")]
    assert len(untouched) == 20, "nothing was overwritten"
    assert _sync(engine, force=True).status == "succeeded"
    phones = sorted(str(c["phone"]) for c in erp.records("customers").values() if c["phone"])
    assert phones == sorted(f"crm-{n}" for n in range(20))
    asyncio.run(engine.close())
