"""Posting: bound actions that move documents forward and change balances and stock.

- ``salesQuotes/makeOrder`` turns a quote into an order (credit-checked) and removes the quote.
- ``salesOrders/shipAndInvoice`` ships each line's ``shipQuantity`` and invoices its
  ``invoiceQuantity`` (both default to what remains), so partial shipment and partial
  invoicing work per line; stock leaves the location, a posted invoice gets a number, the
  customer's balance rises; an order fully shipped and invoiced is removed, as in BC.
- ``salesInvoices/post`` posts a draft invoice; ``makeCorrectiveCreditMemo`` drafts a credit
  memo for a posted invoice; ``salesCreditMemos/post`` lowers the balance.
- A customer payment applied to an invoice lowers its remaining amount and the balance.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from isthmus.sandbox.business_central.documents import (
    CENT,
    NUMBER_PREFIX,
    ZERO,
    BusinessRuleError,
    customer_of,
    insert_document,
    recompute_totals,
    require,
    to_decimal,
)
from isthmus.sandbox.business_central.store import CompanyStore, Record, new_id

LINE_FIELDS = (
    "lineType",
    "itemId",
    "lineObjectNumber",
    "description",
    "unitOfMeasureCode",
    "unitPrice",
    "discountPercent",
    "taxPercent",
)


def make_order(store: CompanyStore, company: str, quote_id: str) -> Record:
    quote = require(store, company, "salesQuotes", quote_id)
    lines = [
        {name: line.get(name) for name in (*LINE_FIELDS, "quantity")}
        for line in store.lines_of(company, "salesQuoteLines", quote["id"])
    ]
    body = {
        "customerId": quote["customerId"],
        "currencyCode": quote["currencyCode"],
        "externalDocumentNumber": quote.get("externalDocumentNumber"),
        "orderDate": date.today().isoformat(),
        "salesOrderLines": lines,
    }
    order = insert_document(store, company, "salesOrders", body)
    _delete_document(store, company, "salesQuotes", "salesQuoteLines", quote["id"])
    return order


def ship_and_invoice(store: CompanyStore, company: str, order_id: str) -> Record | None:
    """Ship and invoice an order's pending quantities; returns the posted invoice, if any."""
    order = require(store, company, "salesOrders", order_id)
    customer = customer_of(store, company, order)
    if customer.get("blocked") in ("All", "Ship"):
        raise BusinessRuleError(
            "Internal_CustomerBlocked",
            f"Customer {customer['number']} is blocked for shipping; unblock it to ship.",
        )
    lines = store.lines_of(company, "salesOrderLines", order["id"])
    shipped = [(ln, _ship_quantity(ln)) for ln in lines]
    invoiced = [(ln, _invoice_quantity(ln, qty)) for ln, qty in shipped]
    if not any(q for _, q in shipped) and not any(q for _, q in invoiced):
        raise BusinessRuleError(
            "Internal_NothingToPost", f"Order {order['number']} has nothing to ship or invoice."
        )
    if any(q for _, q in shipped):
        _post_shipment(store, company, order, shipped)
    invoice = (
        _post_invoice_from_order(store, company, order, invoiced, customer)
        if any(q for _, q in invoiced)
        else None
    )
    for line, ship_qty in shipped:
        line["shippedQuantity"] += ship_qty
    for line, invoice_qty in invoiced:
        line["invoicedQuantity"] += invoice_qty
        line["shipQuantity"] = line["quantity"] - line["shippedQuantity"]
        line["invoiceQuantity"] = line["quantity"] - line["invoicedQuantity"]
        store.put(company, "salesOrderLines", line)
    order["fullyShipped"] = all(ln["shippedQuantity"] >= ln["quantity"] for ln in lines)
    if all(ln["invoicedQuantity"] >= ln["quantity"] for ln in lines):
        _delete_document(store, company, "salesOrders", "salesOrderLines", order["id"])
    else:
        store.put(company, "salesOrders", order)
    return invoice


def _ship_quantity(line: Record) -> Decimal:
    remaining: Decimal = line["quantity"] - line["shippedQuantity"]
    wanted = to_decimal(line.get("shipQuantity", remaining), "shipQuantity")
    if wanted < 0 or wanted > remaining:
        raise BusinessRuleError(
            "Internal_QuantityTooLarge",
            f"Line {line['sequence']}: shipQuantity {wanted} must be between 0 and the "
            f"{remaining} not yet shipped.",
        )
    return wanted


def _invoice_quantity(line: Record, shipping_now: Decimal) -> Decimal:
    shipped_uninvoiced: Decimal = line["shippedQuantity"] + shipping_now - line["invoicedQuantity"]
    wanted = to_decimal(line.get("invoiceQuantity", shipped_uninvoiced), "invoiceQuantity")
    # An invoice can only bill what has been shipped; clamp rather than refuse, as BC does.
    return max(min(wanted, shipped_uninvoiced), ZERO)


def _post_shipment(
    store: CompanyStore, company: str, order: Record, shipped: list[tuple[Record, Decimal]]
) -> None:
    shipment = {
        "id": new_id(),
        "number": store.next_number(NUMBER_PREFIX["salesShipments"]),
        "orderNumber": order["number"],
        "customerId": order["customerId"],
        "customerNumber": order["customerNumber"],
        "customerName": order["customerName"],
        "shipmentDate": date.today().isoformat(),
    }
    for line, qty in shipped:
        if not qty:
            continue
        store.put(
            company,
            "salesShipmentLines",
            {
                "id": new_id(),
                "documentId": shipment["id"],
                "sequence": line["sequence"],
                "itemId": line.get("itemId"),
                "lineObjectNumber": line.get("lineObjectNumber"),
                "description": line.get("description"),
                "quantity": qty,
            },
            "created",
        )
        if line.get("itemId"):
            _move_stock(store, company, line["itemId"], -qty)
    store.put(company, "salesShipments", shipment, "created")


def _move_stock(store: CompanyStore, company: str, item_id: str, delta: Decimal) -> None:
    item = store.get(company, "items", item_id)
    item["inventory"] += delta
    store.put(company, "items", item)
    locations = [
        r for r in store.rows(company, "itemInventoryByLocation") if r["itemId"] == item_id
    ]
    if locations:
        # Ship from the location holding most stock, as a default pick would.
        location = max(locations, key=lambda r: r["inventory"])
        location["inventory"] += delta
        store.put(company, "itemInventoryByLocation", location)


def _post_invoice_from_order(
    store: CompanyStore,
    company: str,
    order: Record,
    invoiced: list[tuple[Record, Decimal]],
    customer: Record,
) -> Record:
    if customer.get("blocked") == "Invoice":
        raise BusinessRuleError(
            "Internal_CustomerBlocked", f"Customer {customer['number']} is blocked for invoicing."
        )
    lines = [
        {**{n: ln.get(n) for n in LINE_FIELDS}, "quantity": qty} for ln, qty in invoiced if qty
    ]
    body = {
        "customerId": order["customerId"],
        "currencyCode": order["currencyCode"],
        "orderId": order["id"],
        "orderNumber": order["number"],
        "externalDocumentNumber": order.get("externalDocumentNumber"),
        "salesInvoiceLines": lines,
    }
    # The order already passed the credit check; posting its invoice must not re-check.
    draft = insert_document(store, company, "salesInvoices", body, check_credit=False)
    return post_invoice(store, company, draft["id"])


def post_invoice(store: CompanyStore, company: str, invoice_id: str) -> Record:
    invoice = require(store, company, "salesInvoices", invoice_id)
    if invoice["status"] != "Draft":
        raise BusinessRuleError(
            "Internal_AlreadyPosted", f"Invoice {invoice['number']} is already posted."
        )
    customer = customer_of(store, company, invoice)
    recompute_totals(store, company, "salesInvoices", invoice)
    today = date.today()
    invoice.update(
        status="Open",
        number=store.next_number("PS-INV"),
        invoiceDate=today.isoformat(),
        postingDate=today.isoformat(),
        dueDate=(today + timedelta(days=30)).isoformat(),
        remainingAmount=invoice["totalAmountIncludingTax"],
    )
    customer["balanceDue"] += invoice["totalAmountIncludingTax"]
    store.put(company, "customers", customer)
    return store.put(company, "salesInvoices", invoice)


def make_corrective_credit_memo(store: CompanyStore, company: str, invoice_id: str) -> Record:
    invoice = require(store, company, "salesInvoices", invoice_id)
    if invoice["status"] == "Draft":
        raise BusinessRuleError(
            "Internal_NotPosted", "Only posted invoices can be corrected; post it first."
        )
    lines = [
        {**{n: ln.get(n) for n in LINE_FIELDS}, "quantity": ln["quantity"]}
        for ln in store.lines_of(company, "salesInvoiceLines", invoice["id"])
    ]
    body = {
        "customerId": invoice["customerId"],
        "currencyCode": invoice["currencyCode"],
        "invoiceId": invoice["id"],
        "invoiceNumber": invoice["number"],
        "salesCreditMemoLines": lines,
    }
    return insert_document(store, company, "salesCreditMemos", body)


def post_credit_memo(store: CompanyStore, company: str, memo_id: str) -> Record:
    memo = require(store, company, "salesCreditMemos", memo_id)
    if memo["status"] != "Draft":
        raise BusinessRuleError(
            "Internal_AlreadyPosted", f"Credit memo {memo['number']} is already posted."
        )
    customer = customer_of(store, company, memo)
    amount: Decimal = memo["totalAmountIncludingTax"]
    memo.update(
        status="Open", number=store.next_number("PS-CR"), postingDate=date.today().isoformat()
    )
    customer["balanceDue"] -= amount
    if memo.get("invoiceId"):
        invoice = store.get(company, "salesInvoices", memo["invoiceId"])
        invoice["remainingAmount"] = max(invoice["remainingAmount"] - amount, ZERO)
        invoice["status"] = "Corrective" if invoice["remainingAmount"] == 0 else invoice["status"]
        store.put(company, "salesInvoices", invoice)
    store.put(company, "customers", customer)
    return store.put(company, "salesCreditMemos", memo)


def apply_payment(store: CompanyStore, company: str, body: Record) -> Record:
    """Record a customer payment; applied to an invoice, it settles that invoice."""
    customer = customer_of(store, company, body)
    amount = to_decimal(body.get("amount", 0), "amount").quantize(CENT)
    if amount <= 0:
        raise BusinessRuleError("BadRequest", "A customer payment needs a positive amount.")
    invoice = _applied_invoice(store, company, body)
    if invoice is not None:
        if invoice["customerId"] != customer["id"]:
            raise BusinessRuleError(
                "Internal_WrongCustomer",
                f"Invoice {invoice['number']} belongs to another customer.",
            )
        invoice["remainingAmount"] = max(invoice["remainingAmount"] - amount, ZERO)
        invoice["status"] = "Paid" if invoice["remainingAmount"] == 0 else "Open"
        store.put(company, "salesInvoices", invoice)
    customer["balanceDue"] -= amount
    store.put(company, "customers", customer)
    payment: Record = {
        "journalDisplayName": "GENERAL",
        "description": None,
        "externalDocumentNumber": None,
    }
    payment.update(body)
    payment.update(
        customerId=customer["id"],
        customerNumber=customer["number"],
        amount=amount,
        lineNumber=len(store.rows(company, "customerPayments")) * 10000 + 10000,
        documentNumber=body.get("documentNumber") or store.next_number("PMT"),
        postingDate=body.get("postingDate") or date.today().isoformat(),
        appliesToInvoiceId=invoice["id"] if invoice else None,
        appliesToInvoiceNumber=invoice["number"] if invoice else None,
    )
    return store.put(company, "customerPayments", payment, "created")


def _applied_invoice(store: CompanyStore, company: str, body: Record) -> Record | None:
    if body.get("appliesToInvoiceId"):
        return require(store, company, "salesInvoices", body["appliesToInvoiceId"])
    if body.get("appliesToInvoiceNumber"):
        for invoice in store.rows(company, "salesInvoices"):
            if invoice["number"] == body["appliesToInvoiceNumber"]:
                return invoice
        raise BusinessRuleError(
            "Internal_RecordNotFound",
            f"No posted invoice numbered {body['appliesToInvoiceNumber']}.",
        )
    return None


def financial_details(store: CompanyStore, company: str) -> list[Record]:
    """customerFinancialDetails, computed from customers and posted invoices."""
    today = date.today().isoformat()
    invoices = [i for i in store.rows(company, "salesInvoices") if i["status"] != "Draft"]
    result = []
    for customer in store.rows(company, "customers"):
        own = [i for i in invoices if i["customerId"] == customer["id"]]
        result.append(
            {
                "id": customer["id"],
                "number": customer["number"],
                "balance": customer["balanceDue"],
                "totalSalesExcludingTax": sum((i["totalAmountExcludingTax"] for i in own), ZERO),
                "overdueAmount": sum(
                    (i["remainingAmount"] for i in own if (i.get("dueDate") or today) < today), ZERO
                ),
                "lastModifiedDateTime": customer["lastModifiedDateTime"],
            }
        )
    return result


def _delete_document(
    store: CompanyStore, company: str, set_name: str, lines_set: str, doc_id: str
) -> None:
    for line in store.lines_of(company, lines_set, doc_id):
        store.delete(company, lines_set, line["id"])
    store.delete(company, set_name, doc_id)
