"""The engine syncs accounts both ways between the Salesforce sandbox and a SQL table,
with injected faults, and ends with no duplicate and no loss."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, text

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from tests.connectors.salesforce.conftest import options, set_faults
from tests.sandbox.salesforce.conftest import RunningSandbox

ERP = MetaData()
Table(
    "customers",
    ERP,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("customer_no", String(40)),
    Column("phone", String(40)),
    Column("crm_ref", String(64)),
    Column("modified", DateTime(timezone=True), nullable=False),
)
MAPPINGS = {
    "sf_account": ("Account", {"name": "Name", "number": "AccountNumber", "phone": "Phone"}),
    "erp_customer": ("customers", {"name": "name", "number": "customer_no", "phone": "phone"}),
}
FAST = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=5)


def _config(directory: Path, sandbox_url: str, **crm_options: Any) -> Path:
    (directory / "mappings").mkdir()
    for name, (obj, fields) in MAPPINGS.items():
        rules = [{"canonical": c, "native": n} for c, n in fields.items()]
        spec = {"name": name, "entity": "customer", "object": obj, "fields": rules}
        (directory / "mappings" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    config = {
        "store": f"sqlite:///{directory}/state.db",
        "systems": {
            "crm": {"connector": "salesforce", "options": options(sandbox_url, **crm_options)},
            "erp": {
                "connector": "sql",
                "options": {
                    "url": f"sqlite:///{directory}/erp.db",
                    "objects": {
                        "customers": {
                            "table": "customers",
                            "key": "no",
                            "updated_at": "modified",
                            "external_key": "crm_ref",
                            # Other writers of the ERP may commit late: re-read 2 s.
                            "lookback_seconds": 2,
                        }
                    },
                },
            },
        },
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "crm", "object": "Account", "mapping": "sf_account"},
                "target": {"system": "erp", "object": "customers", "mapping": "erp_customer"},
                "direction": "both",
                "match": {"keys": ["number"]},
                "conflict": {"default": "source"},
                "page_size": 20,
            }
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _sync(engine: Engine) -> None:
    async def run() -> None:
        await engine.sync(options=RunOptions(retry=FAST))
        letters = [
            letter.id or 0
            for status in ("open", "waiting")
            for letter in engine.store.dead_letters(status=status)  # type: ignore[arg-type]
        ]
        if letters:
            await engine.replay(letters, actor="test")
        await engine.close()

    asyncio.run(run())


def _accounts(org: RunningSandbox) -> list[dict[str, Any]]:
    with org.http() as client:
        answer = client.get(
            "/services/data/v59.0/query",
            params={"q": "SELECT Id, Name, AccountNumber, Phone FROM Account"},
            headers={"Sforce-Query-Options": "batchSize=2000"},
        )
        return list(answer.json()["records"])


def test_both_ways_under_faults_no_duplicate_no_loss(tmp_path: Path, org: RunningSandbox) -> None:
    config = _config(tmp_path, org.url)
    erp = create_engine(f"sqlite:///{tmp_path}/erp.db")
    ERP.create_all(erp)
    rng = random.Random(5)
    with org.http() as client:
        for n in range(30):
            client.post(
                "/services/data/v59.0/sobjects/Account",
                json={"Name": f"Account {n}", "AccountNumber": f"A-{n}", "Phone": "1"},
            ).raise_for_status()
    with erp.begin() as tx:
        for n in range(20):
            tx.execute(
                text(
                    "INSERT INTO customers (name, customer_no, phone, modified) "
                    "VALUES (:name, :no, '2', :now)"
                ),
                {"name": f"Customer {n}", "no": f"E-{n}", "now": datetime.now(UTC)},
            )
    faulty = {
        "error_rate": 0.05,
        "error_statuses": [500, 503],
        "drop_rate": 0.03,
        "partial_failure_rate": 0.05,
    }
    for round_no in range(4):
        set_faults(org, **faulty, seed=11 + round_no)
        _sync(Engine.from_config(load_config(config)))
        # Users edit both systems between syncs (their calls are not the ones under test).
        set_faults(org, error_rate=0.0, drop_rate=0.0, partial_failure_rate=0.0)
        accounts = _accounts(org) if round_no < 3 else []
        with org.http() as client:
            for account in rng.sample(accounts, min(5, len(accounts))):
                client.patch(
                    f"/services/data/v59.0/sobjects/Account/{account['Id']}",
                    json={"Phone": f"crm-{round_no}"},
                )
        with erp.begin() as tx:
            tx.execute(
                text("UPDATE customers SET phone = :p, modified = :now WHERE no % 7 = :r"),
                {"p": f"erp-{round_no}", "r": round_no, "now": datetime.now(UTC)},
            )
    _sync(Engine.from_config(load_config(config)))
    _sync(Engine.from_config(load_config(config)))

    accounts = {a["AccountNumber"]: a for a in _accounts(org)}
    with erp.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM customers"))]
    erp.dispose()
    numbers = Counter(r["customer_no"] for r in rows)
    assert len(accounts) == len(_accounts(org)) == 50, "no duplicate in Salesforce"
    assert set(numbers.values()) == {1}, "no duplicate in the ERP"
    assert set(numbers) == set(accounts), "every customer on both sides"
    for row in rows:
        account = accounts[row["customer_no"]]
        assert (account["Name"], account["Phone"]) == (row["name"], row["phone"])


def test_a_spent_budget_pauses_the_flow_and_it_resumes_without_loss(
    tmp_path: Path, org: RunningSandbox
) -> None:
    config = _config(tmp_path, org.url, budget_reserve=100)
    erp = create_engine(f"sqlite:///{tmp_path}/erp.db")
    ERP.create_all(erp)
    with org.http() as client:
        for n in range(15):
            client.post(
                "/services/data/v59.0/sobjects/Account",
                json={"Name": f"Account {n}", "AccountNumber": f"A-{n}"},
            ).raise_for_status()
    limits = f"{org.url}/__sandbox/limits"
    httpx.post(limits, json={"daily_api_requests": 1000, "used": 899}).raise_for_status()

    async def sync() -> str:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.sync(options=RunOptions(retry=FAST))
            return report.status
        finally:
            await engine.close()

    assert asyncio.run(sync()) == "paused"
    with erp.connect() as connection:
        synced = connection.execute(text("SELECT count(*) FROM customers")).scalar_one()
    assert synced < 15, "the budget stopped the flow before the end"

    httpx.post(limits, json={"daily_api_requests": 100_000, "used": 0}).raise_for_status()
    assert asyncio.run(sync()) == "succeeded"
    with erp.connect() as connection:
        numbers = [r[0] for r in connection.execute(text("SELECT customer_no FROM customers"))]
    erp.dispose()
    assert sorted(numbers) == sorted(f"A-{n}" for n in range(15)), "all of them, once"
