"""Deterministic demo data: the same seed always gives the same company, ids and numbers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.business_central.store import CompanyStore, Record

CITIES = (
    ("Atlanta", "US", "31772"),
    ("Chicago", "US", "61236"),
    ("London", "GB", "W1 3AL"),
    ("Miami", "US", "37125"),
    ("Toronto", "CA", "M5H 2N2"),
    ("Seattle", "US", "98101"),
)
NAMES = (
    "Adatum",
    "Trey Research",
    "Alpine Ski",
    "Relecloud",
    "Coho Winery",
    "School of Fine Art",
    "Fabrikam",
    "Litware",
    "Northwind",
    "Tailspin",
    "Woodgrove",
    "Proseware",
)
PRODUCTS = (
    "Desk",
    "Chair",
    "Lamp",
    "Bicycle",
    "Conference Table",
    "Whiteboard",
    "Speaker",
    "Monitor",
    "Cabinet",
    "Sofa",
)
LOCATIONS = ("MAIN", "EAST", "WEST")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def seed_store(store: CompanyStore, config: SandboxConfig) -> str:
    """Fill an empty store; returns the company id. A loaded store is left as it is."""
    if store.loaded:
        return next(iter(store.companies))
    store.autosave = False
    try:
        company_id = _generate(store, config)
    finally:
        store.autosave = True
    store.save()
    return company_id


def _generate(store: CompanyStore, config: SandboxConfig) -> str:
    rng = random.Random(config.seed)
    company_id = _uuid(rng)
    stamp = datetime(2024, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    store.companies[company_id] = {
        "id": company_id,
        "name": "CRONUS USA, Inc.",
        "displayName": "CRONUS USA, Inc.",
        "businessProfileId": "",
        "lastModifiedDateTime": stamp,
    }
    currencies = {
        code: _put(
            store,
            company_id,
            "currencies",
            {
                "id": _uuid(rng),
                "code": code,
                "displayName": name,
                "symbol": sym,
                "amountDecimalPlaces": "2:2",
                "amountRoundingPrecision": Decimal("0.01"),
            },
        )
        for code, name, sym in (
            ("USD", "US Dollar", "$"),
            ("EUR", "Euro", "€"),
            ("GBP", "Pound Sterling", "£"),
        )
    }
    terms = _put(
        store,
        company_id,
        "paymentTerms",
        {
            "id": _uuid(rng),
            "code": "30 DAYS",
            "displayName": "Net 30 days",
            "dueDateCalculation": "30D",
            "discountDateCalculation": "",
            "discountPercent": Decimal(0),
            "calculateDiscountOnCreditMemos": False,
        },
    )
    for index in range(config.customers):
        city, country, postcode = rng.choice(CITIES)
        currency = "GBP" if country == "GB" else "USD"
        _put(
            store,
            company_id,
            "customers",
            {
                "id": _uuid(rng),
                "number": f"C{10000 + index * 10:05d}",
                "displayName": f"{NAMES[index % len(NAMES)]} {index // len(NAMES) + 1}",
                "type": "Company",
                "addressLine1": f"{rng.randint(1, 999)} Main Street",
                "addressLine2": "",
                "city": city,
                "state": "",
                "country": country,
                "postalCode": postcode,
                "phoneNumber": f"+1 555 {rng.randint(1000000, 9999999)}",
                "email": f"billing{index}@example.com",
                "website": "",
                "salespersonCode": rng.choice(("PS", "JO", "MH")),
                "balanceDue": Decimal(0),
                "creditLimit": _money(rng, 0, 50) * 1000,
                "taxLiable": True,
                "taxRegistrationNumber": "",
                "currencyId": currencies[currency]["id"],
                "currencyCode": currency,
                "paymentTermsId": terms["id"],
                "blocked": "_x0020_",
            },
        )
        _put(
            store,
            company_id,
            "contacts",
            {
                "id": _uuid(rng),
                "number": f"CT{200000 + index}",
                "type": "Person",
                "displayName": f"Contact {index}",
                "jobTitle": "Purchaser",
                "companyNumber": f"CT{100000 + index}",
                "companyName": NAMES[index % len(NAMES)],
                "addressLine1": "",
                "addressLine2": "",
                "city": city,
                "state": "",
                "country": country,
                "postalCode": postcode,
                "phoneNumber": "",
                "mobilePhoneNumber": "",
                "email": f"contact{index}@example.com",
            },
        )
    for index in range(config.items):
        item_id = _uuid(rng)
        price = _money(rng, 20, 900)
        stock = {loc: Decimal(rng.randint(0, 200)) for loc in LOCATIONS}
        _put(
            store,
            company_id,
            "items",
            {
                "id": item_id,
                "number": f"{1896 + index}-S",
                "displayName": f"{PRODUCTS[index % len(PRODUCTS)]} {index // len(PRODUCTS) + 1}",
                "type": "Inventory",
                "itemCategoryCode": "FURNITURE",
                "blocked": False,
                "gtin": "",
                "inventory": sum(stock.values()),
                "unitPrice": price,
                "priceIncludesTax": False,
                "unitCost": (price * Decimal("0.6")).quantize(Decimal("0.01")),
                "taxGroupCode": "FURNITURE",
                "baseUnitOfMeasureCode": "PCS",
            },
        )
        for loc, quantity in stock.items():
            _put(
                store,
                company_id,
                "itemInventoryByLocation",
                {
                    "id": _uuid(rng),
                    "itemId": item_id,
                    "itemNumber": f"{1896 + index}-S",
                    "locationCode": loc,
                    "inventory": quantity,
                },
            )
        for currency, factor in (("USD", Decimal(1)), ("EUR", Decimal("0.92"))):
            for minimum, discount in ((Decimal(1), Decimal(0)), (Decimal(10), Decimal(5))):
                _put(
                    store,
                    company_id,
                    "salesPriceListLines",
                    {
                        "id": _uuid(rng),
                        "itemId": item_id,
                        "itemNumber": f"{1896 + index}-S",
                        "currencyCode": currency,
                        "minimumQuantity": minimum,
                        "unitPrice": (price * factor).quantize(Decimal("0.01")),
                        "lineDiscountPercent": discount,
                        "startingDate": (date(2024, 1, 1)).isoformat(),
                        "endingDate": None,
                    },
                )
    return company_id


def _put(store: CompanyStore, company_id: str, set_name: str, record: Record) -> Record:
    return store.put(company_id, set_name, record, "created")
