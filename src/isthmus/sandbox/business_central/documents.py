"""Sales documents: deep insert of header and lines, line pricing, totals, credit checks.

A sales order is refused, as Business Central refuses it, when its customer is blocked
or when the customer's balance plus open orders plus this order exceed the credit limit.
Refusals are :class:`BusinessRuleError` values that the API renders as
``{"error": {"code", "message"}}`` with status 400.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from isthmus.sandbox.business_central.entities import SPEC_BY_SET
from isthmus.sandbox.business_central.store import CompanyStore, NotFoundError, Record, new_id

CENT = Decimal("0.01")
ZERO = Decimal(0)
NUMBER_PREFIX = {
    "salesQuotes": "S-QUO",
    "salesOrders": "S-ORD",
    "salesInvoices": "S-INV",
    "salesCreditMemos": "S-CR",
    "salesShipments": "S-SHPT",
}


class BusinessRuleError(Exception):
    """The ERP refuses the operation for a business reason (blocked, credit limit, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def to_decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError as exc:
        raise BusinessRuleError("BadRequest", f"{field} must be a number, got {value!r}") from exc


def price_line(store: CompanyStore, company: str, line: Record, currency: str) -> Record:
    """Fill item details, price (from the price list when one applies) and amounts."""
    item: Record | None = None
    if line.get("itemId"):
        item = _lookup(store, company, "items", "id", line["itemId"])
    elif line.get("lineObjectNumber"):
        item = _lookup(store, company, "items", "number", line["lineObjectNumber"])
    quantity = to_decimal(line.get("quantity", 1), "quantity")
    line["quantity"] = quantity
    line.setdefault("lineType", "Item")
    if item is not None:
        if item.get("blocked"):
            raise BusinessRuleError(
                "Internal_ItemBlocked", f"Item {item['number']} is blocked and cannot be sold."
            )
        line["itemId"], line["lineObjectNumber"] = item["id"], item["number"]
        line.setdefault("description", item["displayName"])
        line.setdefault("unitOfMeasureCode", item.get("baseUnitOfMeasureCode", "PCS"))
        if "unitPrice" not in line:
            line["unitPrice"], list_discount = _list_price(store, company, item, currency, quantity)
            line.setdefault("discountPercent", list_discount)
    unit_price = to_decimal(line.get("unitPrice", 0), "unitPrice")
    discount_percent = to_decimal(line.get("discountPercent", 0), "discountPercent")
    tax_percent = to_decimal(line.get("taxPercent", 0), "taxPercent")
    gross = (quantity * unit_price).quantize(CENT)
    discount = (gross * discount_percent / 100).quantize(CENT)
    net = gross - discount
    tax = (net * tax_percent / 100).quantize(CENT)
    line.update(
        unitPrice=unit_price,
        discountPercent=discount_percent,
        discountAmount=discount,
        taxPercent=tax_percent,
        amountExcludingTax=net,
        totalTaxAmount=tax,
        amountIncludingTax=net + tax,
    )
    return line


def _list_price(
    store: CompanyStore, company: str, item: Record, currency: str, quantity: Decimal
) -> tuple[Decimal, Decimal]:
    """Best price-list line for this item, currency and quantity; else the item's price."""
    today = date.today().isoformat()
    candidates = [
        p
        for p in store.rows(company, "salesPriceListLines")
        if p["itemId"] == item["id"]
        and p["currencyCode"] == currency
        and p["minimumQuantity"] <= quantity
        and (p.get("startingDate") or "") <= today
        and (not p.get("endingDate") or p["endingDate"] >= today)
    ]
    if not candidates:
        return item["unitPrice"], ZERO
    best = max(candidates, key=lambda p: p["minimumQuantity"])
    return best["unitPrice"], best["lineDiscountPercent"]


def _lookup(store: CompanyStore, company: str, set_name: str, field: str, value: str) -> Record:
    for record in store.rows(company, set_name):
        if str(record.get(field, "")).lower() == str(value).lower():
            return record
    raise BusinessRuleError(
        "Internal_RecordNotFound", f"The {set_name[:-1]} with {field} {value!r} does not exist."
    )


def customer_of(store: CompanyStore, company: str, header: Record) -> Record:
    if header.get("customerId"):
        return _lookup(store, company, "customers", "id", header["customerId"])
    if header.get("customerNumber"):
        return _lookup(store, company, "customers", "number", header["customerNumber"])
    raise BusinessRuleError("BadRequest", "A sales document needs customerId or customerNumber.")


def recompute_totals(store: CompanyStore, company: str, set_name: str, header: Record) -> None:
    lines_set = SPEC_BY_SET[set_name].lines_set
    assert lines_set is not None
    lines = store.lines_of(company, lines_set, header["id"])
    header["discountAmount"] = sum((ln["discountAmount"] for ln in lines), ZERO)
    header["totalAmountExcludingTax"] = sum((ln["amountExcludingTax"] for ln in lines), ZERO)
    header["totalTaxAmount"] = sum((ln["totalTaxAmount"] for ln in lines), ZERO)
    header["totalAmountIncludingTax"] = sum((ln["amountIncludingTax"] for ln in lines), ZERO)


def open_order_amount(
    store: CompanyStore, company: str, customer_id: str, skip: str = ""
) -> Decimal:
    """Not-yet-invoiced value of a customer's orders (counts against the credit limit)."""
    total = ZERO
    for order in store.rows(company, "salesOrders"):
        if order["customerId"] != customer_id or order["id"] == skip:
            continue
        for line in store.lines_of(company, "salesOrderLines", order["id"]):
            if line["quantity"]:
                share = (line["quantity"] - line.get("invoicedQuantity", ZERO)) / line["quantity"]
                total += (line["amountIncludingTax"] * share).quantize(CENT)
    return total


def check_customer_may_order(
    store: CompanyStore, company: str, customer: Record, amount: Decimal, order_id: str = ""
) -> None:
    """Refuse blocked customers and orders past the credit limit."""
    if customer.get("blocked") == "All":
        raise BusinessRuleError(
            "Internal_CustomerBlocked",
            f"Customer {customer['number']} ({customer['displayName']}) is blocked for all "
            "transactions. Unblock the customer before creating sales documents.",
        )
    limit = customer.get("creditLimit") or ZERO
    if limit <= 0:
        return
    exposure = customer["balanceDue"] + open_order_amount(store, company, customer["id"], order_id)
    if exposure + amount > limit:
        raise BusinessRuleError(
            "Internal_CreditLimitExceeded",
            f"Customer {customer['number']} would exceed the credit limit of {limit}: balance "
            f"{customer['balanceDue']} and open orders {exposure - customer['balanceDue']} plus "
            f"this order {amount}. Lower the order or raise the credit limit.",
        )


def insert_document(
    store: CompanyStore, company: str, set_name: str, body: Record, check_credit: bool = True
) -> Record:
    """Create a header and its lines (deep insert), priced and checked; atomic."""
    spec = SPEC_BY_SET[set_name]
    assert spec.lines_set is not None
    raw_lines = body.pop(spec.lines_set, None) or []
    customer = customer_of(store, company, body)
    currency = body.get("currencyCode") or customer.get("currencyCode") or ""
    header: Record = {name: None for name, _ in spec.fields}
    header.update(body)
    header.update(
        id=body.get("id") or new_id(),
        number=store.next_number(NUMBER_PREFIX[set_name]),
        customerId=customer["id"],
        customerNumber=customer["number"],
        customerName=customer["displayName"],
        currencyCode=currency,
        status="Draft" if set_name != "salesOrders" else "Open",
        sellToAddressLine1=customer.get("addressLine1"),
        sellToCity=customer.get("city"),
        sellToCountry=customer.get("country"),
        sellToPostCode=customer.get("postalCode"),
    )
    lines = [
        _new_line(store, company, set_name, header, dict(raw), index)
        for index, raw in enumerate(raw_lines, start=1)
    ]
    amount = sum((ln["amountIncludingTax"] for ln in lines), ZERO)
    if check_credit and set_name in ("salesOrders", "salesQuotes", "salesInvoices"):
        check_customer_may_order(
            store, company, customer, amount if set_name != "salesQuotes" else ZERO
        )
    for line in lines:
        store.put(company, spec.lines_set, line, "created")
    recompute_totals(store, company, set_name, header)
    return store.put(company, set_name, header, "created")


def _new_line(
    store: CompanyStore, company: str, set_name: str, header: Record, raw: Record, index: int
) -> Record:
    raw.update(id=raw.get("id") or new_id(), documentId=header["id"])
    raw.setdefault("sequence", index * 10000)
    line = price_line(store, company, raw, header["currencyCode"])
    if set_name == "salesOrders":
        for name in ("shippedQuantity", "invoicedQuantity"):
            line[name] = ZERO
        line["shipQuantity"] = line["quantity"]
        line["invoiceQuantity"] = line["quantity"]
    return line


def add_line(
    store: CompanyStore, company: str, set_name: str, header: Record, body: Record
) -> Record:
    """POST to ``.../{document}/…Lines``: price the line, re-check credit for orders."""
    lines_set = SPEC_BY_SET[set_name].lines_set
    assert lines_set is not None
    existing = store.lines_of(company, lines_set, header["id"])
    next_seq = (existing[-1]["sequence"] if existing else 0) // 10000 + 1
    line = _new_line(store, company, set_name, header, body, next_seq)
    if set_name == "salesOrders":
        customer = customer_of(store, company, header)
        check_customer_may_order(store, company, customer, line["amountIncludingTax"])
    store.put(company, lines_set, line, "created")
    recompute_totals(store, company, set_name, header)
    store.put(company, set_name, header)
    return line


def require(store: CompanyStore, company: str, set_name: str, record_id: str) -> Record:
    try:
        return store.get(company, set_name, record_id)
    except NotFoundError as exc:
        raise BusinessRuleError("Internal_RecordNotFound", str(exc.args[0])) from exc
