"""The control API: every route checked by role, and actions that really act.

The app runs in-process (httpx's ASGI transport) on the real engine, store and mappings,
with in-memory systems; tests/api/test_webhooks.py covers the same app over a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from isthmus.api.app import create_app
from isthmus.api.auth import new_token
from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config

VIEWER, VIEWER_HASH = new_token()
OPERATOR, OPERATOR_HASH = new_token()

Scenario = Callable[[httpx.AsyncClient, Engine, MemoryConnector, MemoryConnector], Awaitable[None]]


def _run(tmp_path: Path, scenario: Scenario, **flow: Any) -> None:
    config = write_config(tmp_path, customers=flow or None)
    document = yaml.safe_load(config.read_text())
    document["api"] = {
        "tokens": [
            {"name": "viewer", "role": "viewer", "sha256": VIEWER_HASH},
            {"name": "ops", "role": "operator", "sha256": OPERATOR_HASH},
        ]
    }
    config.write_text(yaml.safe_dump(document))
    engine, crm, erp = open_engine(config)

    async def main() -> None:
        transport = httpx.ASGITransport(app=create_app(engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://isthmus") as client:
            await scenario(client, engine, crm, erp)
        await engine.close()

    asyncio.run(main())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ROUTES = [
    ("GET", "/api/status", None),
    ("GET", "/api/runs", None),
    ("GET", "/api/dead-letters", None),
    ("GET", "/api/review", None),
    ("GET", "/api/audit", None),
    ("POST", "/api/dead-letters/replay", {"flow": "customers"}),
    ("POST", "/api/review/999/resolve", {"take": "crm"}),
    ("POST", "/api/reconcile", {}),
    ("POST", "/api/flows/customers/run", None),
]


def test_every_route_checks_the_role(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient, *_: Any) -> None:
        for method, path, body in ROUTES:
            anonymous = await client.request(method, path, json=body)
            assert anonymous.status_code == 401, (method, path)
            assert "what_to_do" in anonymous.json()
            wrong = await client.request(method, path, json=body, headers=auth("ist_nope"))
            assert wrong.status_code == 401, (method, path)
            as_viewer = await client.request(method, path, json=body, headers=auth(VIEWER))
            expected = 200 if method == "GET" else 403
            assert as_viewer.status_code == expected, (method, path, as_viewer.text)
            as_operator = await client.request(method, path, json=body, headers=auth(OPERATOR))
            assert as_operator.status_code not in (401, 403, 500), (method, path)

    _run(tmp_path, scenario)


def test_a_dead_letter_is_replayed_through_the_api(tmp_path: Path) -> None:
    async def scenario(
        client: httpx.AsyncClient, engine: Engine, crm: MemoryConnector, erp: MemoryConnector
    ) -> None:
        account = crm.put("Account", {"Name": "L" * 60, "AccountNumber": "C-1"})  # ERP holds 50
        run = await client.post("/api/flows/customers/run", headers=auth(OPERATOR))
        assert run.json()["counts"]["dead_letters"] == 1
        (letter,) = (await client.get("/api/dead-letters", headers=auth(VIEWER))).json()
        assert "holds at most 50 characters" in letter["message"]
        shown = await client.get(f"/api/dead-letters/{letter['id']}", headers=auth(VIEWER))
        assert shown.json()["native_id"] == account

        crm.put("Account", {"Name": "Short Ltd"}, account)  # fixed at the source
        replayed = await client.post(
            "/api/dead-letters/replay", json={"ids": [letter["id"]]}, headers=auth(OPERATOR)
        )
        assert replayed.json()[0]["counts"]["created"] == 1
        assert [c["name"] for c in erp.records("customers").values()] == ["Short Ltd"]
        actors = {e["actor"] for e in (await client.get("/api/audit", headers=auth(VIEWER))).json()}
        assert "api:ops" in actors, "the audit says who replayed"

    _run(tmp_path, scenario)


def test_a_conflict_is_shown_side_by_side_and_resolved_through_the_api(tmp_path: Path) -> None:
    async def scenario(
        client: httpx.AsyncClient, engine: Engine, crm: MemoryConnector, erp: MemoryConnector
    ) -> None:
        account = crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1", "Phone": "1"})
        await client.post("/api/flows/customers/run", headers=auth(OPERATOR))
        (customer,) = erp.records("customers")
        crm.put("Account", {"Phone": "2"}, account)
        erp.put("customers", {"phone": "3"}, customer)
        await client.post("/api/flows/customers/run", headers=auth(OPERATOR))
        (item,) = (await client.get("/api/review", headers=auth(VIEWER))).json()
        sides = (await client.get(f"/api/review/{item['id']}", headers=auth(VIEWER))).json()
        phone = next(f for f in sides["fields"] if f["path"] == "phone")
        assert phone == {
            "path": "phone",
            "values": {"crm": "2", "erp": "3"},
            "base": "1",
            "differs": True,
        }

        bad = await client.post(
            f"/api/review/{item['id']}/resolve", json={}, headers=auth(OPERATOR)
        )
        assert bad.status_code == 422
        done = await client.post(
            f"/api/review/{item['id']}/resolve", json={"take": "erp"}, headers=auth(OPERATOR)
        )
        assert done.status_code == 200
        assert crm.get("Account", account)["Phone"] == "3"  # type: ignore[index]
        again = await client.post(
            f"/api/review/{item['id']}/resolve", json={"take": "crm"}, headers=auth(OPERATOR)
        )
        assert again.status_code == 409

    _run(tmp_path, scenario)


def test_metrics_and_openapi_are_served(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient, *_: Any) -> None:
        await client.post("/api/flows/customers/run", headers=auth(OPERATOR))
        metrics = (await client.get("/metrics")).text
        assert 'isthmus_dead_letters{flow="customers",status="open"} 0.0' in metrics
        assert 'isthmus_last_run_succeeded{flow="customers"} 1.0' in metrics
        schema = (await client.get("/openapi.json")).json()
        assert "/api/review/{item_id}/resolve" in schema["paths"]

    _run(tmp_path, scenario)


def test_without_tokens_the_api_is_closed(tmp_path: Path) -> None:
    engine, _, _ = open_engine(write_config(tmp_path))

    async def main() -> None:
        transport = httpx.ASGITransport(app=create_app(engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://isthmus") as client:
            answer = await client.get("/api/status", headers=auth(OPERATOR))
        assert answer.status_code == 401
        assert "isthmus token new" in answer.json()["what_to_do"]
        await engine.close()

    asyncio.run(main())


def test_token_hashes_are_all_that_is_kept() -> None:
    token, hashed = new_token()
    assert token.startswith("ist_")
    assert token not in hashed
    assert len(hashed) == 64
