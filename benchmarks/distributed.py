"""The distributed figure of ``make bench``: records/s with 1 and then 2 workers.

Each measurement is a fresh installation: a PostgreSQL database of its own holding the
state store and both systems' tables (the SQL connector on PostgreSQL, the benchmark's
products set-up), a RabbitMQ queue of its own, one `isthmus run --no-workers` and N
`isthmus worker` processes of the real CLI. The clock runs from the moment every worker
consumes (process start-up excluded) and the scheduler starts, to the moment the target
holds every record (polled with a COUNT).

Run alone with ``python -m benchmarks.distributed`` (DIST_ROWS=N, default 20,000).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
from sqlalchemy import Engine, create_engine, func, select
from tests.distributed.cluster import Cluster
from tests.distributed.services import (
    AMQP_URL,
    ISTHMUS,
    fresh_database,
    unique_queue_name,
)
from tests.engine.sqlfixtures import (
    SOURCE,
    SOURCE_MAPPING,
    TARGET,
    TARGET_MAPPING,
    source_products,
    target_products,
)

CONFIG = """\
version: 1
store: {url}
queue: {{backend: rabbitmq, url: '{amqp}', name: {queue}, batch: {batch}, prefetch: 1}}
systems:
  src:
    connector: sql
    options:
      url: {url}
      objects:
        products: {{table: products, key: id, updated_at: updated_at, external_key: ext_ref}}
  dst:
    connector: sql
    options:
      url: {url}
      objects:
        items: {{table: items, key: "no", updated_at: modified, external_key: isthmus_id}}
mappings: [mappings/]
flows:
  - name: products
    entity: product
    source: {{system: src, object: products, mapping: src_product}}
    target: {{system: dst, object: items, mapping: dst_product}}
    direction: one_way
    page_size: 2000
    trigger: {{poll: 1s}}
    conflict: {{default: source}}
    match: {{keys: [code]}}
"""


@dataclass(frozen=True)
class Measured:
    workers: int
    rows: int
    seconds: float
    cpu_seconds: float  # user + system time of the worker processes together
    load: float  # the machine's 1-minute load average when the run ended

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def measure(workers: int, rows: int, batch: int = 200) -> Measured:
    """Sync ``rows`` products with ``workers`` worker processes; time it.

    ``workers=0`` is the single-node baseline: one `isthmus sync` process, same
    databases, the embedded queue.
    """
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database("isthmus_bench") as url,
        unique_queue_name("isthmus.bench") as queue,
    ):
        directory = Path(folder)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        seed(engine, rows)
        (directory / "mappings").mkdir()
        (directory / "mappings" / "src.yaml").write_text(SOURCE_MAPPING)
        (directory / "mappings" / "dst.yaml").write_text(TARGET_MAPPING)
        config = directory / "isthmus.yaml"
        config.write_text(CONFIG.format(url=url, amqp=AMQP_URL, queue=queue, batch=batch))
        try:
            if workers == 0:
                return single_node(directory, config, rows)
            seconds, cpu = run_workers(directory, config, engine, workers, rows, queue)
        finally:
            engine.dispose()
    return Measured(workers, rows, seconds, cpu, os.getloadavg()[0])


def single_node(directory: Path, config: Path, rows: int) -> Measured:
    text = config.read_text()
    config.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("queue:"))
    )
    started = time.perf_counter()
    before = os.times()
    subprocess.run([*ISTHMUS, "sync", "-c", str(config), "--quiet"], check=True, cwd=directory)
    seconds = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return Measured(0, rows, seconds, cpu, os.getloadavg()[0])


def seed(engine: Engine, rows: int) -> None:
    SOURCE.create_all(engine)
    TARGET.create_all(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as tx:
        for offset in range(0, rows, 5000):
            tx.execute(
                source_products.insert(),
                [
                    {
                        "id": f"P{n:07d}",
                        "code": f"SKU-{n:07d}",
                        "name": f"Product {n}",
                        "description": f"Description of product {n}",
                        "unit": "pcs",
                        "active": True,
                        "updated_at": start + timedelta(microseconds=n),
                    }
                    for n in range(offset, min(offset + 5000, rows))
                ],
            )


def wait_for_consumers(cluster: Cluster, queue: str, workers: int) -> None:
    async def consumers() -> int:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return 0  # not declared by a worker yet
            return int(declared.declaration_result.consumer_count or 0)

    deadline = time.monotonic() + 120
    while asyncio.run(consumers()) < workers:
        if time.monotonic() > deadline or not all(w.alive() for w in cluster.workers):
            raise RuntimeError(f"the workers did not start:\n{cluster.logs()}")
        time.sleep(0.2)


def run_workers(
    directory: Path, config: Path, engine: Engine, workers: int, rows: int, queue: str
) -> tuple[float, float]:
    """Seconds until the target holds ``rows`` records, and the workers' CPU seconds."""
    cluster = Cluster(directory, config)
    try:
        for _ in range(workers):
            cluster.start_worker()
        # Process start-up is not the figure: the clock starts once every worker is
        # consuming, with the scheduler's start (the same in every run).
        wait_for_consumers(cluster, queue, workers)
        started_cpu = sum(cpu_seconds(w.popen.pid) for w in cluster.workers if w.popen)
        started = time.perf_counter()
        cluster.start_scheduler()
        count = select(func.count()).select_from(target_products)
        while True:
            with engine.connect() as connection:
                if connection.execute(count).scalar_one() >= rows:
                    break
            if not all(worker.alive() for worker in cluster.workers):
                raise RuntimeError(f"a worker stopped:\n{cluster.logs()}")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        cpu = sum(cpu_seconds(worker.popen.pid) for worker in cluster.workers if worker.popen)
        return seconds, cpu - started_cpu
    finally:
        cluster.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def figure(one: Measured, two: Measured, single: Measured | None = None) -> str:
    """The Markdown rows of one 1-vs-2-worker comparison (and the single-node baseline)."""
    rows = []
    for found in (single, one, two):
        if found is None:
            continue
        who = (
            "one `isthmus sync` (embedded queue)"
            if found.workers == 0
            else f"{found.workers} worker(s) + scheduler"
        )
        rows.append(
            f"| {who}, {found.rows:,} products, PostgreSQL -> PostgreSQL "
            f"| {found.seconds:.1f} s | {found.rate:,.0f} records/s "
            f"| {1000 * found.cpu_seconds / found.rows:.2f} worker CPU-s per 1,000 records "
            f"| load {found.load:.1f} |"
        )
    return "\n".join(rows) + f"\n\nSpeed-up with 2 workers: {one.seconds / two.seconds:.2f}x."


def main() -> None:
    rows = int(os.environ.get("DIST_ROWS", "20000"))
    print(figure(measure(1, rows), measure(2, rows), measure(0, rows)))


if __name__ == "__main__":
    main()
