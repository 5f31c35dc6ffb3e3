"""No duplicate and no lost change under injected faults, through the real engine.

Both systems fail 5% of calls (transient and rate-limited), lose 20% of write answers
after the write landed, and fail 5% of single records. Users edit both sides between
runs. After the faults stop and a final quiet run, both sides agree, every business
record exists exactly once per side, and each ERP record carries one idempotency key.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from isthmus.engine.engine import Engine
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from isthmus.testing import FaultPlan, MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config

FAST_RETRY = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=4)


def _sync(engine: Engine) -> None:
    async def run() -> None:
        await engine.sync(options=RunOptions(retry=FAST_RETRY))
        # Records that failed transiently wait as dead letters; replay them like the
        # scheduler does.
        letters = [
            letter.id or 0
            for status in ("open", "waiting")
            for letter in engine.store.dead_letters(status=status)  # type: ignore[arg-type]
        ]
        if letters:
            await engine.replay(letters, actor="test")

    asyncio.run(run())


def _names(system: MemoryConnector, obj: str, field: str) -> Counter[str]:
    return Counter(str(r[field]) for r in system.records(obj).values())


@pytest.mark.parametrize("upsert", [True, False], ids=["upsert", "create-then-lookup"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faults_cause_no_duplicate_and_no_loss(tmp_path: Path, seed: int, upsert: bool) -> None:
    engine, crm, erp = open_engine(
        write_config(tmp_path, customers={"conflict": {"default": "source"}, "page_size": 10})
    )
    if not upsert:
        # Without upsert, a lost answer is recovered by looking the create up by its key.
        for system in (crm, erp):
            system.capabilities = replace(system.capabilities, upsert_by_external_id=False)
    plans = [FaultPlan.uniform(0.05, seed=seed), FaultPlan.uniform(0.05, seed=seed + 100)]
    for plan in plans:
        # Lost answers are the hardest case for "no duplicates"; make sure there are some.
        plan.ambiguous_rate = 0.2
    crm.faults, erp.faults = plans
    rng = random.Random(seed)
    accounts = [
        crm.put("Account", {"Name": f"Account {n}", "AccountNumber": f"A-{n}"}) for n in range(60)
    ]
    customers = [
        erp.put("customers", {"name": f"Customer {n}", "customer_no": f"E-{n}"}) for n in range(40)
    ]
    for round_no in range(6):
        _sync(engine)
        for record_id in rng.sample(accounts, 10):
            crm.put("Account", {"Phone": f"crm-{round_no}-{rng.randint(0, 999)}"}, record_id)
        for record_id in rng.sample(customers, 10):
            erp.put("customers", {"web": f"erp{round_no}.example"}, record_id)

    crm.faults, erp.faults = FaultPlan(), FaultPlan()
    _sync(engine)
    _sync(engine)
    injected = Counter[str]()
    for plan in plans:
        injected.update(plan.injected)
    assert injected["ambiguous"] >= 1, f"a lost answer must be among the faults: {injected}"
    assert injected.total() >= 10, f"faults really happened: {injected}"

    crm_numbers = _names(crm, "Account", "AccountNumber")
    erp_numbers = _names(erp, "customers", "customer_no")
    assert crm_numbers == erp_numbers, "every record exists on both sides"
    assert set(crm_numbers.values()) == {1}, "and exactly once"
    assert len(crm_numbers) == 100
    keys = Counter(c.get("crm_ref") for c in erp.records("customers").values())
    assert all(count == 1 for key, count in keys.items() if key), "one record per key"
    by_number = {
        str(c["customer_no"]): (c.get("phone"), c.get("web"))
        for c in erp.records("customers").values()
    }
    for account in crm.records("Account").values():
        phone, web = by_number[str(account["AccountNumber"])]
        assert (account.get("Phone"), account.get("Website")) == (phone, web)
    assert engine.store.dead_letters(status="open") == []
    assert engine.store.review_items(status="open") == []
    asyncio.run(engine.close())
