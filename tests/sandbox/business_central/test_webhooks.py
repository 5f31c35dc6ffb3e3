"""Webhook subscriptions: handshake on create and renew, delayed delivery, collection, retries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.common import running_server
from tests.sandbox.business_central.conftest import FAST, Sandbox, start


@dataclass
class Receiver:
    url: str
    tokens: list[str] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 200
    echo_token: bool = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    state = Receiver("")

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:
            state.tokens.append(token)
            return Response(token if state.echo_token else "no", media_type="text/plain")
        if state.answers:
            return Response(status_code=state.answers.pop(0))
        state.notifications += (await request.json())["value"]
        return Response(status_code=202)

    with running_server(app) as url:
        state.url = f"{url}/hook"
        yield state


def _subscribe(sandbox: Sandbox, receiver: Receiver, entity: str = "customers") -> Any:
    return sandbox.http.post(
        f"{sandbox.api}/subscriptions",
        json={
            "notificationUrl": receiver.url,
            "resource": f"/api/v2.0/companies({sandbox.company_id})/{entity}",
            "clientState": "secret-state",
        },
    )


def _wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the webhook"
        time.sleep(0.02)


def test_handshake_on_create_and_renew_and_three_day_expiry(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    created = _subscribe(sandbox, receiver)
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(receiver.tokens) == 1
    expires = datetime.fromisoformat(body["expirationDateTime"].replace("Z", "+00:00"))
    assert abs(expires - datetime.now(UTC) - timedelta(days=3)) < timedelta(minutes=1)
    renewed = sandbox.http.patch(
        f"{sandbox.api}/subscriptions({body['subscriptionId']})", json={}, headers={"If-Match": "*"}
    )
    assert renewed.status_code == 200
    assert len(receiver.tokens) == 2
    receiver.echo_token = False
    refused = _subscribe(sandbox, receiver)
    assert refused.status_code == 400
    assert "validationToken" in refused.json()["error"]["message"]


def test_changes_are_notified_after_the_delay(sandbox: Sandbox, receiver: Receiver) -> None:
    assert _subscribe(sandbox, receiver).status_code == 201
    started = time.monotonic()
    created = sandbox.http.post(
        f"{sandbox.company}/customers", json={"displayName": "Hooked"}
    ).json()
    _wait_for(lambda: receiver.notifications)
    assert time.monotonic() - started >= FAST.webhook_delay_seconds
    note = receiver.notifications[0]
    assert note["changeType"] == "created"
    assert note["clientState"] == "secret-state"
    assert note["resource"].endswith(f"/customers({created['id']})")
    sandbox.http.delete(f"{sandbox.company}/customers({created['id']})")
    _wait_for(lambda: any(n["changeType"] == "deleted" for n in receiver.notifications))


def test_line_change_notifies_the_document(sandbox: Sandbox, receiver: Receiver) -> None:
    assert _subscribe(sandbox, receiver, "salesOrders").status_code == 201
    customer = sandbox.http.get(f"{sandbox.company}/customers").json()["value"][0]
    sandbox.http.patch(
        f"{sandbox.company}/customers({customer['id']})",
        json={"creditLimit": 0},
        headers={"If-Match": customer["@odata.etag"]},
    )
    order = sandbox.http.post(
        f"{sandbox.company}/salesOrders", json={"customerId": customer["id"]}
    ).json()
    _wait_for(lambda: receiver.notifications)
    receiver.notifications.clear()
    item = sandbox.http.get(f"{sandbox.company}/items").json()["value"][0]
    sandbox.http.post(
        f"{sandbox.company}/salesOrders({order['id']})/salesOrderLines",
        json={"itemId": item["id"], "quantity": 1},
    )
    _wait_for(lambda: receiver.notifications)
    resources = {n["resource"].split("/")[-1] for n in receiver.notifications}
    assert resources == {f"salesOrders({order['id']})"}


def test_many_changes_become_one_collection_notification(receiver: Receiver) -> None:
    config = SandboxConfig(
        customers=1, items=1, webhook_delay_seconds=0.5, webhook_collection_threshold=3
    )
    for sandbox in start(config):
        assert _subscribe(sandbox, receiver).status_code == 201
        for i in range(5):
            sandbox.http.post(f"{sandbox.company}/customers", json={"displayName": f"Bulk {i}"})
        _wait_for(lambda: receiver.notifications)
        assert len(receiver.notifications) == 1
        note = receiver.notifications[0]
        assert note["changeType"] == "collection"
        assert "$filter=lastModifiedDateTime gt " in note["resource"]


def test_retries_on_429_and_5xx_but_drops_subscription_on_other_errors(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    sub = _subscribe(sandbox, receiver).json()
    receiver.answers = [429, 503, 408]
    sandbox.http.post(f"{sandbox.company}/customers", json={"displayName": "Retried"})
    _wait_for(lambda: receiver.notifications)
    assert receiver.answers == []
    receiver.answers = [404]
    sandbox.http.post(f"{sandbox.company}/customers", json={"displayName": "Dropped"})
    _wait_for(lambda: not receiver.answers)
    _wait_for(
        lambda: (
            sandbox.http.get(f"{sandbox.api}/subscriptions({sub['subscriptionId']})").status_code
            == 404
        )
    )
