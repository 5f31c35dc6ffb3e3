"""What the vendor load tests share: a SQL source table of customers, a config that
loads it into one vendor object, and runs, replays and open letters through the engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from isthmus.store.types import DeadLetter

SOURCE = MetaData()
customers = Table(
    "customers",
    SOURCE,
    Column("id", String(20), primary_key=True),
    Column("name", String(400), nullable=False),
    Column("number", String(40)),
    Column("modified", DateTime(timezone=True), nullable=False),
)
# 10% of calls answered 500/503/429, 1% dropped, 0.5% stalled past the client's timeout
# (the write lands, the answer is lost): the load both vendor tests survive.
TEN_PERCENT_FAULTS: dict[str, Any] = {
    "error_rate": 0.10,
    "error_statuses": [500, 503, 429],
    "retry_after_seconds": 0,
    "drop_rate": 0.01,
    "timeout_rate": 0.005,
    "timeout_seconds": 3,
    "seed": 3,
}
RETRY = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=8)


def load_config_for(
    directory: Path,
    rows: list[dict[str, Any]],
    target: tuple[str, str, dict[str, str]],
    system: dict[str, Any],
) -> Path:
    """A SQL table holding ``rows`` (source ``erp``) loaded one way into ``target``:
    (system name, object, canonical -> native fields) of the ``system`` config."""
    engine = create_engine(f"sqlite:///{directory}/erp.db")
    SOURCE.create_all(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as tx:
        tx.execute(
            customers.insert(),
            [{**row, "modified": start + timedelta(microseconds=n)} for n, row in enumerate(rows)],
        )
    engine.dispose()
    name, obj, fields = target
    (directory / "mappings").mkdir()
    for mapping, mapped, rules in (
        ("erp", "customers", {"name": "name", "number": "number"}),
        (name, obj, fields),
    ):
        spec = {
            "name": mapping,
            "entity": "customer",
            "object": mapped,
            "fields": [{"canonical": c, "native": n} for c, n in rules.items()],
        }
        (directory / "mappings" / f"{mapping}.yaml").write_text(yaml.safe_dump(spec))
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
            name: system,
        },
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "erp", "object": "customers", "mapping": "erp"},
                "target": {"system": name, "object": obj, "mapping": name},
                "page_size": 1000,
            }
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run(config: Path, work: str = "sync", letters: list[int] | None = None) -> list[RunReport]:
    async def go() -> list[RunReport]:
        engine = Engine.from_config(load_config(config))
        try:
            if work == "replay":
                return await engine.replay(letters or [], actor="test")
            return await engine.sync(options=RunOptions(retry=RETRY))
        finally:
            await engine.close()

    return asyncio.run(go())


def open_letters(config: Path) -> list[DeadLetter]:
    engine = Engine.from_config(load_config(config))
    letters = [
        letter
        for status in ("open", "waiting")
        for letter in engine.store.dead_letters(status=status, limit=100_000)  # type: ignore[arg-type]
    ]
    asyncio.run(engine.close())
    return letters


def until_settled(config: Path, reports: list[RunReport]) -> int:
    """Replay what was set aside as transient, and run again, as ``isthmus run`` would,
    until nothing waits; the retries counted on the way."""
    retries = sum(report.counts["retries"] for report in reports)
    for _ in range(6):
        waiting = [letter.id or 0 for letter in open_letters(config)]
        if not waiting and {report.status for report in reports} == {"succeeded"}:
            break
        reports = run(config, "replay", waiting) if waiting else run(config)
        retries += sum(report.counts["retries"] for report in reports)
    return retries
