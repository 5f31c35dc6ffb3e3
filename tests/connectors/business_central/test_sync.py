"""The engine syncs customers both ways between the Business Central sandbox and a SQL
database under 5% faults (errors, 429s, timeouts after the write landed, dropped
answers) with no duplicate and no loss; an order for a customer BC blocks lands in the
dead letters with BC's reason, and goes through once the customer is unblocked."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    text,
    update,
)

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from tests.connectors.business_central.conftest import (
    all_customers,
    options,
    sandbox_with,
    set_faults,
)
from tests.sandbox.business_central.conftest import Sandbox

CRM = MetaData()
Table(
    "customers",
    CRM,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("email", String(80)),
    Column("phone", String(40)),
    Column("bc_ref", String(64)),
    Column("modified", DateTime(timezone=True), nullable=False),
)
Table(
    "orders",
    CRM,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("customer_no", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("bc_ref", String(64)),
    Column("modified", DateTime(timezone=True), nullable=False),
)
MAPPINGS: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "crm_customer": (
        "customer",
        "customers",
        [
            {"canonical": "name", "native": "name"},
            {"canonical": "email", "native": "email"},
            {"canonical": "phone", "native": "phone"},
        ],
    ),
    "bc_customer": (
        "customer",
        "customers",
        [
            {"canonical": "name", "native": "displayName"},
            {"canonical": "email", "native": "email"},
            {"canonical": "phone", "native": "phoneNumber"},
        ],
    ),
    "crm_order": (
        "sales_order",
        "orders",
        [
            {"canonical": "customer_id", "native": "customer_no", "lookup": "customer"},
            {"canonical": "currency", "native": "currency"},
        ],
    ),
    "bc_order": (
        "sales_order",
        "salesOrders",
        [
            {"canonical": "customer_id", "native": "customerId", "lookup": "customer"},
            {"canonical": "currency", "native": "currencyCode"},
        ],
    ),
}
COUNTS: Counter[str] = Counter()  # summed over the syncs of the test
FAST = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=6)


def _sql_object(table: str) -> dict[str, Any]:
    return {"table": table, "key": "no", "updated_at": "modified", "external_key": "bc_ref"}


def _config(directory: Path, erp: Sandbox) -> Path:
    (directory / "mappings").mkdir()
    for name, (entity, obj, rules) in MAPPINGS.items():
        spec = {"name": name, "entity": entity, "object": obj, "fields": rules}
        (directory / "mappings" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    bc = options(erp, timeout_seconds=1, objects={"customers": {"external_key": "number"}})
    config = {
        "store": f"sqlite:///{directory}/state.db",
        "systems": {
            "erp": {"connector": "business_central", "options": bc},
            "crm": {
                "connector": "sql",
                "options": {
                    "url": f"sqlite:///{directory}/crm.db",
                    "objects": {
                        "customers": _sql_object("customers"),
                        "orders": _sql_object("orders"),
                    },
                },
            },
        },
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "crm", "object": "customers", "mapping": "crm_customer"},
                "target": {"system": "erp", "object": "customers", "mapping": "bc_customer"},
                "direction": "both",
                "match": {"keys": ["email"]},
                "conflict": {"default": "source"},
                "page_size": 10,
            },
            {
                "name": "orders",
                "entity": "sales_order",
                "source": {"system": "crm", "object": "orders", "mapping": "crm_order"},
                "target": {"system": "erp", "object": "salesOrders", "mapping": "bc_order"},
                "depends_on": ["customers"],
            },
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _sync(config: Path, *, replay: bool = True) -> Engine:
    engine = Engine.from_config(load_config(config))

    async def run() -> None:
        for report in await engine.sync(options=RunOptions(retry=FAST)):
            COUNTS.update(report.counts)
        letters = [
            letter.id or 0
            for letter in engine.store.dead_letters(status="waiting")
            if letter.kind != "business"
        ]
        if replay and letters:
            await engine.replay(letters, actor="test")
        await engine.close()

    asyncio.run(run())
    return engine


@pytest.fixture
def erp() -> Iterator[Sandbox]:
    yield from sandbox_with(customers=8, items=2)


def test_customers_both_ways_under_faults_then_a_blocked_customers_order(
    tmp_path: Path, erp: Sandbox
) -> None:
    COUNTS.clear()
    config = _config(tmp_path, erp)
    crm = create_engine(f"sqlite:///{tmp_path}/crm.db")
    CRM.create_all(crm)
    seeded = all_customers(erp)
    now = datetime.now(UTC)
    customers = CRM.tables["customers"]
    with crm.begin() as tx:
        # Through the table, so stamps are stored the way the connector compares them.
        tx.execute(
            insert(customers),
            [
                {"name": f"Customer {n}", "email": f"crm{n}@example.com", "phone": "1"}
                | {"modified": now}
                for n in range(100)
            ],
        )
        # Already in both systems: matched by e-mail, never duplicated.
        tx.execute(
            insert(customers),
            [
                {"name": bc["displayName"], "email": bc["email"], "modified": now}
                for bc in seeded[:3]
            ],
        )
    faults = {
        "error_rate": 0.03,
        "error_statuses": [429, 500, 503],
        "timeout_rate": 0.01,
        "timeout_seconds": 1.5,
        "drop_rate": 0.01,
        "retry_after_seconds": 0,
    }
    rng = random.Random(7)
    for round_no in range(3):
        set_faults(erp, **faults, seed=700 + round_no)
        _sync(config)
        set_faults(erp, error_rate=0.0, timeout_rate=0.0, drop_rate=0.0)
        # People edit both systems between syncs (their calls are not under test).
        for customer in rng.sample(all_customers(erp), 4):
            erp.http.patch(
                f"{erp.company}/customers({customer['id']})",
                json={"phoneNumber": f"bc-{round_no}"},
                headers={"If-Match": customer["@odata.etag"]},
            ).raise_for_status()
        with crm.begin() as tx:
            tx.execute(
                update(customers)
                .where(customers.c.no % 7 == round_no)
                .values(phone=f"crm-{round_no}", modified=datetime.now(UTC))
            )
    _sync(config)
    _sync(config)
    injected = httpx.get(f"{erp.url}/__sandbox/faults").json()["injected"]
    assert sum(injected.values()) >= 3, f"the faults were met: {injected}"

    with crm.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM customers"))]
    bc = {c["email"]: c for c in all_customers(erp)}
    emails = Counter(r["email"] for r in rows)
    assert len(bc) == len(all_customers(erp)) == 108, "no duplicate in Business Central"
    assert set(emails.values()) == {1}, "no duplicate in the CRM"
    assert set(emails) == set(bc), "every customer on both sides"
    for row in rows:
        assert (bc[row["email"]]["displayName"], bc[row["email"]]["phoneNumber"] or None) == (
            row["name"],
            row["phone"] or None,
        ), row["email"]

    # A blocked customer's order: BC refuses it with its reason, and it waits for a fix.
    blocked = bc["crm3@example.com"]
    erp.http.patch(
        f"{erp.company}/customers({blocked['id']})",
        json={"blocked": "All"},
        headers={"If-Match": "*"},
    ).raise_for_status()
    crm_no = next(r["no"] for r in rows if r["email"] == "crm3@example.com")
    good_no = next(r["no"] for r in rows if r["email"] == "crm4@example.com")
    with crm.begin() as tx:
        tx.execute(
            insert(CRM.tables["orders"]),
            [
                {"customer_no": no, "currency": "USD", "modified": datetime.now(UTC)}
                for no in (crm_no, good_no)
            ],
        )
    engine = _sync(config)
    (letter,) = engine.store.dead_letters(flow="orders", status="open")
    assert letter.kind == "business"
    assert letter.vendor_code == "Internal_CustomerBlocked"
    assert letter.vendor_message
    assert "blocked" in letter.vendor_message.lower()
    assert "unblock" in letter.message
    orders = erp.http.get(f"{erp.company}/salesOrders").json()["value"]
    assert [o["customerId"] for o in orders] == [bc["crm4@example.com"]["id"]], "the other went"

    erp.http.patch(
        f"{erp.company}/customers({blocked['id']})",
        json={"blocked": "_x0020_"},
        headers={"If-Match": "*"},
    ).raise_for_status()
    engine = Engine.from_config(load_config(config))

    async def replay() -> None:
        await engine.replay([letter.id or 0], actor="test")
        await engine.close()

    asyncio.run(replay())
    orders = erp.http.get(f"{erp.company}/salesOrders").json()["value"]
    assert sorted(o["customerId"] for o in orders) == sorted(
        [blocked["id"], bc["crm4@example.com"]["id"]]
    )
    assert not list(engine.store.dead_letters(flow="orders", status="open"))
    crm.dispose()
