"""The work queue interface and its in-process backend (asyncio, no broker)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class WorkItem:
    """Run a flow, or sync named records of one system through a flow."""

    flow: str
    kind: Literal["run", "records", "reconcile", "repair"] = "run"
    system: str | None = None
    ids: tuple[str, ...] = ()
    trigger: str = "schedule"
    # Items with the same dedup key that are already queued are dropped (a burst of
    # polls or webhook events for one flow becomes one run).
    dedup_key: str = field(default="")

    def key(self) -> str:
        return self.dedup_key or f"{self.flow}:{self.kind}:{self.system}:{','.join(self.ids)}"


class WorkQueue(Protocol):
    async def put(self, item: WorkItem) -> bool:
        """Queue an item; False when an identical one is already waiting."""
        ...

    async def get(self) -> WorkItem: ...

    def done(self, item: WorkItem) -> None:
        """Acknowledge an item after it was processed (or dead-lettered)."""
        ...

    def depth(self) -> int: ...


class InProcessQueue:
    """An asyncio queue with de-duplication of waiting items."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[WorkItem] = asyncio.Queue()
        self._waiting: set[str] = set()

    async def put(self, item: WorkItem) -> bool:
        key = item.key()
        if key in self._waiting:
            return False
        self._waiting.add(key)
        await self._queue.put(item)
        return True

    async def get(self) -> WorkItem:
        item = await self._queue.get()
        self._waiting.discard(item.key())
        return item

    def done(self, item: WorkItem) -> None:
        self._queue.task_done()

    def depth(self) -> int:
        return self._queue.qsize()
