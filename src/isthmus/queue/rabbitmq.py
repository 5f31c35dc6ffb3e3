"""The work queue on RabbitMQ: a durable quorum queue shared by any number of workers.

Invariants kept here:
- a published item is on the broker's disk before ``put`` returns (publisher confirms,
  persistent messages, a quorum queue replicated by the broker);
- a received item stays owned by the broker until it is acknowledged: a worker that
  dies (even by SIGKILL) has its unacknowledged items delivered again to another;
- every delivery says how many times the item was delivered before (the quorum queue's
  ``x-delivery-count``), so the worker can send a poison item's records to the dead
  letters instead of letting it go round forever (``Delivery.attempt``).

An item carries what to sync (flow, system, record ids), never the data: a worker
always reads the source's current state, so a redelivered or reordered item is harmless.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError

from isthmus.errors import ConfigError, TransientError
from isthmus.queue.base import WorkItem
from isthmus.queue.config import QueueConfig

FORMAT = 1
# Headers of an item given back after a failure (the failure is counted by us; a
# delivery that never settled, e.g. to a killed worker, is counted by the broker).
FAILURES = "x-isthmus-failures"
LAST_ERROR = "x-isthmus-last-error"
# The broker's own cut-off, far above any ``max_deliveries`` a config may set (at most
# 1,000): the worker dead-letters an item first; this only stops a message that kills
# every process that receives it before the worker can look at it.
BROKER_DELIVERY_LIMIT = 1_100


def encode(item: WorkItem) -> bytes:
    return json.dumps(
        {
            "format": FORMAT,
            "flow": item.flow,
            "kind": item.kind,
            "system": item.system,
            "ids": list(item.ids),
            "trigger": item.trigger,
            "dedup_key": item.dedup_key,
        },
        separators=(",", ":"),
    ).encode()


def decode(body: bytes) -> WorkItem:
    """The work item of a message body.

    Raises:
        ValueError: the body is not a work item of a known format.
    """
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not an Isthmus work item (format {FORMAT})")
    kind = data["kind"]
    if kind not in ("run", "records", "reconcile", "repair"):
        raise ValueError(f"unknown work item kind {kind!r}")
    return WorkItem(
        flow=str(data["flow"]),
        kind=kind,
        system=data.get("system"),
        ids=tuple(str(native_id) for native_id in data.get("ids", ())),
        trigger=str(data.get("trigger", "schedule")),
        dedup_key=str(data.get("dedup_key", "")),
    )


@dataclass
class Delivery:
    """One received message: its item (None when unreadable) and how to settle it."""

    item: WorkItem | None
    attempt: int  # 1 for the first delivery
    message: AbstractIncomingMessage
    problem: str = ""  # why ``item`` is None
    failures: int = 0  # failures reported by workers before this delivery
    last_error: str = ""

    async def ack(self) -> None:
        await self.message.ack()

    async def drop(self) -> None:
        await self.message.reject(requeue=False)


class RabbitQueue:
    """``WorkQueue`` on RabbitMQ. ``consume=False`` only publishes (a scheduler)."""

    def __init__(self, config: QueueConfig, *, consume: bool = True) -> None:
        if not config.url:
            raise ConfigError("queue.url is missing: write amqp://user:password@host:5672/")
        self.config = config
        self.consume = consume
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._received: asyncio.Queue[Delivery] = asyncio.Queue()
        # For the plain ``get``/``done`` interface: the message behind each item handed out.
        self._handed: dict[int, Delivery] = {}
        self._settling: set[asyncio.Task[None]] = set()

    async def connect(self) -> None:
        """Connect, declare the quorum queue, and start consuming when asked to.

        Raises:
            TransientError: the broker cannot be reached (the message says where).
        """
        assert self.config.url is not None
        try:
            self._connection = await aio_pika.connect_robust(self.config.url, timeout=10)
            self._channel = await self._connection.channel(publisher_confirms=True)
            await self._channel.set_qos(prefetch_count=self.config.prefetch)
            self._queue = await self._channel.declare_queue(
                self.config.name,
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-delivery-limit": BROKER_DELIVERY_LIMIT,
                },
            )
            if self.consume:
                await self._queue.consume(self._on_message, no_ack=False)
        except (AMQPError, OSError, TimeoutError) as error:
            await self.close()
            raise TransientError(
                f"cannot reach RabbitMQ at {_safe(self.config.url)} for queue "
                f"{self.config.name!r} ({error or type(error).__name__}); check that the "
                "broker runs and that queue.url is right"
            ) from None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = message.headers or {}
        unsettled = _count(headers.get("x-delivery-count"))
        failures = _count(headers.get(FAILURES))
        try:
            item: WorkItem | None = decode(message.body)
            problem = ""
        except (ValueError, KeyError, TypeError) as error:
            item, problem = None, str(error)
        last_error = str(headers.get(LAST_ERROR) or "")
        delivery = Delivery(item, 1 + unsettled + failures, message, problem, failures, last_error)
        await self._received.put(delivery)

    async def put(
        self,
        item: WorkItem,
        headers: dict[str, Any] | None = None,
        *,
        expires_in: float | None = None,
    ) -> bool:
        """Publish ``item``; returns once the broker confirmed it (always True: a broker
        queue is shared, so duplicates are not detected here, and they are harmless).

        ``expires_in``: seconds after which the broker drops the item undelivered (a
        scheduled poll that waited longer than its interval is replaced by the next).
        """
        channel = self._require_channel()
        message = aio_pika.Message(
            encode(item),
            headers=headers or {},
            expiration=expires_in,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
            message_id=uuid.uuid4().hex,
        )
        try:
            await channel.default_exchange.publish(message, routing_key=self.config.name)
        except (AMQPError, OSError) as error:
            raise TransientError(
                f"RabbitMQ did not take the work item for flow {item.flow!r} ({error}); "
                "it will be queued again by the next poll"
            ) from None
        return True

    async def again(self, delivery: Delivery, error: str, *, failed: bool = True) -> None:
        """Queue the item again at the back, then settle this delivery.

        ``failed`` counts one failure towards the poison limit (with ``error`` kept for
        the dead letter); a wait for a system that is down is not the item's fault.
        """
        assert delivery.item is not None
        failures = delivery.failures + (1 if failed else 0)
        headers = {FAILURES: failures, LAST_ERROR: error[:1000] or delivery.last_error}
        await self.put(delivery.item, headers)
        await delivery.ack()

    async def receive(self) -> Delivery:
        """The next delivery for this consumer (waits for one)."""
        return await self._received.get()

    async def get(self) -> WorkItem:
        """The next readable item; unreadable messages are dropped (nothing to sync)."""
        while True:
            delivery = await self.receive()
            if delivery.item is not None:
                self._handed[id(delivery.item)] = delivery
                return delivery.item
            await delivery.drop()

    def done(self, item: WorkItem) -> None:
        delivery = self._handed.pop(id(item), None)
        if delivery is not None:
            task = asyncio.get_running_loop().create_task(delivery.ack())
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    def depth(self) -> int:
        """Items received by this process and not yet taken (the broker holds the rest)."""
        return self._received.qsize()

    async def waiting(self) -> int:
        """Items waiting in the broker's queue (not counting those being worked on)."""
        channel = self._require_channel()
        declared = await channel.declare_queue(self.config.name, passive=True)
        return int(declared.declaration_result.message_count or 0)

    async def close(self) -> None:
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._channel = self._queue = None

    def _require_channel(self) -> AbstractChannel:
        if self._channel is None:
            raise RuntimeError("RabbitQueue.connect() was not called")
        return self._channel


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def _safe(url: str) -> str:
    """The broker URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
