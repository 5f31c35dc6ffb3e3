"""Webhooks over real HTTP: a signed event queues a fetch, the record syncs; a forged,
repeated or unknown one changes nothing and says why."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from isthmus.api.serve import serve_with_webhooks, webhook_server
from isthmus.engine.scheduler import Scheduler
from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def _service(
    tmp_path: Path,
    scenario: Callable[
        [httpx.AsyncClient, MemoryConnector, MemoryConnector, Scheduler], Awaitable[None]
    ],
) -> None:
    config = write_config(tmp_path, customers={"trigger": "webhook"}, webhook_secret="s3cret")
    engine, crm, erp = open_engine(config)
    scheduler = Scheduler(engine)
    server = webhook_server(scheduler, "127.0.0.1", 0)

    async def main() -> None:
        service = asyncio.create_task(serve_with_webhooks(scheduler, server))
        await _until(lambda: server.started)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await scenario(client, crm, erp, scheduler)
        finally:
            scheduler.stop()
            await asyncio.wait_for(service, 10)

    asyncio.run(main())


def test_a_signed_webhook_syncs_the_record_it_names(tmp_path: Path) -> None:
    async def scenario(
        client: httpx.AsyncClient, crm: MemoryConnector, erp: MemoryConnector, _: Scheduler
    ) -> None:
        crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
        body = crm.webhook_body(crm.outbox[-1:])
        answer = await client.post("/webhooks/crm", content=body, headers=crm.sign(body))
        assert answer.status_code == 202, answer.text
        assert answer.json() == {
            "events": 1,
            "duplicates": 0,
            "ignored": 0,
            "queued": ["customers"],
        }
        await _until(lambda: len(erp.records("customers")) == 1)
        (customer,) = erp.records("customers").values()
        assert customer["name"] == "Acme"

        again = await client.post("/webhooks/crm", content=body, headers=crm.sign(body))
        assert again.json()["duplicates"] == 1, "a redelivered event is dropped"

    _service(tmp_path, scenario)


def test_forged_and_misaddressed_webhooks_are_refused(tmp_path: Path) -> None:
    async def scenario(
        client: httpx.AsyncClient, crm: MemoryConnector, erp: MemoryConnector, _: Scheduler
    ) -> None:
        crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
        body = crm.webhook_body(crm.outbox[-1:])
        forged = await client.post(
            "/webhooks/crm",
            content=body,
            headers={**crm.sign(body), "x-isthmus-signature": "sha256=00"},
        )
        assert forged.status_code == 400
        assert "signature" in forged.json()["error"]
        unknown = await client.post("/webhooks/sap", content=body, headers=crm.sign(body))
        assert unknown.status_code == 404
        assert "configured: crm, erp" in unknown.json()["error"]
        no_hooks = await client.post("/webhooks/erp", content=b"{}")
        assert no_hooks.status_code == 400
        assert "not enabled" in no_hooks.json()["error"]
        await asyncio.sleep(0.2)
        assert erp.records("customers") == {}, "nothing was synced"

    _service(tmp_path, scenario)


def test_events_for_objects_no_webhook_flow_reads_are_ignored(tmp_path: Path) -> None:
    async def scenario(
        client: httpx.AsyncClient, crm: MemoryConnector, erp: MemoryConnector, _: Scheduler
    ) -> None:
        crm.put("Contact", {"LastName": "Smith"})  # the contacts flow is not webhook-triggered
        body = crm.webhook_body(crm.outbox[-1:])
        answer = await client.post("/webhooks/crm", content=body, headers=crm.sign(body))
        assert answer.json() == {"events": 1, "duplicates": 0, "ignored": 1, "queued": []}
        assert erp.records("contacts") == {}

    _service(tmp_path, scenario)


def test_an_oversized_body_is_refused_before_parsing(tmp_path: Path) -> None:
    async def scenario(
        client: httpx.AsyncClient, crm: MemoryConnector, erp: MemoryConnector, _: Scheduler
    ) -> None:
        body = b"x" * (1024 * 1024 + 1)
        answer = await client.post("/webhooks/crm", content=body, headers=crm.sign(body))
        assert answer.status_code == 413
        assert "nothing stored" in answer.json()["error"]

    _service(tmp_path, scenario)
