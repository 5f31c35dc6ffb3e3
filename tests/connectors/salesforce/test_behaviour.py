"""The Salesforce connector's own behaviour: errors, sessions, budget, cursors, deletes,
webhooks. Against the sandbox over real HTTP, except the error table (a table test)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from isthmus.connectors.base import WriteOp
from isthmus.connectors.salesforce import SalesforceConnector, from_config
from isthmus.connectors.salesforce.errors import classify_call, record_error
from isthmus.errors import AuthError, ConfigError, RateLimitedError, TransientError
from isthmus.sandbox.salesforce.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_USERNAME,
    Credentials,
    SandboxSettings,
)
from tests.connectors.salesforce.conftest import options, password_options
from tests.sandbox.salesforce.conftest import RunningSandbox, serve_sandbox

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


def test_large_writes_go_as_one_bulk_job(org: RunningSandbox, connect: Connect) -> None:
    async def scenario() -> None:
        crm = connect(bulk_threshold=20)
        ops = [
            WriteOp(f"r{n}", "upsert", {"Name": f"Bulk {n}"}, external_key=f"key-{n:03d}")
            for n in range(25)
        ]
        ops.append(WriteOp("bad", "upsert", {"Name": None}, external_key="key-bad"))
        results = await crm.write("Account", ops)
        assert [r.ref for r in results] == [op.ref for op in ops]
        assert all(r.outcome == "created" for r in results[:25])
        bad = results[25].error
        assert bad is not None
        assert (bad.kind, bad.field, bad.vendor_code) == (
            "validation",
            "Name",
            "REQUIRED_FIELD_MISSING",
        )
        again = await crm.write("Account", ops[:25])  # the same keys: updated, not added
        assert {r.outcome for r in again} == {"updated"}
        found = await crm.lookup("Account", "Isthmus_Id__c", [f"key-{n:03d}" for n in range(25)])
        assert sum(len(v) for v in found.values()) == 25
        await crm.close()

    asyncio.run(scenario())
    with org.http() as client:
        jobs = client.get("/services/data/v59.0/jobs/ingest").json()["records"]
    assert len(jobs) == 2, "two jobs, not 26 calls of collections"


def _key_pair(tmp_path: Path) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = tmp_path / "app.key"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def test_the_jwt_bearer_grant_logs_in_with_the_apps_key(tmp_path: Path) -> None:
    private, public = _key_pair(tmp_path)
    (tmp_path / "other").mkdir()
    other, _ = _key_pair(tmp_path / "other")
    settings = SandboxSettings(volume="empty", credentials=Credentials(jwt_public_key=public))
    with serve_sandbox(settings) as org:
        jwt_options = {
            "login_url": org.url,
            "client_id": DEFAULT_CLIENT_ID,
            "grant": "jwt_bearer",
            "username": DEFAULT_USERNAME,
        }

        async def scenario() -> None:
            crm = from_config("crm", {**jwt_options, "private_key_file": str(private)})
            assert (await crm.describe("Account")).key == "Id"
            await crm.close()
            forged = from_config("crm", {**jwt_options, "private_key_file": str(other)})
            with pytest.raises(AuthError, match="invalid_grant"):
                await forged.describe("Account")
            await forged.close()

        asyncio.run(scenario())
