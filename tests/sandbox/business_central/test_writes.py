"""Writing: deep insert, PATCH with If-Match (412 on stale ETags), DELETE, business rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.sandbox.business_central.conftest import Sandbox


def _customer(sandbox: Sandbox, **changes: Any) -> dict[str, Any]:
    customer = sandbox.http.get(f"{sandbox.company}/customers").json()["value"][0]
    if changes:
        reply = sandbox.http.patch(
            f"{sandbox.company}/customers({customer['id']})",
            json=changes,
            headers={"If-Match": customer["@odata.etag"]},
        )
        assert reply.status_code == 200, reply.text
        customer = reply.json()
    return dict(customer)


def _items(sandbox: Sandbox) -> list[dict[str, Any]]:
    return list(sandbox.http.get(f"{sandbox.company}/items").json()["value"])


def _order(sandbox: Sandbox, customer_id: str, quantities: list[int]) -> Any:
    items = _items(sandbox)
    lines = [{"itemId": items[i]["id"], "quantity": q} for i, q in enumerate(quantities)]
    return sandbox.http.post(
        f"{sandbox.company}/salesOrders",
        json={"customerId": customer_id, "salesOrderLines": lines},
    )


def test_create_patch_with_etag_and_delete_customer(sandbox: Sandbox) -> None:
    created = sandbox.http.post(
        f"{sandbox.company}/customers", json={"displayName": "Contoso Ltd", "city": "Paris"}
    )
    assert created.status_code == 201
    record = created.json()
    assert record["number"].startswith("C")
    assert created.headers["Location"].endswith(f"customers({record['id']})")
    url = f"{sandbox.company}/customers({record['id']})"
    first = sandbox.http.patch(
        url, json={"city": "Lyon"}, headers={"If-Match": record["@odata.etag"]}
    )
    assert first.status_code == 200
    assert first.json()["city"] == "Lyon"
    assert first.json()["lastModifiedDateTime"] >= record["lastModifiedDateTime"]
    stale = sandbox.http.patch(
        url, json={"city": "Nice"}, headers={"If-Match": record["@odata.etag"]}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "Request_EntityChanged"
    assert sandbox.http.patch(url, json={"city": "Nice"}).status_code == 428
    assert sandbox.http.patch(url, json={"nope": 1}, headers={"If-Match": "*"}).status_code == 400
    assert sandbox.http.delete(url).status_code == 204
    assert sandbox.http.get(url).status_code == 404


def test_deep_insert_prices_lines_and_totals(sandbox: Sandbox) -> None:
    customer = _customer(sandbox, creditLimit=0)
    reply = _order(sandbox, customer["id"], [2, 12])
    assert reply.status_code == 201, reply.text
    order = reply.json()
    assert order["number"].startswith("S-ORD")
    expanded = sandbox.http.get(
        f"{sandbox.company}/salesOrders({order['id']})", params={"$expand": "salesOrderLines"}
    ).json()
    lines = expanded["salesOrderLines"]
    assert [ln["quantity"] for ln in lines] == [2, 12]
    # 12 units hit the price list's 10+ tier with a 5% discount.
    assert lines[1]["discountPercent"] == 5
    total = sum(Decimal(str(ln["amountIncludingTax"])) for ln in lines)
    assert Decimal(str(expanded["totalAmountIncludingTax"])) == total


def test_blocked_customer_and_credit_limit_are_refused(sandbox: Sandbox) -> None:
    blocked = _customer(sandbox, blocked="All")
    refused = _order(sandbox, blocked["id"], [1])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "Internal_CustomerBlocked"
    assert "blocked" in refused.json()["error"]["message"]
    limited = _customer(sandbox, blocked="_x0020_", creditLimit=10)
    over = _order(sandbox, limited["id"], [3])
    assert over.status_code == 400
    assert over.json()["error"]["code"] == "Internal_CreditLimitExceeded"
    orders = sandbox.http.get(f"{sandbox.company}/salesOrders").json()["value"]
    assert orders == []


def test_partial_shipment_and_invoicing_move_stock_and_balance(sandbox: Sandbox) -> None:
    customer = _customer(sandbox, creditLimit=0)
    item_before = _items(sandbox)[0]
    order = _order(sandbox, customer["id"], [10]).json()
    lines_url = f"{sandbox.company}/salesOrders({order['id']})/salesOrderLines"
    line = sandbox.http.get(lines_url).json()["value"][0]
    patched = sandbox.http.patch(
        f"{lines_url}({line['id']})",
        json={"shipQuantity": 4, "invoiceQuantity": 3},
        headers={"If-Match": line["@odata.etag"]},
    )
    assert patched.status_code == 200, patched.text
    action = f"{sandbox.company}/salesOrders({order['id']})/Microsoft.NAV.shipAndInvoice"
    assert sandbox.http.post(action).status_code == 204
    line = sandbox.http.get(f"{lines_url}({line['id']})").json()
    assert (line["shippedQuantity"], line["invoicedQuantity"]) == (4, 3)
    item_after = sandbox.http.get(f"{sandbox.company}/items({item_before['id']})").json()
    assert item_after["inventory"] == item_before["inventory"] - 4
    invoices = sandbox.http.get(f"{sandbox.company}/salesInvoices").json()["value"]
    assert len(invoices) == 1
    assert invoices[0]["status"] == "Open"
    assert invoices[0]["number"].startswith("PS-INV")
    invoice_lines = sandbox.http.get(
        f"{sandbox.company}/salesInvoices({invoices[0]['id']})/salesInvoiceLines"
    ).json()["value"]
    assert invoice_lines[0]["quantity"] == 3
    shipments = sandbox.http.get(f"{sandbox.company}/salesShipments").json()["value"]
    assert len(shipments) == 1
    balance = sandbox.http.get(f"{sandbox.company}/customers({customer['id']})").json()[
        "balanceDue"
    ]
    assert Decimal(str(balance)) == Decimal(str(invoices[0]["totalAmountIncludingTax"]))
    # Ship and invoice the rest: the order is complete and disappears, as in BC.
    assert sandbox.http.post(action).status_code == 204
    assert sandbox.http.get(f"{sandbox.company}/salesOrders({order['id']})").status_code == 404
    assert len(sandbox.http.get(f"{sandbox.company}/salesInvoices").json()["value"]) == 2


def test_payment_and_credit_memo_change_balances(sandbox: Sandbox) -> None:
    customer = _customer(sandbox, creditLimit=0)
    order = _order(sandbox, customer["id"], [2]).json()
    sandbox.http.post(f"{sandbox.company}/salesOrders({order['id']})/Microsoft.NAV.shipAndInvoice")
    invoice = sandbox.http.get(f"{sandbox.company}/salesInvoices").json()["value"][0]
    total = Decimal(str(invoice["totalAmountIncludingTax"]))
    half = (total / 2).quantize(Decimal("0.01"))
    payment = sandbox.http.post(
        f"{sandbox.company}/customerPayments",
        json={
            "customerId": customer["id"],
            "amount": str(half),
            "appliesToInvoiceId": invoice["id"],
        },
    )
    assert payment.status_code == 201, payment.text
    invoice = sandbox.http.get(f"{sandbox.company}/salesInvoices({invoice['id']})").json()
    assert Decimal(str(invoice["remainingAmount"])) == total - half
    memo_action = (
        f"{sandbox.company}/salesInvoices({invoice['id']})/Microsoft.NAV.makeCorrectiveCreditMemo"
    )
    assert sandbox.http.post(memo_action).status_code == 204
    memo = sandbox.http.get(f"{sandbox.company}/salesCreditMemos").json()["value"][0]
    assert memo["invoiceNumber"] == invoice["number"]
    post = f"{sandbox.company}/salesCreditMemos({memo['id']})/Microsoft.NAV.post"
    assert sandbox.http.post(post).status_code == 204
    balance = sandbox.http.get(f"{sandbox.company}/customers({customer['id']})").json()[
        "balanceDue"
    ]
    assert Decimal(str(balance)) == total - half - total
    assert sandbox.http.post(post).status_code == 400  # posting twice is refused


def test_quote_make_order_and_draft_invoice_post(sandbox: Sandbox) -> None:
    customer = _customer(sandbox, creditLimit=0)
    item = _items(sandbox)[0]
    quote = sandbox.http.post(
        f"{sandbox.company}/salesQuotes",
        json={
            "customerNumber": customer["number"],
            "salesQuoteLines": [{"lineObjectNumber": item["number"], "quantity": 1}],
        },
    ).json()
    assert quote["status"] == "Draft"
    made = sandbox.http.post(
        f"{sandbox.company}/salesQuotes({quote['id']})/Microsoft.NAV.makeOrder"
    )
    assert made.status_code == 204
    assert sandbox.http.get(f"{sandbox.company}/salesQuotes({quote['id']})").status_code == 404
    orders = sandbox.http.get(f"{sandbox.company}/salesOrders").json()["value"]
    assert orders[0]["customerNumber"] == customer["number"]
    draft = sandbox.http.post(
        f"{sandbox.company}/salesInvoices",
        json={
            "customerId": customer["id"],
            "salesInvoiceLines": [{"itemId": item["id"], "quantity": 1}],
        },
    ).json()
    assert draft["status"] == "Draft"
    assert (
        sandbox.http.post(
            f"{sandbox.company}/salesInvoices({draft['id']})/Microsoft.NAV.post"
        ).status_code
        == 204
    )
    posted = sandbox.http.get(f"{sandbox.company}/salesInvoices({draft['id']})").json()
    assert posted["status"] == "Open"
    assert posted["number"].startswith("PS-INV")


def test_order_within_credit_limit_ships_and_invoices(sandbox: Sandbox) -> None:
    customer = _customer(sandbox, creditLimit=0)
    order = _order(sandbox, customer["id"], [1]).json()
    total = Decimal(str(order["totalAmountIncludingTax"]))
    _customer(sandbox, creditLimit=str(total + 1))
    # Invoicing an accepted order must not count the order twice against the limit.
    action = f"{sandbox.company}/salesOrders({order['id']})/Microsoft.NAV.shipAndInvoice"
    assert sandbox.http.post(action).status_code == 204
    second = _order(sandbox, customer["id"], [1])
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "Internal_CreditLimitExceeded"


def test_price_list_is_chosen_by_currency_and_quantity(sandbox: Sandbox) -> None:
    customer = _customer(sandbox, creditLimit=0)
    item = _items(sandbox)[0]
    prices = sandbox.http.get(
        f"{sandbox.company}/salesPriceListLines",
        params={"$filter": f"itemId eq {item['id']} and currencyCode eq 'EUR'"},
    ).json()["value"]
    euro = {p["minimumQuantity"]: p for p in prices}
    order = sandbox.http.post(
        f"{sandbox.company}/salesOrders",
        json={
            "customerId": customer["id"],
            "currencyCode": "EUR",
            "salesOrderLines": [
                {"itemId": item["id"], "quantity": 1},
                {"itemId": item["id"], "quantity": 10},
            ],
        },
    ).json()
    lines = sandbox.http.get(
        f"{sandbox.company}/salesOrders({order['id']})/salesOrderLines"
    ).json()["value"]
    assert [ln["unitPrice"] for ln in lines] == [euro[1]["unitPrice"], euro[10]["unitPrice"]]
    assert [ln["discountPercent"] for ln in lines] == [0, euro[10]["lineDiscountPercent"]]
    assert euro[1]["unitPrice"] != item["unitPrice"]


def test_a_customer_number_is_unique_and_freed_when_it_changes(sandbox: Sandbox) -> None:
    customers = f"{sandbox.company}/customers"
    first = sandbox.http.post(customers, json={"displayName": "A", "number": "K-1"}).json()
    again = sandbox.http.post(customers, json={"displayName": "B", "number": "K-1"})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "Internal_EntityWithSameKeyExists"
    sandbox.http.patch(
        f"{customers}({first['id']})", json={"number": "K-2"}, headers={"If-Match": "*"}
    ).raise_for_status()
    assert (
        sandbox.http.post(customers, json={"displayName": "C", "number": "K-1"}).status_code == 201
    )
    taken = sandbox.http.post(customers, json={"displayName": "D", "number": "K-2"})
    assert taken.status_code == 400
