"""The control plane over a real socket, in the process of a running scheduler: the
API answers with a token, "run now" goes through the scheduler's queue, a signed
webhook syncs, and /metrics counts the scheduled runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from isthmus.api.serve import Listen, control_plane_server, serve_with_webhooks
from isthmus.engine.scheduler import Scheduler
from tests.api.conftest import add_users
from tests.engine.memoryfixtures import open_engine, write_config


async def _until(condition: object, seconds: float = 10.0) -> None:
    assert callable(condition)
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_api_webhooks_and_metrics_share_the_schedulers_process(tmp_path: Path) -> None:
    config = write_config(tmp_path, customers={"trigger": "webhook"}, webhook_secret="s3cret")
    engine, crm, erp = open_engine(config)
    tokens = add_users(engine)
    scheduler = Scheduler(engine)
    server = control_plane_server(scheduler, Listen("127.0.0.1", 0))

    async def main() -> None:
        service = asyncio.create_task(serve_with_webhooks(scheduler, server))
        await _until(lambda: server.started)
        port = server.servers[0].sockets[0].getsockname()[1]
        operator = {"Authorization": f"Bearer {tokens['operator']}"}
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await client.get("/flows")).status_code == 401
                assert (await client.get("/openapi.json")).json()["info"]["title"]

                crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
                run = await client.post("/flows/customers/run", headers=operator)
                assert run.json() == {"queued": True, "report": None}
                await _until(lambda: len(erp.records("customers")) == 1)

                crm.put("Account", {"Name": "Beta", "AccountNumber": "C-2"})
                body = crm.webhook_body(crm.outbox[-1:])
                hook = await client.post("/webhooks/crm", content=body, headers=crm.sign(body))
                assert hook.status_code == 202, hook.text
                await _until(lambda: len(erp.records("customers")) == 2)

                metrics = (await client.get("/metrics", headers=operator)).text
                assert 'isthmus_records_synced_total{flow="customers",outcome="created"}' in metrics
                assert 'isthmus_run_seconds_count{flow="customers"} 2.0' in metrics
        finally:
            scheduler.stop()
            await asyncio.wait_for(service, 10)

    asyncio.run(main())
