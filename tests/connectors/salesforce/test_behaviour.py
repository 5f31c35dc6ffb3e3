"""The Salesforce connector's own behaviour: errors, sessions, budget, cursors, deletes,
webhooks. Against the sandbox over real HTTP, except the error table (a table test)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from isthmus.connectors.base import WriteOp
from isthmus.connectors.salesforce import SalesforceConnector, from_config
from isthmus.connectors.salesforce.errors import classify_call, record_error
from isthmus.errors import AuthError, ConfigError, RateLimitedError, TransientError
from tests.connectors.salesforce.conftest import options, password_options
from tests.sandbox.salesforce.conftest import RunningSandbox

Connect = Callable[..., SalesforceConnector]


@pytest.mark.parametrize(
    ("code", "kind", "field"),
    [
        ("REQUIRED_FIELD_MISSING", "validation", "Name"),
        ("STRING_TOO_LONG", "validation", "Name"),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "validation", "Name"),
        ("INVALID_CROSS_REFERENCE_KEY", "validation", "Name"),
        ("DUPLICATE_VALUE", "conflict", "Name"),
        ("ENTITY_IS_DELETED", "not_found", None),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "business", "Name"),
        ("UNABLE_TO_LOCK_ROW", "transient", None),
        ("UNKNOWN_EXCEPTION", "transient", None),
        ("REQUEST_LIMIT_EXCEEDED", "rate_limited", None),
        ("SOMETHING_NEW", "validation", "Name"),
    ],
)
def test_record_error_table(code: str, kind: str, field: str | None) -> None:
    error = record_error(
        {"statusCode": code, "message": "it said so", "fields": [field] if field else []}
    )
    assert (error.kind, error.field, error.vendor_code) == (kind, field, code)
    assert "it said so" in error.message


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (401, [{"errorCode": "INVALID_SESSION_ID", "message": "expired"}], AuthError),
        (403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "limit"}], RateLimitedError),
        (429, [{"errorCode": "X", "message": "slow down"}], RateLimitedError),
        (503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}], TransientError),
        (500, "not json", TransientError),
        (403, [{"errorCode": "INSUFFICIENT_ACCESS", "message": "no"}], AuthError),
    ],
)
def test_call_error_table(status: int, body: object, error_type: type[Exception]) -> None:
    error = classify_call(status, body, 7.0, "read Account")
    assert type(error) is error_type
    assert "read Account" in str(error)


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"options\.client_id is required"):
        from_config("crm", {"login_url": "http://x", "client_secret": "s"})
    with pytest.raises(ConfigError, match="unknown option"):
        from_config("crm", {**options("http://x"), "clientid": "typo"})
    with pytest.raises(ConfigError, match="needs username and password"):
        from_config("crm", options("http://x", grant="password"))


def test_an_expired_session_is_renewed_once(org: RunningSandbox, connect: Connect) -> None:
    async def scenario() -> None:
        crm = connect()
        await crm.describe("Account")
        httpx.post(f"{org.url}/__sandbox/sessions/expire").raise_for_status()
        (result,) = await crm.write("Account", [WriteOp("a", "create", {"Name": "After"})])
        assert result.ok
        await crm.close()

    asyncio.run(scenario())


def test_wrong_credentials_say_what_to_check(org: RunningSandbox) -> None:
    async def scenario() -> None:
        crm = from_config("crm", {**password_options(org.url), "password": "wrong"})
        with pytest.raises(AuthError, match="check client_id, client_secret"):
            await crm.describe("Account")
        await crm.close()

    asyncio.run(scenario())


def test_the_budget_reserve_pauses_before_it_is_spent(
    org: RunningSandbox, connect: Connect
) -> None:
    httpx.post(
        f"{org.url}/__sandbox/limits", json={"daily_api_requests": 1000, "used": 980}
    ).raise_for_status()

    async def scenario() -> None:
        crm = connect(budget_reserve=50)
        with pytest.raises(RateLimitedError, match="kept in reserve"):
            await crm.describe("Account")  # the first answer reports 981 used
            await crm.describe("Contact")
        assert crm.client.budget.remaining is not None
        await crm.close()

    asyncio.run(scenario())


def test_a_cursor_inside_a_second_misses_nothing(connect: Connect) -> None:
    async def scenario() -> None:
        crm = connect()
        ops = [WriteOp(str(n), "create", {"Name": f"Burst {n}"}) for n in range(30)]
        created = await crm.write("Account", ops)
        pages = [page async for page in crm.read_changes("Account", None, page_size=7)]
        assert all(len(page.records) <= 7 for page in pages)
        middle = pages[1].cursor  # most likely inside the same second as its neighbours
        after: list[str] = []
        async for page in crm.read_changes("Account", json.loads(json.dumps(middle)), page_size=7):
            after.extend(record.id for record in page.records)
        expected = [r.id for r in created][14:]
        assert after == expected, "exactly the records after the cursor, in order"
        await crm.close()

    asyncio.run(scenario())


def test_deletes_come_back_as_tombstones(connect: Connect) -> None:
    async def scenario() -> None:
        crm = connect()
        (made,) = await crm.write("Account", [WriteOp("a", "create", {"Name": "Doomed"})])
        cursor = [page async for page in crm.read_changes("Account", None)][-1].cursor
        await crm.write("Account", [WriteOp("d", "delete", id=made.id)])
        records = [r async for page in crm.read_changes("Account", cursor) for r in page.records]
        assert [(r.id, r.deleted) for r in records] == [(made.id, True)]
        await crm.close()

    asyncio.run(scenario())


def test_change_events_need_the_shared_token(connect: Connect) -> None:
    crm = connect(webhook_secret="s3cret")
    body = json.dumps(
        {
            "events": [
                {
                    "event": {"replayId": 7},
                    "payload": {
                        "ChangeEventHeader": {
                            "entityName": "Account",
                            "recordIds": ["001000000000001AAA", "001*"],
                            "changeType": "UPDATE",
                        }
                    },
                }
            ]
        }
    ).encode()
    (event,) = crm.parse_webhook({"X-Isthmus-Token": "s3cret"}, body)
    assert (event.event_id, event.object, event.id, event.change) == (
        "7:001000000000001AAA",
        "Account",
        "001000000000001AAA",
        "updated",
    )
    with pytest.raises(ValueError, match="token"):
        crm.parse_webhook({"X-Isthmus-Token": "guess"}, body)
    with pytest.raises(ValueError, match="webhooks are off"):
        connect().parse_webhook({}, body)
    asyncio.run(crm.close())
