"""The Business Central connector against the sandbox over real HTTP: tokens, paging,
the (stamp, id) cursor, ETags and 412 re-merges, $batch, 429, business errors, actions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from isthmus.connectors.base import WriteOp
from isthmus.connectors.business_central import BusinessCentralConnector, from_config
from isthmus.connectors.business_central.seen import SeenCache
from isthmus.errors import AuthError, ConfigError, RateLimitedError
from tests.connectors.business_central.conftest import all_customers, options, sandbox_with
from tests.sandbox.business_central.conftest import Sandbox

Connect = Callable[..., BusinessCentralConnector]


def run(connector: BusinessCentralConnector, scenario: Any) -> Any:
    async def body() -> Any:
        try:
            return await scenario(connector)
        finally:
            await connector.close()

    return asyncio.run(body())


def test_a_token_is_fetched_once_and_renewed_when_bc_refuses_it(connect: Connect) -> None:
    async def scenario(connector: BusinessCentralConnector) -> None:
        await connector.describe("customers")
        first = await connector.client.token()
        await connector.read_by_ids("customers", [])
        assert await connector.client.token() == first, "a valid token is reused"
        connector.client._token = "revoked"  # as if BC no longer accepted it
        records = [
            r async for page in connector.read_changes("customers", None) for r in page.records
        ]
        assert records, "one fresh token, and the read goes on"
        assert connector.client._token != "revoked"

    run(connect(), scenario)


def test_wrong_credentials_and_unknown_company_say_what_to_fix(erp: Sandbox) -> None:
    wrong = from_config("erp", options(erp, client_secret="nope"))
    with pytest.raises(AuthError, match=r"tenant 'sandbox-tenant'.*client_secret"):
        run(wrong, lambda c: c.describe("customers"))
    lost = from_config("erp", options(erp, company="Fabrikam"))
    with pytest.raises(ConfigError, match=r"no company 'Fabrikam'.*companies: "):
        run(lost, lambda c: c.read_by_ids("customers", [all_customers(erp)[0]["id"]]))


def test_the_company_can_be_named_by_its_name(erp: Sandbox) -> None:
    name = erp.http.get(f"{erp.api}/companies").json()["value"][0]["name"]
    connector = from_config("erp", options(erp, company=name))
    found = run(connector, lambda c: c.read_by_ids("customers", [all_customers(erp)[0]["id"]]))
    assert len(found) == 1


def test_a_full_read_follows_next_links(connect: Connect, erp: Sandbox) -> None:
    # The sandbox serves 5 rows a page: six customers need two server pages.
    async def scenario(connector: BusinessCentralConnector) -> list[str]:
        before = connector.client.calls
        ids = [
            r.id async for page in connector.read_changes("customers", None) for r in page.records
        ]
        assert connector.client.calls - before >= 3, "token aside: company, page 1, page 2"
        return ids

    ids = run(connect(), scenario)
    assert sorted(ids) == sorted(c["id"] for c in all_customers(erp))
    assert len(ids) == len(set(ids))


def test_a_cursor_misses_nothing_when_stamps_tie(connect: Connect, erp: Sandbox) -> None:
    """Records edited in one $batch share milliseconds; a read interrupted after every
    page must still see each of them exactly once."""

    async def scenario(connector: BusinessCentralConnector) -> None:
        created = await connector.write(
            "customers",
            [WriteOp(f"n{n}", "create", {"displayName": f"Tie {n}"}) for n in range(12)],
        )
        cursor = None
        async for page in connector.read_changes("customers", None):
            cursor = page.cursor
        edits = [
            WriteOp(f"e{n}", "update", {"city": "Tours"}, id=result.id)
            for n, result in enumerate(created)
        ]
        assert all(r.ok for r in await connector.write("customers", edits))
        seen: list[str] = []
        for _ in range(20):  # one page at a time, starting again from its cursor
            pages = connector.read_changes("customers", cursor, page_size=2)
            page = await anext(pages)
            await pages.aclose()
            if not page.records:
                break
            seen += [r.id for r in page.records]
            cursor = page.cursor
        assert sorted(seen) == sorted(r.id or "" for r in created)

    run(connect(overlap_seconds=0), scenario)


def test_a_412_keeps_both_edits_when_they_touch_different_fields(
    connect: Connect, erp: Sandbox
) -> None:
    target = all_customers(erp)[0]

    async def scenario(connector: BusinessCentralConnector) -> None:
        await connector.read_by_ids("customers", [target["id"]])  # what the engine planned on
        # Someone edits another field in BC meanwhile.
        fresh = erp.http.get(f"{erp.company}/customers({target['id']})").json()
        erp.http.patch(
            f"{erp.company}/customers({target['id']})",
            json={"city": "Bordeaux"},
            headers={"If-Match": fresh["@odata.etag"]},
        ).raise_for_status()
        (result,) = await connector.write(
            "customers", [WriteOp("u", "update", {"phoneNumber": "+33 1 23"}, id=target["id"])]
        )
        assert result.ok, result
        assert result.outcome == "updated"

    run(connect(), scenario)
    after = erp.http.get(f"{erp.company}/customers({target['id']})").json()
    assert (after["city"], after["phoneNumber"]) == ("Bordeaux", "+33 1 23")


def test_a_412_on_the_same_field_overwrites_nothing(connect: Connect, erp: Sandbox) -> None:
    target = all_customers(erp)[0]

    async def scenario(connector: BusinessCentralConnector) -> None:
        await connector.read_by_ids("customers", [target["id"]])
        erp.http.patch(
            f"{erp.company}/customers({target['id']})",
            json={"phoneNumber": "+1 their edit"},
            headers={"If-Match": "*"},
        ).raise_for_status()
        for _ in range(2):  # and the engine's retry in the same run overwrites nothing either
            (result,) = await connector.write(
                "customers", [WriteOp("u", "update", {"phoneNumber": "+1 ours"}, id=target["id"])]
            )
            assert result.error is not None
            assert result.error.retryable, "the next run merges it; not a person's job"
            assert result.error.vendor_code == "Request_EntityChanged"
            assert result.error.field == "phoneNumber"
            assert "nothing was overwritten" in result.error.message

    run(connect(), scenario)
    after = erp.http.get(f"{erp.company}/customers({target['id']})").json()
    assert after["phoneNumber"] == "+1 their edit"


def test_volume_goes_as_batches_of_100_and_a_bad_record_fails_alone(connect: Connect) -> None:
    async def scenario(connector: BusinessCentralConnector) -> None:
        await connector.describe("customers")
        await connector.client.company_url()
        ops = [WriteOp(f"n{n}", "create", {"displayName": f"Bulk {n}"}) for n in range(250)]
        ops[137] = WriteOp("bad", "create", {"displayName": "Bad", "colour": "red"})
        before = connector.client.calls
        results = await connector.write("customers", ops)
        assert connector.client.calls - before == 3, "250 records, three $batch calls"
        assert [r.ref for r in results] == [op.ref for op in ops]
        failed = [r for r in results if not r.ok]
        assert [r.ref for r in failed] == ["bad"]
        error = failed[0].error
        assert error is not None
        assert (error.kind, error.field, error.vendor_code) == (
            "validation",
            "colour",
            "BadRequest_PropertyNotFound",
        )

    run(connect(), scenario)


@pytest.fixture
def tight() -> Iterator[Sandbox]:
    yield from sandbox_with(customers=2, items=1, rate_limit=6, rate_window_seconds=60)


def test_429_says_when_to_come_back(tight: Sandbox) -> None:
    connector = from_config("erp", options(tight))

    async def scenario(connector: BusinessCentralConnector) -> None:
        with pytest.raises(RateLimitedError) as caught:
            for _ in range(10):
                await connector.read_by_ids("customers", [all_customers(tight)[0]["id"]])
        assert caught.value.retry_after is not None
        assert caught.value.retry_after > 0
        assert "6,000 calls per 5 minutes" in str(caught.value)

    run(connector, scenario)


def test_a_blocked_customers_order_is_a_business_rejection_with_bcs_words(
    connect: Connect, erp: Sandbox
) -> None:
    customer = all_customers(erp)[0]
    erp.http.patch(
        f"{erp.company}/customers({customer['id']})",
        json={"blocked": "All"},
        headers={"If-Match": "*"},
    ).raise_for_status()
    item = erp.http.get(f"{erp.company}/items").json()["value"][0]

    async def scenario(connector: BusinessCentralConnector) -> None:
        order = {
            "customerId": customer["id"],
            "salesOrderLines": [{"itemId": item["id"], "quantity": 1}],
        }
        (result,) = await connector.write(
            "salesOrders", [WriteOp("o", "create", order, external_key="crm-opp-0001")]
        )
        error = result.error
        assert error is not None
        assert error.kind == "business"
        assert error.vendor_code == "Internal_CustomerBlocked"
        assert error.vendor_message
        assert error.vendor_message in error.message
        assert "unblock" in error.message

    run(connect(), scenario)
    assert erp.http.get(f"{erp.company}/salesOrders").json()["value"] == [], "nothing half-made"


def test_deep_insert_key_lookup_and_bound_actions(connect: Connect, erp: Sandbox) -> None:
    customer = all_customers(erp)[0]
    item = erp.http.get(f"{erp.company}/items").json()["value"][0]

    async def scenario(connector: BusinessCentralConnector) -> None:
        quote = {
            "customerId": customer["id"],
            "salesQuoteLines": [{"itemId": item["id"], "quantity": 2}],
        }
        key = "6f1d2c3b-0000-4000-8000-00000000abcd"
        (created,) = await connector.write(
            "salesQuotes", [WriteOp("q", "create", quote, external_key=key)]
        )
        assert created.ok, created
        found = await connector.lookup("salesQuotes", "externalDocumentNumber", [key])
        assert [r.id for r in found[key]] == [created.id], "found again by its key"
        assert len(found[key][0].fields["salesQuoteLines"]) == 1, "lines come with it"
        assert await connector.invoke("salesQuotes", created.id or "", "makeOrder") is None
        refused = await connector.invoke("salesQuotes", created.id or "", "makeOrder")
        assert refused is not None, "the quote is gone once it became an order"
        assert refused.kind == "not_found"

    run(connect(), scenario)
    (order,) = erp.http.get(f"{erp.company}/salesOrders").json()["value"]
    assert order["customerId"] == customer["id"]


@pytest.fixture
def roomy() -> Iterator[Sandbox]:
    yield from sandbox_with(customers=2, items=1, page_size=1000)


def test_many_look_ups_cost_one_batch_call(roomy: Sandbox) -> None:
    async def scenario(connector: BusinessCentralConnector) -> None:
        ops = [
            WriteOp(f"n{n}", "create", {"displayName": f"L {n}", "email": f"l{n}@example.com"})
            for n in range(40)
        ]
        created = await connector.write("customers", ops)
        before = connector.client.calls
        emails = [f"l{n}@example.com" for n in range(40)] + ["nobody@example.com"]
        found = await connector.lookup("customers", "email", emails)
        assert connector.client.calls - before == 1, "three filters of 15 in one $batch"
        assert set(found) == set(emails[:-1])
        by_id = await connector.read_by_ids("customers", [r.id or "" for r in created])
        assert len(by_id) == 40

    run(from_config("erp", options(roomy)), scenario)


def test_a_secret_revoked_mid_run_says_what_to_do(connect: Connect, erp: Sandbox) -> None:
    async def scenario(connector: BusinessCentralConnector) -> None:
        await connector.describe("customers")
        # The app's secret is rotated in Entra ID while Isthmus runs with the old one.
        connector.client.credentials = replace(connector.client.credentials, client_secret="old")
        connector.client._token = None
        with pytest.raises(AuthError, match=r"revoked.*isthmus secrets set.*nothing was lost"):
            await connector.read_by_ids("customers", [all_customers(erp)[0]["id"]])

    run(connect(), scenario)


def test_a_second_customer_with_the_same_number_is_refused(connect: Connect) -> None:
    async def scenario(connector: BusinessCentralConnector) -> None:
        ops = [
            WriteOp("a", "create", {"displayName": "First", "number": "K-1"}),
            WriteOp("b", "create", {"displayName": "Second", "number": "K-1"}),
        ]
        first, second = await connector.write("customers", ops)
        assert first.ok
        assert second.error is not None
        assert (second.error.kind, second.error.vendor_code) == (
            "conflict",
            "Internal_EntityWithSameKeyExists",
        )

    run(connect(), scenario)


def test_updates_on_records_not_read_yet_fetch_their_etags_in_one_call(roomy: Sandbox) -> None:
    async def scenario(connector: BusinessCentralConnector) -> None:
        ids = [c["id"] for c in all_customers(roomy)] + [
            r.id or ""
            for r in await connector.write(
                "customers",
                [WriteOp(f"n{n}", "create", {"displayName": f"Cold {n}"}) for n in range(30)],
            )
        ]
        connector.seen = SeenCache()  # a connector that has read none of them
        connector.reader.seen = connector.writer.seen = connector.seen
        before = connector.client.calls
        edits = [WriteOp(f"e{i}", "update", {"city": "Metz"}, id=i) for i in ids]
        results = await connector.write("customers", edits)
        assert all(r.outcome == "updated" for r in results), results
        assert connector.client.calls - before == 2, "one $batch of reads, one of writes"

    run(from_config("erp", options(roomy)), scenario)
    assert {c["city"] for c in all_customers(roomy)} == {"Metz"}
