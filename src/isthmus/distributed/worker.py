"""``isthmus worker``: take work items from the broker, apply them, acknowledge them.

Invariants kept here:
- an item is acknowledged only after its work is committed to the store (or its records
  are dead letters): a worker killed at any point leaves the item unacknowledged, and
  the broker delivers it to another worker, which re-reads the records' current state;
- a record item is applied under its records' locks (``locks``): one worker at a time;
- an item that failed, or whose workers died, ``max_deliveries`` times is a poison item:
  its records become open dead letters of kind ``poison`` with the last error, and the
  item is acknowledged, so it never goes round forever; ``isthmus dead-letters replay``
  tries them again once the cause is fixed;
- a system that is down or out of budget (``TransientError``) is not the item's fault:
  the item waits and is queued again without counting towards the poison limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from isthmus.distributed.dispatch import dispatch_flow
from isthmus.distributed.locks import RecordLocks, record_keys
from isthmus.distributed.pg import lock_key
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.errors import TransientError
from isthmus.queue.base import WorkItem
from isthmus.queue.config import QueueConfig
from isthmus.queue.rabbitmq import Delivery, RabbitQueue
from isthmus.store.types import DeadLetter

log = structlog.get_logger(__name__)
# The longest a worker holds an item while a system asks to wait, before queueing it again.
MAX_TRANSIENT_WAIT = 30.0


@dataclass
class WorkerCounts:
    items: int = 0
    records: int = 0
    buried: int = 0  # poison items sent to the dead letters
    again: int = 0  # items queued again after a failure or a wait


class Worker:
    def __init__(
        self,
        engine: Engine,
        queue: RabbitQueue,
        locks: RecordLocks,
        config: QueueConfig,
        on_report: Callable[[RunReport], None] | None = None,
    ) -> None:
        self.engine = engine
        self.queue = queue
        self.locks = locks
        self.config = config
        self.on_report = on_report
        self.counts = WorkerCounts()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Finish the item in hand, then stop (the rest go back to the broker)."""
        self._stop.set()

    async def serve(self, *, handle_signals: bool = True) -> None:
        """Work until stopped (SIGINT/SIGTERM or ``stop()``)."""
        if handle_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(signum, self.stop)
        stopping = asyncio.create_task(self._stop.wait())
        try:
            while not self._stop.is_set():
                receiving = asyncio.create_task(self.queue.receive())
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    receiving.cancel()
                    break
                try:
                    await self.handle(receiving.result())
                except TransientError as error:
                    # The broker or the store went away while settling: the item stays
                    # unacknowledged and comes back once the connection is restored.
                    log.warning("could not settle a work item; it will come back", error=str(error))
                    await asyncio.sleep(1.0)
        finally:
            stopping.cancel()

    async def handle(self, delivery: Delivery) -> None:
        """Apply one delivery and settle it with the broker."""
        item = delivery.item
        if item is None:
            log.error("work item unreadable, dropped", problem=delivery.problem)
            await delivery.drop()
            return
        if item.flow not in self.engine.flows:
            log.error(
                "work item for a flow this worker does not know, dropped; run every worker "
                "with the same config",
                flow=item.flow,
            )
            await delivery.drop()
            return
        if delivery.attempt > self.config.max_deliveries:
            self._bury(item, delivery)
            await delivery.ack()
            return
        try:
            report = await self.work(item)
        except TransientError as error:
            # The system, not the item: hold it a while, then queue it again uncounted.
            await asyncio.sleep(min(error.retry_after or 1.0, MAX_TRANSIENT_WAIT))
            await self.queue.again(delivery, str(error), failed=False)
            self.counts.again += 1
            return
        except Exception as error:
            log.warning(
                "work item failed; queued again",
                flow=item.flow,
                kind=item.kind,
                attempt=delivery.attempt,
                error=repr(error),
            )
            await self.queue.again(delivery, f"{type(error).__name__}: {error}")
            self.counts.again += 1
            return
        await delivery.ack()
        self.counts.items += 1
        self.counts.records += len(item.ids)
        if self.on_report is not None and report is not None:
            self.on_report(report)

    async def work(self, item: WorkItem) -> RunReport | None:
        """Do one item's work; returns its run's report (None when there was nothing)."""
        if item.kind == "records" and item.system:
            flow = self.engine.flows[item.flow]
            keys = record_keys(self.engine.store, flow.entity, item.system, item.ids)
            # Held from before the read until the page's bookkeeping is committed.
            async with self.locks.hold(keys):
                return await self.engine.sync_ids(
                    item.flow, item.system, item.ids, trigger=item.trigger
                )
        if item.kind in ("reconcile", "repair"):
            (found,) = await self.engine.reconcile([item.flow])
            if item.kind == "repair" and not found.clean:
                return await self.engine.repair(found, actor="worker")
            return None
        return await self.dispatch(item)

    async def dispatch(self, item: WorkItem) -> RunReport | None:
        """A poll: fan the flow's changes out (one poller per flow at a time)."""
        if item.flow in self.engine.paused and item.trigger in ("schedule", "webhook"):
            return None
        async with self.locks.try_hold(lock_key("dispatch", item.flow)) as mine:
            if not mine:
                return None  # another worker is reading this flow's changes right now
            store = self.engine.store
            run = store.start_run(item.flow, "dispatch")
            report = RunReport(item.flow, run.id)
            try:
                found = await dispatch_flow(
                    self.engine.flows[item.flow], store, self.queue, self.config.batch
                )
            except BaseException as error:
                store.finish_run(run.id, "failed", {}, repr(error))
                raise
            report.add("read", found.read)
            report.add("queued", found.queued)
            report.status = "succeeded"
            message = f"queued {found.read} change(s) as {found.queued} work item(s)"
            report.messages.append(message)
            store.finish_run(run.id, "succeeded", dict(report.counts), message)
            return report

    def _bury(self, item: WorkItem, delivery: Delivery) -> None:
        """A poison item: its records become dead letters a person can replay."""
        tries = delivery.attempt - 1
        cause = delivery.last_error or "none recorded: the workers stopped while on it"
        self.counts.buried += 1
        if item.kind != "records" or not item.system:
            run = self.engine.store.start_run(item.flow, "worker")
            self.engine.store.finish_run(
                run.id,
                "failed",
                {},
                f"{item.kind} work item for flow {item.flow} dropped after {tries} tries "
                f"(last error: {cause}); the next scheduled poll queues it again",
            )
            return
        entity = self.engine.flows[item.flow].entity
        message = (
            f"work item for {len(item.ids)} record(s) of {item.system} was delivered {tries} "
            f"times without being finished (last error: {cause}); fix the cause, then "
            "`isthmus dead-letters replay` these records"
        )
        with self.engine.store.unit_of_work() as uow:
            for native_id in item.ids:
                uow.put_dead_letter(
                    DeadLetter(
                        flow=item.flow,
                        entity=entity,
                        system=item.system,
                        native_id=native_id,
                        kind="poison",
                        message=message,
                        attempts=tries,
                    )
                )
        log.error(
            "poison work item sent to the dead letters", flow=item.flow, records=len(item.ids)
        )
