"""A spent daily budget pauses a flow with an ETA; the scheduler resumes it by itself
when the budget renews, and no change is lost: not the records of the page the budget
ran out on, not the edits and creates made while the flow was paused.

The ERP is the in-memory system with a daily allowance of calls: once spent, every call
is refused with a retry-after of hours, the way Salesforce answers REQUEST_LIMIT_EXCEEDED
(the same story against the Salesforce sandbox's real budget is in
tests/connectors/salesforce/test_sync.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from isthmus.engine.pacing import RateLimiter
from isthmus.engine.scheduler import Scheduler
from isthmus.errors import RateLimitedError
from isthmus.testing import FaultPlan
from tests.engine.memoryfixtures import open_engine, write_config

RENEWS_IN = 6 * 3600.0


@dataclass
class DailyBudget(FaultPlan):
    """So many calls a day, then every call refused until the budget renews."""

    allowance: int = 0

    def before_call(self, what: str) -> None:
        if self.allowance <= 0:
            self._count("rate_limited")
            raise RateLimitedError(f"{what}: the daily API budget is spent", retry_after=RENEWS_IN)
        self.allowance -= 1


def test_a_spent_budget_pauses_the_flow_and_it_resumes_by_itself_losing_nothing(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, customers={"trigger": {"poll": "5s"}, "page_size": 10})
    engine, crm, erp = open_engine(config)
    ids = [
        crm.put("Account", {"Name": f"Account {n}", "AccountNumber": f"C-{n}"}) for n in range(40)
    ]
    budget = DailyBudget(allowance=6)
    erp.faults = budget
    scheduler = Scheduler(engine)

    async def story() -> None:
        start = datetime.now(UTC)
        assert await scheduler.tick(start) == 1
        report = await scheduler.work_once()
        assert report.status == "paused", report.messages
        assert report.resume_at is not None
        assert report.resume_at >= start + timedelta(seconds=RENEWS_IN)
        assert "daily API budget is spent" in " ".join(report.messages)
        assert budget.injected["rate_limited"] >= 1
        synced = len(erp.records("customers"))
        assert 0 < synced < 40, "the budget ran out part way"

        # While paused: a synced record is edited, an unsynced one too, one is created.
        crm.put("Account", {"Name": "Account 0 renamed"}, ids[0])
        crm.put("Account", {"Name": "Account 39 renamed"}, ids[39])
        crm.put("Account", {"Name": "Account 40", "AccountNumber": "C-40"})

        # The schedule does not run the flow before the ETA, and the ERP is left alone;
        # a run a person asks for now says "paused" at once instead of hanging.
        calls = dict(erp.calls)
        for later in (timedelta(minutes=5), timedelta(hours=1)):
            assert await scheduler.tick(start + later) == 0
        (now,) = await engine.sync(["customers"])
        assert now.status == "paused", now.messages
        assert now.resume_at is not None
        assert erp.calls == calls

        # Six hours later the budget renews; at the ETA the schedule runs the flow again
        # by itself. (The ERP's pacing clock is moved on with the scheduler's.)
        budget.allowance = 1000
        limiter = engine.guarded["erp"].limiter
        limiter.clock = lambda: time.monotonic() + RENEWS_IN + 1
        assert await scheduler.tick(report.resume_at + timedelta(seconds=1)) == 1
        resumed = await scheduler.work_once()
        assert resumed.status == "succeeded", resumed.messages

    asyncio.run(story())
    customers = erp.records("customers").values()
    numbers = Counter(c["customer_no"] for c in customers)
    assert set(numbers.values()) == {1}, "no duplicate"
    assert set(numbers) == {f"C-{n}" for n in range(41)}, "every record, the new one too"
    names = {c["customer_no"]: c["name"] for c in customers}
    assert names["C-0"] == "Account 0 renamed", "an edit made while paused arrived"
    assert names["C-39"] == "Account 39 renamed"
    assert engine.store.dead_letters() == [], "nothing was failed one by one"
    asyncio.run(engine.close())


def test_a_pause_of_hours_refuses_calls_at_once_instead_of_holding_the_caller() -> None:
    clock = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(clock=lambda: clock[0], sleep=sleep)
    limiter.pause(RENEWS_IN)  # a spent daily budget
    with pytest.raises(RateLimitedError, match="paused for 21600 s more") as refused:
        asyncio.run(limiter.acquire())
    assert refused.value.retry_after == RENEWS_IN
    assert slept == [], "not slept through"
    limiter.pause(30)  # a short 429 still waits in the call, as before
    clock[0] += RENEWS_IN
    asyncio.run(limiter.acquire())
    assert slept == []
    limiter.pause(30)
    asyncio.run(limiter.acquire())
    assert slept == [30]
