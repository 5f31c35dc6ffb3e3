"""The worker in-process, on the machine's PostgreSQL and RabbitMQ: it applies a record
only under the record's lock (so what it reads is what the previous holder left), and a
work item that fails on every delivery ends as dead letters, not an endless loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import create_engine, select, update

from isthmus.distributed.locks import RecordLocks, record_keys
from isthmus.distributed.pg import postgres_dsn
from isthmus.distributed.worker import Worker
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.queue import WorkItem
from isthmus.queue.rabbitmq import RabbitQueue
from tests.distributed.services import (
    AMQP_URL,
    fresh_database,
    require_rabbitmq,
    unique_queue_name,
)
from tests.engine.sqlfixtures import source_products, target_products, write_setup


def distributed_setup(folder: Path, store_url: str, queue: str, rows: int = 10) -> Path:
    """The SQLite-to-SQLite products set-up, on a PostgreSQL store and a broker queue."""
    config = write_setup(folder, rows)
    text = config.read_text().replace("store: sqlite:///state.db", f"store: {store_url}")
    text += f"queue: {{backend: rabbitmq, url: '{AMQP_URL}', name: {queue}, max_deliveries: 3}}\n"
    config.write_text(text)
    return config


def test_an_item_failing_every_time_becomes_dead_letters_with_its_last_error(
    tmp_path: Path,
) -> None:
    require_rabbitmq()
    with fresh_database("isthmus_poison") as database, unique_queue_name() as queue:
        engine = Engine.from_config(load_config(distributed_setup(tmp_path, database, queue)))
        # "elsewhere" is no side of the flow: applying this item raises every time.
        item = WorkItem("products", "records", "elsewhere", ("P1", "P2"))
        counts = asyncio.run(run_worker(engine, item))
        letters = engine.store.dead_letters(flow="products", status="open")
        engine.store.close()
    assert counts == (3, 1)  # three failures queued again, then buried once
    assert sorted((letter.native_id, letter.kind) for letter in letters) == [
        ("P1", "poison"),
        ("P2", "poison"),
    ]
    message = letters[0].message
    assert "delivered 3 times without being finished" in message
    assert "KeyError" in message  # the last error travels with the item
    assert "isthmus dead-letters replay" in message


async def run_worker(engine: Engine, item: WorkItem) -> tuple[int, int]:
    config = engine.loaded.config.queue
    queue = RabbitQueue(config)
    await queue.connect()
    locks = RecordLocks(postgres_dsn(engine.loaded.store_url()))
    worker = Worker(engine, queue, locks, config)
    try:
        await queue.put(item)
        while worker.counts.buried == 0:
            await worker.handle(await asyncio.wait_for(queue.receive(), 10))
        assert await queue.waiting() == 0  # nothing left going round
        assert queue.depth() == 0
        return worker.counts.again, worker.counts.buried
    finally:
        await locks.close()
        await queue.close()
        for connector in engine.connectors.values():
            await connector.close()


def test_a_record_locked_by_another_worker_is_read_only_after_it_is_released(
    tmp_path: Path,
) -> None:
    require_rabbitmq()
    with fresh_database("isthmus_lock") as database, unique_queue_name() as queue:
        engine = Engine.from_config(load_config(distributed_setup(tmp_path, database, queue)))
        try:
            written = asyncio.run(apply_while_locked(engine, tmp_path))
        finally:
            engine.store.close()
    # The worker waited for the lock, so it read (and wrote) the state the holder left;
    # a worker reading before the lock would have written "Product 1".
    assert written == ["Renamed while locked"]


async def apply_while_locked(engine: Engine, folder: Path) -> list[str]:
    config = engine.loaded.config.queue
    dsn = postgres_dsn(engine.loaded.store_url())
    queue = RabbitQueue(config)
    await queue.connect()
    holder, locks = RecordLocks(dsn), RecordLocks(dsn)
    worker = Worker(engine, queue, locks, config)
    source = create_engine(f"sqlite:///{folder}/source.db")
    target = create_engine(f"sqlite:///{folder}/target.db")
    try:
        await queue.put(WorkItem("products", "records", "src", ("P0000001",)))
        delivery = await asyncio.wait_for(queue.receive(), 10)
        keys = record_keys(engine.store, "product", "src", ["P0000001"])
        async with holder.hold(keys):  # another worker is applying this record
            applying = asyncio.create_task(worker.handle(delivery))
            await asyncio.sleep(1.0)  # time enough to read, were it not waiting
            with source.begin() as tx:
                tx.execute(
                    update(source_products)
                    .where(source_products.c.id == "P0000001")
                    .values(name="Renamed while locked")
                )
        await asyncio.wait_for(applying, 30)
        with target.connect() as connection:
            return list(connection.scalars(select(target_products.c.title)))
    finally:
        source.dispose()
        target.dispose()
        for closing in (holder, locks, queue):
            await closing.close()
        for connector in engine.connectors.values():
            await connector.close()
