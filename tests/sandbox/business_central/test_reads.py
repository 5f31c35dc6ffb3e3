"""Reading: URL shape, $metadata, query options, paging, lastModifiedDateTime, auth."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from isthmus.sandbox.business_central.config import SandboxConfig
from tests.sandbox.business_central.conftest import FAST, Sandbox, start

EDM = {"e": "http://docs.oasis-open.org/odata/ns/edm"}


def test_metadata_describes_v2_entities_and_actions(sandbox: Sandbox) -> None:
    reply = sandbox.http.get(f"{sandbox.api}/$metadata")
    assert reply.status_code == 200
    root = ET.fromstring(reply.text)
    order = root.find(".//e:EntityType[@Name='salesOrder']", EDM)
    assert order is not None
    names = {p.get("Name") for p in order.findall("e:Property", EDM)}
    assert {"number", "customerId", "totalAmountIncludingTax", "lastModifiedDateTime"} <= names
    actions = {a.get("Name") for a in root.findall(".//e:Action", EDM)}
    assert {"makeOrder", "shipAndInvoice", "post", "makeCorrectiveCreditMemo"} <= actions


def test_companies_and_entity_url_shape(sandbox: Sandbox) -> None:
    companies = sandbox.http.get(f"{sandbox.api}/companies").json()
    assert companies["value"][0]["id"] == sandbox.company_id
    reply = sandbox.http.get(f"{sandbox.company}/customers", params={"$top": "2"})
    body = reply.json()
    assert body["@odata.context"].endswith(f"companies({sandbox.company_id})/customers")
    row = body["value"][0]
    assert row["@odata.etag"].startswith('W/"')
    assert row["lastModifiedDateTime"].endswith("Z")
    single = sandbox.http.get(f"{sandbox.company}/customers({row['id']})").json()
    assert single["number"] == row["number"]
    assert single["@odata.etag"] == row["@odata.etag"]


def test_server_driven_paging_with_filter_and_count(sandbox: Sandbox) -> None:
    url: str | None = (
        f"{sandbox.company}/customers?$filter=creditLimit ge 0&$count=true&$orderby=number"
    )
    numbers: list[str] = []
    pages = 0
    while url:
        body = sandbox.http.get(url).json()
        assert body["@odata.count"] == 12
        numbers += [r["number"] for r in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert pages == 3
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 12


def test_select_expand_and_filters(sandbox: Sandbox) -> None:
    items = sandbox.http.get(
        f"{sandbox.company}/items", params={"$select": "number,unitPrice", "$top": "1"}
    ).json()["value"]
    assert set(items[0]) == {"@odata.etag", "number", "unitPrice"}
    name = sandbox.http.get(f"{sandbox.company}/customers").json()["value"][0]["displayName"]
    found = sandbox.http.get(
        f"{sandbox.company}/customers",
        params={
            "$filter": f"startswith(displayName,'{name[:4]}')"
            " and lastModifiedDateTime gt 2020-01-01T00:00:00Z"
        },
    ).json()["value"]
    assert name in {c["displayName"] for c in found}
    bad = sandbox.http.get(f"{sandbox.company}/customers", params={"$filter": "number eq"})
    assert bad.status_code == 400
    assert "error" in bad.json()
    unknown = sandbox.http.get(f"{sandbox.company}/customers", params={"$select": "nope"})
    assert unknown.status_code == 400


def test_inventory_price_list_and_financial_details(sandbox: Sandbox) -> None:
    item = sandbox.http.get(f"{sandbox.company}/items").json()["value"][0]
    stock = sandbox.http.get(
        f"{sandbox.company}/itemInventoryByLocation", params={"$filter": f"itemId eq {item['id']}"}
    ).json()["value"]
    assert {s["locationCode"] for s in stock} == {"MAIN", "EAST", "WEST"}
    assert sum(s["inventory"] for s in stock) == item["inventory"]
    prices = sandbox.http.get(
        f"{sandbox.company}/salesPriceListLines", params={"$filter": f"itemId eq {item['id']}"}
    ).json()["value"]
    assert {(p["currencyCode"], p["minimumQuantity"]) for p in prices} == {
        ("USD", 1),
        ("USD", 10),
        ("EUR", 1),
        ("EUR", 10),
    }
    details = sandbox.http.get(
        f"{sandbox.company}/customerFinancialDetails", params={"$count": "true"}
    ).json()
    assert details["@odata.count"] == 12
    assert {"balance", "overdueAmount", "totalSalesExcludingTax"} <= set(details["value"][0])


def test_seed_is_deterministic() -> None:
    first = [s.company_id for s in start(FAST)]
    second = [s.company_id for s in start(FAST)]
    third = [s.company_id for s in start(SandboxConfig(seed=2, customers=1, items=1))]
    assert first == second
    assert first != third


def test_token_endpoint_and_401(sandbox: Sandbox) -> None:
    config = sandbox.config
    wrong = httpx.post(
        f"{sandbox.url}/{config.tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": "x",
        },
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    unauthenticated = httpx.get(f"{sandbox.company}/customers")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "Authentication_InvalidCredentials"
    other_env = sandbox.http.get(
        f"{sandbox.url}/v2.0/{config.tenant}/production/api/v2.0/companies"
    )
    assert other_env.status_code == 404
