"""Resilience under load, against the Business Central sandbox.

- 20,000 records from a SQL table into Business Central while the sandbox answers 10%
  of calls with 500/503/429, drops connections and stalls past the client's timeout (the
  write lands, the answer is lost): the load ends complete, with no duplicate, and the
  run reports its retries.
- One record of 200 that BC refuses (a blocked payment-terms code is not needed: an
  unknown property the mapping sends): 199 written, one dead letter naming the field and
  BC's message; fixed, its replay succeeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, text

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from tests.connectors.business_central.conftest import options, sandbox_with, set_faults
from tests.sandbox.business_central.conftest import Sandbox

SOURCE = MetaData()
customers = Table(
    "customers",
    SOURCE,
    Column("id", String(20), primary_key=True),
    Column("name", String(400), nullable=False),
    Column("number", String(40)),
    Column("modified", DateTime(timezone=True), nullable=False),
)
RETRY = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=8)


def _setup(directory: Path, erp: Sandbox, rows: list[dict[str, Any]]) -> Path:
    engine = create_engine(f"sqlite:///{directory}/erp.db")
    SOURCE.create_all(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as tx:
        tx.execute(
            customers.insert(),
            [{**row, "modified": start + timedelta(microseconds=n)} for n, row in enumerate(rows)],
        )
    engine.dispose()
    (directory / "mappings").mkdir()
    for name, obj, fields in (
        ("erp", "customers", {"name": "name", "number": "number"}),
        ("bc", "customers", {"name": "displayName", "number": "email"}),
    ):
        rules = [{"canonical": c, "native": n} for c, n in fields.items()]
        spec = {"name": name, "entity": "customer", "object": obj, "fields": rules}
        (directory / "mappings" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    config = {
        "store": f"sqlite:///{directory}/state.db",
        "systems": {
            "erp": {
                "connector": "sql",
                "options": {
                    "url": f"sqlite:///{directory}/erp.db",
                    "objects": {
                        "customers": {"table": "customers", "key": "id", "updated_at": "modified"}
                    },
                },
            },
            "bc": {
                "connector": "business_central",
                "options": options(
                    erp, timeout_seconds=2, objects={"customers": {"external_key": "number"}}
                ),
            },
        },
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "erp", "object": "customers", "mapping": "erp"},
                "target": {"system": "bc", "object": "customers", "mapping": "bc"},
                "page_size": 1000,
            }
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run(config: Path, work: str = "sync", letters: list[int] | None = None) -> list[RunReport]:
    async def go() -> list[RunReport]:
        engine = Engine.from_config(load_config(config))
        try:
            if work == "replay":
                return await engine.replay(letters or [], actor="test")
            return await engine.sync(options=RunOptions(retry=RETRY))
        finally:
            await engine.close()

    return asyncio.run(go())


def _open_letters(config: Path) -> list[Any]:
    engine = Engine.from_config(load_config(config))
    letters = [
        letter
        for status in ("open", "waiting")
        for letter in engine.store.dead_letters(status=status, limit=100_000)  # type: ignore[arg-type]
    ]
    asyncio.run(engine.close())
    return letters


def _customers(erp: Sandbox) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    url: str | None = f"{erp.company}/customers"
    while url:
        body = erp.http.get(url).json()
        rows += body["value"]
        url = body.get("@odata.nextLink")
    return rows


def _numbers(erp: Sandbox) -> list[str]:
    return [c["email"] for c in _customers(erp) if c["email"].startswith("N")]


@pytest.fixture
def erp() -> Iterator[Sandbox]:
    yield from sandbox_with(customers=0, items=0, page_size=20_000, rate_limit=1_000_000)


@pytest.mark.slow
def test_a_20000_record_load_under_10_percent_faults_ends_complete(
    tmp_path: Path, erp: Sandbox
) -> None:
    rows = [
        {"id": f"C{n:06d}", "name": f"Customer {n}", "number": f"N{n:06d}@example.com"}
        for n in range(20_000)
    ]
    config = _setup(tmp_path, erp, rows)
    set_faults(
        erp,
        error_rate=0.10,
        error_statuses=[500, 503, 429],
        retry_after_seconds=0,
        drop_rate=0.01,
        timeout_rate=0.005,
        timeout_seconds=3,
        seed=3,
    )
    reports = _run(config)
    retries = sum(report.counts["retries"] for report in reports)
    for _ in range(6):  # records set aside as transient failures go again, as run would
        waiting = [letter.id or 0 for letter in _open_letters(config)]
        status = {report.status for report in reports}
        if not waiting and status == {"succeeded"}:
            break
        reports = _run(config, "replay", waiting) if waiting else _run(config)
        retries += sum(report.counts["retries"] for report in reports)
    set_faults(erp, error_rate=0.0, drop_rate=0.0, timeout_rate=0.0)
    numbers = _numbers(erp)
    assert len(numbers) == 20_000, "every record arrived"
    assert len(set(numbers)) == 20_000, "none twice"
    assert retries > 0, "the report shows the retries the faults caused"


def test_one_bad_record_of_200_is_a_dead_letter_and_its_replay_succeeds(
    tmp_path: Path, erp: Sandbox
) -> None:
    rows = [
        {"id": f"C{n:06d}", "name": f"Customer {n}", "number": f"N{n:06d}@example.com"}
        for n in range(200)
    ]
    rows[117]["name"] = "N" * 120  # BC's displayName holds 100
    config = _setup(tmp_path, erp, rows)
    (report,) = _run(config)
    assert report.counts["created"] == 199
    (letter,) = _open_letters(config)
    assert letter.native_id == "C000117"
    # Checked against BC's $metadata (MaxLength) before sending: field, limit, what to do.
    assert letter.field == "displayName"
    assert "customers.displayName holds at most 100 characters, got 120" in letter.message
    assert "set truncate: true on its rule or shorten it at the source" in letter.message
    assert len(_numbers(erp)) == 199

    source = create_engine(f"sqlite:///{tmp_path}/erp.db")
    with source.begin() as tx:
        tx.execute(text("UPDATE customers SET name = 'Customer 117' WHERE id = 'C000117'"))
    source.dispose()
    (replayed,) = _run(config, "replay", [letter.id or 0])
    assert replayed.counts["created"] == 1
    assert _open_letters(config) == []
    assert sorted(_numbers(erp)) == sorted(row["number"] for row in rows)
