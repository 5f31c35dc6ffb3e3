"""A poll in distributed mode: read a flow's changes and fan them out as record batches.

In embedded mode one process reads a page and applies it. With many workers, the poll
only reads which records changed (the cursor's pages) and queues their ids in batches;
any worker then re-reads each batch's current state and applies it under the records'
locks. The cursor moves past a page only after the broker confirmed every batch of it,
so a poller that dies re-reads the page next time (duplicates are harmless: a worker
applies the current state, and an unchanged record is skipped by its content hash).

Records set aside to wait (a parent not linked yet, a transient failure) are queued
again by every poll, as ``FlowRunner.retry_waiting`` does in embedded mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from isthmus.engine.flows import FlowBinding
from isthmus.queue.base import WorkItem, WorkQueue
from isthmus.store.base import Store


@dataclass
class Dispatched:
    read: int = 0
    queued: int = 0  # work items published


def batches(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    unique = list(dict.fromkeys(ids))
    return [tuple(unique[start : start + size]) for start in range(0, len(unique), size)]


async def dispatch_flow(
    flow: FlowBinding, store: Store, queue: WorkQueue, batch: int, trigger: str = "schedule"
) -> Dispatched:
    """Queue every change of ``flow`` since its cursors, in batches of ``batch`` ids."""
    result = Dispatched()
    for origin, _partner in flow.directions():
        cursor = store.cursor(flow.name, origin.system, origin.object_name)
        pages = origin.connector.read_changes(
            origin.object_name, cursor, page_size=flow.config.page_size
        )
        async for page in pages:
            result.read += len(page.records)
            for ids in batches([record.id for record in page.records], batch):
                await queue.put(WorkItem(flow.name, "records", origin.system, ids, trigger))
                result.queued += 1
            # Only now: every batch of this page is on the broker's disk.
            with store.unit_of_work() as uow:
                uow.set_cursor(flow.name, origin.system, origin.object_name, page.cursor)
    waiting: dict[str, list[str]] = {}
    for letter in store.dead_letters(flow=flow.name, status="waiting", limit=10_000):
        if letter.system in flow.sides:
            waiting.setdefault(letter.system, []).append(letter.native_id)
    for system, native_ids in waiting.items():
        for ids in batches(native_ids, batch):
            await queue.put(WorkItem(flow.name, "records", system, ids, "retry"))
            result.queued += 1
    return result
