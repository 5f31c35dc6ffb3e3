"""Inbound webhooks: verify, de-duplicate, and queue a fetch of the records they name.

A webhook is a hint, never data: the payload only says which records changed, and the
engine re-reads them from the system before syncing (a forged or stale payload cannot
write anything). Vendors deliver at least once, so event ids already seen are dropped;
the re-read is idempotent anyway (content hashes), the dedup only saves calls.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from isthmus.engine.engine import Engine
from isthmus.queue import WorkItem, WorkQueue

SEEN_EVENTS_KEPT = 10_000
MAX_VALIDATION_TOKEN = 1024


class WebhookRefused(Exception):
    """The request is not a valid webhook of that system (signature, shape, system)."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


@dataclass
class WebhookReceipt:
    events: int = 0
    duplicates: int = 0
    ignored: int = 0  # events for objects no webhook-triggered flow syncs
    queued: list[str] = field(default_factory=list)  # flow names a fetch was queued for


class WebhookIntake:
    """Turns verified webhook events into ``records`` work items on the queue."""

    def __init__(self, engine: Engine, queue: WorkQueue) -> None:
        self.engine = engine
        self.queue = queue
        self._seen: OrderedDict[str, None] = OrderedDict()

    def flows_for(self, system: str, object_name: str) -> list[str]:
        """Flows triggered by webhooks that read ``object_name`` of ``system``."""
        return [
            flow.name
            for flow in self.engine.ordered()
            if flow.config.trigger.webhook
            and system in flow.sides
            and flow.sides[system].object_name == object_name
        ]

    def _first_time(self, system: str, event_id: str) -> bool:
        key = f"{system}:{event_id}"
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > SEEN_EVENTS_KEPT:
            self._seen.popitem(last=False)
        return True

    async def receive(self, system: str, headers: dict[str, str], body: bytes) -> WebhookReceipt:
        connector = self.engine.connectors.get(system)
        if connector is None:
            known = ", ".join(sorted(self.engine.connectors))
            raise WebhookRefused(f"no system named {system!r}; configured: {known}", status=404)
        try:
            events = connector.parse_webhook(headers, body)
        except ValueError as error:
            raise WebhookRefused(f"webhook for {system!r} refused: {error}") from None
        receipt = WebhookReceipt(events=len(events))
        wanted: dict[tuple[str, str], list[str]] = {}
        polls: set[str] = set()
        for event in events:
            if not self._first_time(system, event.event_id):
                receipt.duplicates += 1
                continue
            flows = self.flows_for(system, event.object)
            if not flows:
                receipt.ignored += 1
                continue
            if event.id is None:
                # "Something in this set changed" (BC's collection notification): only a
                # poll of the flow finds what, from its cursor.
                polls.update(flows)
                continue
            for flow in flows:
                ids = wanted.setdefault((flow, event.object), [])
                if event.id not in ids:
                    ids.append(event.id)
        for (flow, _), ids in wanted.items():
            item = WorkItem(flow, "records", system, tuple(ids), trigger="webhook")
            if await self.queue.put(item):
                receipt.queued.append(flow)
        for flow in sorted(polls):
            if await self.queue.put(WorkItem(flow, "run", trigger="webhook")):
                receipt.queued.append(flow)
        return receipt

    def validation_answer(self, system: str, token: str) -> str:
        """The body that completes a subscription handshake (Business Central, Microsoft
        Graph): the ``validationToken`` echoed, for a configured system only."""
        if system not in self.engine.connectors:
            known = ", ".join(sorted(self.engine.connectors))
            raise WebhookRefused(f"no system named {system!r}; configured: {known}", status=404)
        if not 0 < len(token) <= MAX_VALIDATION_TOKEN or not token.isprintable():
            raise WebhookRefused("validationToken must be 1 to 1024 printable characters")
        return token
