"""The canonical entities Isthmus syncs between a CRM and an ERP.

Each entity is a frozen pydantic model. Money amounts are ``Money`` (Decimal plus an
ISO currency), quantities are ``Decimal``; floats are refused. References to other
records (``customer_id``, ``product_id`` ...) hold the *canonical id* of the referenced
record (the id of its link), so they compare equal across systems; the mapping turns
native ids into canonical ids and back through the links (``lookup`` rules).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from isthmus.model.address import PostalAddress
from isthmus.model.money import Money, parse_currency, parse_decimal

_DECIMAL_FIELDS = (
    "quantity",
    "minimum_quantity",
    "discount_percent",
    "ordered_quantity",
    "shipped_quantity",
    "invoiced_quantity",
    "quantity_on_hand",
    "quantity_available",
    "quantity_reserved",
    "probability",
)


class CanonicalEntity(BaseModel):
    """Base of every canonical entity: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    entity_name: Literal[""] = ""

    @field_validator(*_DECIMAL_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _decimal(cls, value: Any) -> Any:
        return None if value is None else parse_decimal(value)

    @field_validator("currency", mode="before", check_fields=False)
    @classmethod
    def _currency(cls, value: Any) -> Any:
        return None if value is None or value == "" else parse_currency(value)


class TaxId(BaseModel):
    """A tax or VAT registration number, with its scheme (``eu_vat``, ``us_ein`` ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scheme: str
    value: str


class Customer(CanonicalEntity):
    """An account in the CRM, a customer (business partner, party) in the ERP."""

    entity_name: Literal["customer"] = "customer"  # type: ignore[assignment]
    name: str
    number: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    industry: str | None = None
    billing_address: PostalAddress | None = None
    shipping_address: PostalAddress | None = None
    tax_ids: tuple[TaxId, ...] = ()
    currency: str | None = None
    payment_terms: str | None = None
    credit_limit: Money | None = None
    blocked: bool = False
    credit_hold: bool = False
    balance: Money | None = None
    overdue_amount: Money | None = None
    active: bool = True


class Contact(CanonicalEntity):
    """A person at a customer."""

    entity_name: Literal["contact"] = "contact"  # type: ignore[assignment]
    first_name: str | None = None
    last_name: str
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    title: str | None = None
    customer_id: str | None = None
    primary_finance_contact: bool = False
    address: PostalAddress | None = None


class Product(CanonicalEntity):
    """A sellable item."""

    entity_name: Literal["product"] = "product"  # type: ignore[assignment]
    code: str
    name: str
    description: str | None = None
    unit: str | None = None
    active: bool = True
    product_family: str | None = None


class PriceListEntry(CanonicalEntity):
    """One price of one product, in one currency, from a minimum quantity."""

    entity_name: Literal["price"] = "price"  # type: ignore[assignment]
    product_id: str
    price_list: str
    unit_price: Money
    currency: str
    unit: str | None = None
    minimum_quantity: Decimal = Decimal(1)
    discount_percent: Decimal | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True


class OpportunityLine(CanonicalEntity):
    product_id: str
    quantity: Decimal
    unit_price: Money
    description: str | None = None


class Opportunity(CanonicalEntity):
    entity_name: Literal["opportunity"] = "opportunity"  # type: ignore[assignment]
    name: str
    customer_id: str
    stage: str
    amount: Money | None = None
    close_date: date | None = None
    probability: Decimal | None = None
    won: bool = False
    lines: tuple[OpportunityLine, ...] = ()
    sync_status: str | None = None
    sync_message: str | None = None


class QuoteLine(CanonicalEntity):
    line_no: int
    product_id: str
    quantity: Decimal
    unit_price: Money
    discount_percent: Decimal | None = None
    description: str | None = None


class Quote(CanonicalEntity):
    entity_name: Literal["quote"] = "quote"  # type: ignore[assignment]
    number: str | None = None
    customer_id: str
    opportunity_id: str | None = None
    status: Literal["draft", "sent", "accepted", "rejected", "expired"] = "draft"
    currency: str
    valid_until: date | None = None
    lines: tuple[QuoteLine, ...] = ()
    total: Money | None = None
    sync_status: str | None = None
    sync_message: str | None = None


LineStatus = Literal["open", "partially_shipped", "shipped", "invoiced", "cancelled", "replaced"]


class SalesOrderLine(CanonicalEntity):
    line_no: int
    product_id: str
    description: str | None = None
    ordered_quantity: Decimal
    shipped_quantity: Decimal = Decimal(0)
    invoiced_quantity: Decimal = Decimal(0)
    unit_price: Money
    discount_percent: Decimal | None = None
    status: LineStatus = "open"
    # The line_no of the line this one replaces, when the ERP swapped an item.
    replaces_line_no: int | None = None


class SalesOrder(CanonicalEntity):
    entity_name: Literal["sales_order"] = "sales_order"  # type: ignore[assignment]
    number: str | None = None
    external_number: str | None = None
    customer_id: str
    quote_id: str | None = None
    opportunity_id: str | None = None
    order_date: date | None = None
    status: Literal[
        "draft",
        "open",
        "released",
        "partially_shipped",
        "shipped",
        "partially_invoiced",
        "invoiced",
        "closed",
        "cancelled",
    ] = "open"
    currency: str
    lines: tuple[SalesOrderLine, ...] = ()
    total: Money | None = None
    shipping_address: PostalAddress | None = None


class InvoiceLine(CanonicalEntity):
    line_no: int
    product_id: str | None = None
    description: str | None = None
    quantity: Decimal
    unit_price: Money
    amount: Money
    order_line_no: int | None = None


class Invoice(CanonicalEntity):
    entity_name: Literal["invoice"] = "invoice"  # type: ignore[assignment]
    number: str
    customer_id: str
    order_id: str | None = None
    invoice_date: date
    due_date: date | None = None
    currency: str
    lines: tuple[InvoiceLine, ...] = ()
    total: Money
    tax: Money | None = None
    amount_paid: Money | None = None
    status: Literal["draft", "posted", "partially_paid", "paid", "cancelled"] = "posted"


class CreditMemoLine(InvoiceLine):
    pass


class CreditMemo(CanonicalEntity):
    entity_name: Literal["credit_memo"] = "credit_memo"  # type: ignore[assignment]
    number: str
    customer_id: str
    invoice_id: str | None = None
    memo_date: date
    currency: str
    lines: tuple[CreditMemoLine, ...] = ()
    total: Money
    reason: str | None = None


class PaymentApplication(CanonicalEntity):
    invoice_id: str
    amount: Money


class Payment(CanonicalEntity):
    entity_name: Literal["payment"] = "payment"  # type: ignore[assignment]
    number: str | None = None
    customer_id: str
    payment_date: date
    amount: Money
    applied_to: tuple[PaymentApplication, ...] = ()
    reference: str | None = None


class InventoryLevel(CanonicalEntity):
    """Stock of one item at one location."""

    entity_name: Literal["inventory"] = "inventory"  # type: ignore[assignment]
    product_id: str
    location: str
    quantity_on_hand: Decimal
    quantity_reserved: Decimal = Decimal(0)
    quantity_available: Decimal
    as_of: datetime | None = None


ENTITY_TYPES: dict[str, type[CanonicalEntity]] = {
    "customer": Customer,
    "contact": Contact,
    "product": Product,
    "price": PriceListEntry,
    "opportunity": Opportunity,
    "quote": Quote,
    "sales_order": SalesOrder,
    "invoice": Invoice,
    "credit_memo": CreditMemo,
    "payment": Payment,
    "inventory": InventoryLevel,
}


def entity_type(name: str) -> type[CanonicalEntity]:
    """Return the model class of an entity name, or raise KeyError listing the known ones."""
    try:
        return ENTITY_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITY_TYPES))
        raise KeyError(f"unknown entity {name!r}; known entities: {known}") from None
