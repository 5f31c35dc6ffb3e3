"""Business Central webhooks end to end over real HTTP: the connector subscribes, the
sandbox validates Isthmus's receiver with the validationToken handshake (on create and on
renew), and a change in BC reaches the CRM through a notification, with no poll."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, insert, select

from isthmus.api.serve import serve_with_webhooks, webhook_server
from isthmus.connectors.business_central import BusinessCentralConnector
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.runner import RunOptions
from isthmus.engine.scheduler import Scheduler
from isthmus.sandbox.common.server import _listening_socket
from tests.connectors.business_central.test_sync import CRM, FAST, _config
from tests.sandbox.business_central.conftest import Sandbox

SECRET = "client-state-0123456789abcdef"


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def _with_webhooks(config: Path, port: int) -> None:
    raw: dict[str, Any] = yaml.safe_load(config.read_text())
    raw["systems"]["erp"]["options"]["webhook"] = {
        "notification_url": f"http://127.0.0.1:{port}/webhooks/erp",
        "client_state": SECRET,
        "objects": ["customers"],
    }
    raw["flows"][0]["trigger"] = "webhook"
    config.write_text(yaml.safe_dump(raw))


def test_subscribe_validate_renew_and_notify(tmp_path: Path, erp: Sandbox) -> None:
    sock = _listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    config = _config(tmp_path, erp)
    _with_webhooks(config, port)
    crm = create_engine(f"sqlite:///{tmp_path}/crm.db")
    CRM.create_all(crm)
    customers = CRM.tables["customers"]
    with crm.begin() as tx:
        tx.execute(
            insert(customers),
            [{"name": "Webhook Ltd", "email": "hook@example.com", "modified": datetime.now(UTC)}],
        )
    engine = Engine.from_config(load_config(config))
    scheduler = Scheduler(engine)
    server = webhook_server(scheduler, "127.0.0.1", port)

    async def main() -> None:
        await engine.sync(options=RunOptions(retry=FAST))  # link everything first
        service = asyncio.create_task(serve_with_webhooks(scheduler, server))
        await _until(lambda: server.started)
        connector = engine.connectors["erp"]
        assert isinstance(connector, BusinessCentralConnector)
        assert connector.subscriptions is not None
        try:
            active = await connector.subscriptions.ensure()
            listed = (await asyncio.to_thread(erp.http.get, f"{erp.api}/subscriptions")).json()
            (sub,) = listed["value"]
            assert sub["notificationUrl"] == f"http://127.0.0.1:{port}/webhooks/erp"
            assert set(active) == {"customers"}

            # Renewal before expiry: the handshake runs again and the expiry moves on.
            first_expiry = active["customers"]
            connector.subscriptions.plan.renew_within = timedelta(days=4)
            await asyncio.sleep(1.1)  # expiry times are whole seconds
            renewed = await connector.subscriptions.ensure()
            assert renewed["customers"] > first_expiry

            # A change in BC arrives as a notification and syncs the record.
            bc = (
                await asyncio.to_thread(
                    erp.http.get,
                    f"{erp.company}/customers",
                    params={"$filter": "email eq 'hook@example.com'"},
                )
            ).json()["value"][0]
            await asyncio.to_thread(
                lambda: erp.http.patch(
                    f"{erp.company}/customers({bc['id']})",
                    json={"phoneNumber": "+1 555 0100"},
                    headers={"If-Match": bc["@odata.etag"]},
                ).raise_for_status()
            )

            def crm_phone() -> str | None:
                with crm.connect() as conn:
                    return conn.execute(
                        select(customers.c.phone).where(customers.c.email == "hook@example.com")
                    ).scalar_one()

            await _until(lambda: crm_phone() == "+1 555 0100")

            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                forged = await client.post(
                    "/webhooks/erp",
                    json={
                        "value": [
                            {
                                "subscriptionId": "x",
                                "clientState": "guess",
                                "resource": f"/api/v2.0/companies({erp.company_id})/customers",
                                "changeType": "updated",
                            }
                        ]
                    },
                )
                assert forged.status_code == 400
                assert "clientState" in forged.json()["error"]
                unknown = await client.post("/webhooks/nobody", params={"validationToken": "t"})
                assert unknown.status_code == 404
        finally:
            scheduler.stop()
            await asyncio.wait_for(service, 10)
            await engine.close()

    asyncio.run(main())
    crm.dispose()


def test_notifications_name_records_deletes_and_collections(erp: Sandbox) -> None:
    from isthmus.connectors.business_central import from_config
    from tests.connectors.business_central.conftest import options

    connector = from_config(
        "erp",
        options(
            erp,
            webhook={"notification_url": "http://x/webhooks/erp", "client_state": SECRET},
            objects={"customers": {}},
        ),
    )
    root = f"/api/v2.0/companies({erp.company_id})"
    body = {
        "value": [
            {
                "subscriptionId": "s1",
                "clientState": SECRET,
                "resource": f"{root}/customers(1b2c3d4e-0000-4000-8000-000000000001)",
                "changeType": "deleted",
                "lastModifiedDateTime": "2026-11-23T00:00:00Z",
            },
            {
                "subscriptionId": "s1",
                "clientState": SECRET,
                "resource": f"{root}/customers?$filter=lastModifiedDateTime%20gt%202026-11-22",
                "changeType": "collection",
            },
        ]
    }
    deleted, collection = connector.parse_webhook({}, json.dumps(body).encode())
    assert (deleted.object, deleted.id, deleted.change) == (
        "customers",
        "1b2c3d4e-0000-4000-8000-000000000001",
        "deleted",
    )
    assert (collection.object, collection.id) == ("customers", None), "a poll, not a record"
    for bad in (b"not json", b'{"value": 3}', b'{"value": [{"clientState": "no"}]}'):
        with pytest.raises(ValueError, match=r"\w"):
            connector.parse_webhook({}, bad)
    asyncio.run(connector.close())
