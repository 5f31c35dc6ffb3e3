"""A system that is down stops the runs that need it after a few calls, instead of
failing every record; nothing is lost, and the run after the cool-down catches up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from isthmus.testing import FaultPlan
from tests.engine.memoryfixtures import open_engine, write_config

FAST = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=3)


def test_a_down_system_pauses_the_flow_and_nothing_is_lost(tmp_path: Path) -> None:
    engine, crm, erp = open_engine(write_config(tmp_path, customers={"page_size": 10}))
    for n in range(40):
        crm.put("Account", {"Name": f"Account {n}", "AccountNumber": f"C-{n}"})
    erp.faults = FaultPlan(transient_rate=1.0)  # the ERP is down
    for guarded in engine.guarded.values():
        guarded.read_retry = FAST

    def sync() -> str:
        (report,) = asyncio.run(engine.sync(["customers"], options=RunOptions(retry=FAST)))
        assert report.resume_at is not None or report.status != "paused"
        return f"{report.status}: {' '.join(report.messages)}"

    def erp_calls() -> int:
        return sum(erp.calls.get(call, 0) for call in ("write", "lookup", "read_by_ids"))

    assert sync().startswith("paused: paused until")  # reads retried, then the flow pauses
    assert sync().startswith("paused")
    assert engine.breakers["erp"].opened_at is not None, "five failures in a row open it"
    before = erp_calls()
    third = sync()
    assert "failed 5 calls in a row" in third
    assert erp_calls() == before, "while open, the down system is not called at all"
    assert engine.store.dead_letters() == [], "records are not failed one by one"
    assert {run.status for run in engine.store.runs("customers")} == {"paused"}
    assert erp.records("customers") == {}

    erp.faults = FaultPlan()  # back up
    engine.breakers["erp"].cooldown = 0.0  # (the cool-down has passed)
    (report,) = asyncio.run(engine.sync(["customers"], options=RunOptions(retry=FAST)))
    assert report.status == "succeeded"
    assert len(erp.records("customers")) == 40, "every record arrived"
    asyncio.run(engine.close())


def test_the_scheduler_waits_for_a_paused_flow(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from isthmus.engine.scheduler import Scheduler

    engine, _, _ = open_engine(write_config(tmp_path, customers={"trigger": {"poll": "5s"}}))
    scheduler = Scheduler(engine)
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduler.pause("customers", later)
    (entry,) = [e for e in scheduler.entries if e.flow == "customers"]
    assert entry.next_due == later
    assert asyncio.run(scheduler.tick(datetime.now(UTC) + timedelta(minutes=5))) == 0
    asyncio.run(engine.close())
