"""``isthmus run``: fire each flow on its trigger and feed the work queue.

Poll intervals and cron expressions decide when a flow is due; a due flow becomes one
work item (duplicates of a waiting item are dropped, so a slow run is never stacked up
behind copies of itself). One worker takes items in order, so flows of one installation
never write the same record concurrently in embedded mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.runner import RunOptions
from isthmus.queue import InProcessQueue, WorkItem, WorkQueue


@dataclass
class Entry:
    flow: str
    poll: timedelta | None
    cron: str | None
    next_due: datetime
    kind: Literal["run", "reconcile", "repair"] = "run"

    def advance(self, now: datetime) -> None:
        if self.cron:
            from croniter import croniter

            self.next_due = croniter(self.cron, now).get_next(datetime)
        elif self.poll:
            self.next_due = now + self.poll


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        queue: WorkQueue | None = None,
        on_report: Callable[[RunReport], None] | None = None,
        leader: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.engine = engine
        # Distributed mode: several schedulers may run; only the one for which this
        # answers True (the holder of the leader lock) queues due flows.
        self.leader = leader
        self.queue: WorkQueue = queue or InProcessQueue()
        self.on_report = on_report
        # Awaited after each run the worker finishes (alert evaluation); they must not
        # raise, a failing hook would stop the worker.
        self.after_run: list[Callable[[RunReport], Awaitable[None]]] = []
        self._stop = asyncio.Event()
        # Set when work arrives from outside the schedule (a webhook), so the loop does
        # not sleep until the next poll with a fetch waiting.
        self._wake = asyncio.Event()
        now = datetime.now(UTC)
        self.entries = [
            Entry(flow.name, flow.config.trigger.poll, flow.config.trigger.cron, now)
            for flow in engine.ordered()
            if flow.config.trigger.poll or flow.config.trigger.cron
        ]
        for flow in engine.ordered():
            plan = flow.config.reconcile
            if plan is not None:
                # The first reconciliation waits one period: a fresh start syncs first.
                kind: Literal["reconcile", "repair"] = "repair" if plan.repair else "reconcile"
                entry = Entry(flow.name, plan.every, plan.cron, now, kind)
                entry.advance(now)
                self.entries.append(entry)
        for entry in self.entries:
            if entry.cron:
                entry.advance(now)
        # Retention purge (isthmus.security.retention): due at start, then every period.
        retention = engine.loaded.config.retention
        self.purge_due: datetime | None = (
            now if retention.audit_payload_days or retention.dead_letter_days else None
        )

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def pause(self, flow: str, until: datetime) -> None:
        """Do not run ``flow`` on its schedule before ``until`` (a system asked to wait)."""
        for entry in self.entries:
            if entry.flow == flow and entry.kind == "run":
                entry.next_due = max(entry.next_due, until)

    def wake(self) -> None:
        """Work was queued from outside the schedule: process it now."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def tick(self, now: datetime | None = None) -> int:
        """Queue every due flow; returns how many were queued."""
        if self.leader is not None and not await self.leader():
            return 0
        now = now or datetime.now(UTC)
        self._purge_if_due(now)
        queued = 0
        for entry in self.entries:
            if entry.next_due <= now:
                item = WorkItem(entry.flow, entry.kind, trigger="schedule")
                queued += await self.queue.put(item)
                entry.advance(now)
        return queued

    def _purge_if_due(self, now: datetime) -> None:
        if self.purge_due is None or self.purge_due > now:
            return
        from isthmus.security.retention import purge

        retention = self.engine.loaded.config.retention
        purge(self.engine.store, retention, now=now, actor="schedule")
        self.purge_due = now + (retention.purge_every or timedelta(hours=24))

    async def work_once(self) -> RunReport:
        item = await self.queue.get()
        try:
            flow = self.engine.flows[item.flow]
            if item.kind == "records" and item.system:
                report = await self.engine.sync_ids(
                    item.flow, item.system, item.ids, trigger=item.trigger
                )
            elif item.kind in ("reconcile", "repair"):
                report = await self._reconcile(item.flow, repair=item.kind == "repair")
            else:
                report = await self.engine.run_flow(flow, RunOptions(), trigger=item.trigger)
                if report.resume_at is not None:
                    self.pause(item.flow, report.resume_at)
        finally:
            self.queue.done(item)
        if self.on_report is not None:
            self.on_report(report)
        for hook in self.after_run:
            await hook(report)
        return report

    async def _reconcile(self, flow: str, *, repair: bool) -> RunReport:
        (found,) = await self.engine.reconcile([flow])
        if repair and not found.clean:
            return await self.engine.repair(found, actor="schedule")
        report = RunReport(flow, "reconcile", status="succeeded" if found.clean else "partial")
        counts = ", ".join(f"{n} {kind}" for kind, n in found.counts().items() if n)
        report.messages.append(f"reconciliation: {counts or 'both systems agree'}")
        return report

    async def serve(self) -> None:
        """Run until stopped (SIGINT/SIGTERM or ``stop()``)."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.stop)
        try:
            while not self._stop.is_set():
                await self.tick()
                while self.queue.depth() and not self._stop.is_set():
                    await self.work_once()
                await self._sleep_until_due()
        finally:
            await self.engine.close()

    async def _sleep_until_due(self) -> None:
        seconds: float | None = None
        if self.entries:
            wait = min(entry.next_due for entry in self.entries) - datetime.now(UTC)
            seconds = min(max(wait.total_seconds(), 0.05), 60.0)
        if self.queue.depth():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
