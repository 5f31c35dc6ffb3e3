"""Webhook intake: events naming records queue a fetch of them; an event naming only a
set ("something changed here", BC's collection notification) queues a poll of the flow."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from isthmus.connectors.base import WebhookEvent
from isthmus.engine.webhooks import WebhookIntake
from isthmus.queue import InProcessQueue
from tests.engine.memoryfixtures import open_engine, write_config


def test_a_set_level_event_queues_a_poll_and_a_record_event_a_fetch(tmp_path: Path) -> None:
    config = write_config(tmp_path, customers={"trigger": "webhook"}, webhook_secret="s3cret")
    engine, crm, _ = open_engine(config)

    def parse(_headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        named = None if body == b"collection" else "001"
        return [WebhookEvent(f"e-{body.decode()}", "Account", named, "updated")]

    crm.parse_webhook = parse  # type: ignore[method-assign]
    queue = InProcessQueue()
    intake = WebhookIntake(engine, queue)

    async def scenario() -> None:
        polled = await intake.receive("crm", {}, b"collection")
        assert polled.queued == ["customers"]
        item = await queue.get()
        assert (item.flow, item.kind, item.trigger) == ("customers", "run", "webhook")
        fetched = await intake.receive("crm", {}, b"record")
        assert fetched.queued == ["customers"]
        item = await queue.get()
        assert (item.kind, item.ids) == ("records", ("001",))
        await engine.close()

    asyncio.run(scenario())
