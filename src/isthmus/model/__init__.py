"""Canonical business entities: vendor-neutral, typed, money in Decimal with a currency.

Nothing in this package knows any vendor. Every connector maps its native objects to
and from these entities through a mapping (see ``isthmus.mapping``).
"""

from isthmus.model.address import PostalAddress
from isthmus.model.entities import (
    ENTITY_TYPES,
    CanonicalEntity,
    Contact,
    CreditMemo,
    CreditMemoLine,
    Customer,
    InventoryLevel,
    Invoice,
    InvoiceLine,
    Opportunity,
    OpportunityLine,
    Payment,
    PaymentApplication,
    PriceListEntry,
    Product,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
    entity_type,
)
from isthmus.model.flat import Flat, FlatValue, flatten, normalise_value, unflatten
from isthmus.model.money import Money

__all__ = [
    "ENTITY_TYPES",
    "CanonicalEntity",
    "Contact",
    "CreditMemo",
    "CreditMemoLine",
    "Customer",
    "Flat",
    "FlatValue",
    "InventoryLevel",
    "Invoice",
    "InvoiceLine",
    "Money",
    "Opportunity",
    "OpportunityLine",
    "Payment",
    "PaymentApplication",
    "PostalAddress",
    "PriceListEntry",
    "Product",
    "Quote",
    "QuoteLine",
    "SalesOrder",
    "SalesOrderLine",
    "entity_type",
    "flatten",
    "normalise_value",
    "unflatten",
]
