"""Wiring of distributed mode for the CLI: workers, and schedulers that only queue.

Every process of one installation reads the same config; ``queue.backend: rabbitmq``
and a PostgreSQL ``store:`` are all that differ from embedded mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from isthmus.distributed.budget import SharedRateLimiter
from isthmus.distributed.leader import LeaderLock
from isthmus.distributed.locks import RecordLocks
from isthmus.distributed.pg import postgres_dsn
from isthmus.distributed.worker import Worker
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.scheduler import Scheduler
from isthmus.errors import ConfigError
from isthmus.queue.base import WorkItem
from isthmus.queue.rabbitmq import RabbitQueue


class SchedulerQueue:
    """The scheduler's side of the broker: flows paused through this process's API are
    not queued by the schedule or by webhooks (a run asked for by a person still is)."""

    def __init__(self, engine: Engine, publisher: RabbitQueue) -> None:
        self.engine = engine
        self.publisher = publisher

    async def put(self, item: WorkItem) -> bool:
        if item.flow in self.engine.paused and item.trigger in ("schedule", "webhook"):
            return False
        return await self.publisher.put(item, expires_in=self._poll_lifetime(item))

    def _poll_lifetime(self, item: WorkItem) -> float | None:
        """A scheduled poll still waiting when the next is due is redundant: the next one
        reads the same changes. Without this, polls stack up behind a backlog of record
        items, and each costs a change query when its turn comes."""
        if item.kind != "run" or item.trigger != "schedule":
            return None
        poll = self.engine.flows[item.flow].config.trigger.poll
        return max(poll.total_seconds(), 1.0) if poll is not None else 60.0

    async def get(self) -> WorkItem:
        raise RuntimeError("the scheduler of distributed mode does no work: workers do")

    def done(self, item: WorkItem) -> None:
        return None

    def depth(self) -> int:
        return 0  # nothing waits in this process; the broker holds the queue


def distributed_dsn(engine: Engine) -> str:
    """The store's libpq URL; ``ConfigError`` unless the config is distributed on PostgreSQL."""
    queue = engine.loaded.config.queue
    if not queue.distributed:
        raise ConfigError(
            "this needs distributed mode: set queue: {backend: rabbitmq, url: amqp://...} "
            "and a PostgreSQL store: in the config (see docs/deployment.md)"
        )
    return postgres_dsn(engine.loaded.store_url())


def share_budgets(engine: Engine, dsn: str, stack: AsyncExitStack) -> None:
    """Replace each system's in-process rate limiter by one shared through the store."""
    for name, guarded in engine.guarded.items():
        system = engine.loaded.config.systems.get(name)
        limiter = SharedRateLimiter(dsn, name, system.rate_limit if system else None)
        guarded.limiter = limiter
        stack.push_async_callback(limiter.close)


async def serve_worker(
    engine: Engine, on_report: Callable[[RunReport], None] | None = None
) -> Worker:
    """Run one worker until SIGINT/SIGTERM; returns it (with its counts) when stopped."""
    dsn = distributed_dsn(engine)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.close)
        share_budgets(engine, dsn, stack)
        queue = RabbitQueue(engine.loaded.config.queue, consume=True)
        await queue.connect()
        stack.push_async_callback(queue.close)
        locks = RecordLocks(dsn)
        stack.push_async_callback(locks.close)
        worker = Worker(engine, queue, locks, engine.loaded.config.queue, on_report)
        await worker.serve()
        return worker


async def serve_scheduler(
    scheduler: Scheduler,
    serve: Callable[[Scheduler], Awaitable[None]],
    *,
    local_worker: bool,
    on_report: Callable[[RunReport], None] | None = None,
) -> None:
    """Run ``serve(scheduler)`` (scheduler + control plane) with a broker queue and the
    leader lock, and a worker in this process too unless ``local_worker`` is False."""
    engine = scheduler.engine
    dsn = distributed_dsn(engine)
    async with AsyncExitStack() as stack:
        share_budgets(engine, dsn, stack)
        publisher = RabbitQueue(engine.loaded.config.queue, consume=False)
        await publisher.connect()
        stack.push_async_callback(publisher.close)
        leader = LeaderLock(dsn, engine.loaded.config.queue.name)
        stack.push_async_callback(leader.close)
        scheduler.queue = SchedulerQueue(engine, publisher)
        scheduler.leader = leader.check
        worker: Worker | None = None
        working: asyncio.Task[None] | None = None
        if local_worker:
            consumer = RabbitQueue(engine.loaded.config.queue, consume=True)
            await consumer.connect()
            stack.push_async_callback(consumer.close)
            locks = RecordLocks(dsn)
            stack.push_async_callback(locks.close)
            worker = Worker(engine, consumer, locks, engine.loaded.config.queue, on_report)
            working = asyncio.create_task(worker.serve(handle_signals=False))
        try:
            await serve(scheduler)
        finally:
            if worker is not None and working is not None:
                worker.stop()
                await asyncio.gather(working, return_exceptions=True)
