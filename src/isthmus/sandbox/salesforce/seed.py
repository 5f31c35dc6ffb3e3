"""Deterministic starting data: the same seed and volume give the same records and ids.

Every record is created through the store, so seeded data obeys the same validation as
API writes. Timestamps are spread over the seven days before start-up (so getUpdated
windows and ``LAST_N_DAYS`` filters find them); everything else depends only on the
seed and the volume.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from isthmus.sandbox.salesforce.objects import CURRENCIES, OPPORTUNITY_STAGES
from isthmus.sandbox.salesforce.settings import Volume
from isthmus.sandbox.salesforce.store import RecordStore

#: Accounts per volume; the other objects scale with them.
ACCOUNTS_PER_VOLUME: dict[Volume, int] = {
    "empty": 0,
    "small": 20,
    "medium": 500,
    "large": 10_000,
    "huge": 100_000,
}
_SEED_SPAN = dt.timedelta(days=7)
_PREFIXES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")
_SUFFIXES = ("Industries", "Trading", "Logistics", "Systems", "Foods", "Metals", "Labs")
_LEGAL = ("GmbH", "Ltd", "Inc.", "SA", "BV", "AG", "LLC")
_CITIES = (
    ("Paris", "France"),
    ("Berlin", "Germany"),
    ("Leeds", "United Kingdom"),
    ("Austin", "United States"),
    ("Basel", "Switzerland"),
    ("Osaka", "Japan"),
)
_FIRST = ("Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas")
_LAST = ("Martin", "Schmidt", "Smith", "García", "Rossi", "Tanaka", "Nowak", "Dubois")
_PRODUCTS = ("Valve", "Pump", "Sensor", "Bearing", "Gasket", "Controller", "Licence", "Service")


@dataclass(frozen=True)
class SeedPlan:
    accounts: int
    products: int


def plan_for(volume: Volume, accounts: int | None = None) -> SeedPlan:
    count = ACCOUNTS_PER_VOLUME[volume] if accounts is None else accounts
    return SeedPlan(accounts=count, products=0 if count == 0 else max(5, min(2000, count // 5)))


def seed_store(store: RecordStore, seed: int, plan: SeedPlan) -> None:
    """Fill an empty store; one transaction, so a SQLite file is written once."""
    if plan.accounts == 0:
        return
    generator = random.Random(seed)
    start = store.clock() - _SEED_SPAN
    total_steps = plan.accounts + plan.products + 2
    step = _SEED_SPAN / total_steps
    moments = (start + step * i for i in range(total_steps))
    with store.atomic():
        pricebook = store.create(
            "Pricebook2", {"Name": "Standard Price Book", "IsActive": True}, at=next(moments)
        )
        entries = _seed_products(store, generator, plan.products, pricebook["Id"], moments)
        for number in range(1, plan.accounts + 1):
            _seed_account(store, generator, number, entries, pricebook["Id"], next(moments))


def _seed_products(
    store: RecordStore,
    generator: random.Random,
    count: int,
    pricebook_id: str,
    moments: Iterator[dt.datetime],
) -> list[dict[str, str | float]]:
    entries: list[dict[str, str | float]] = []
    for number in range(1, count + 1):
        at = next(moments)
        name = f"{generator.choice(_PRODUCTS)} {generator.choice('ABCDEFGH')}{number}"
        product = store.create(
            "Product2",
            {
                "Name": name,
                "ProductCode": f"P-{number:05d}",
                "Family": generator.choice(("Hardware", "Software", "Services", "Spare Parts")),
                "ERP_Item_Number__c": f"ITEM-{number:05d}",
            },
            at=at,
        )
        price = round(generator.uniform(5, 2000), 2)
        for currency in CURRENCIES[:2]:
            entry = store.create(
                "PricebookEntry",
                {
                    "Pricebook2Id": pricebook_id,
                    "Product2Id": product["Id"],
                    "UnitPrice": price if currency == "USD" else round(price * 0.92, 2),
                    "CurrencyIsoCode": currency,
                },
                at=at,
            )
            if currency == "USD":
                entries.append({"Id": entry["Id"], "Product2Id": product["Id"], "price": price})
        store.create(
            "ERP_Stock__c",
            {
                "Name": f"{name} @ MAIN",
                "Product__c": product["Id"],
                "Warehouse__c": "MAIN",
                "ERP_Stock_Key__c": f"ITEM-{number:05d}|MAIN",
                "Quantity_On_Hand__c": float(generator.randint(0, 500)),
                "Quantity_Reserved__c": float(generator.randint(0, 50)),
                "As_Of__c": at.isoformat(),
            },
            at=at,
        )
    return entries


def _seed_account(
    store: RecordStore,
    generator: random.Random,
    number: int,
    entries: list[dict[str, str | float]],
    pricebook_id: str,
    at: dt.datetime,
) -> None:
    city, country = generator.choice(_CITIES)
    name = f"{generator.choice(_PREFIXES)} {generator.choice(_SUFFIXES)} {generator.choice(_LEGAL)}"
    account = store.create(
        "Account",
        {
            "Name": f"{name} #{number}",
            "AccountNumber": f"A{number:06d}",
            "Type": "Customer - Direct",
            "Industry": generator.choice(("Manufacturing", "Retail", "Technology", "Energy")),
            # Multi-line streets are what address-splitting transforms must cope with.
            "BillingStreet": f"{generator.randint(1, 200)} Harbour Road\nBuilding {number % 7 + 1}",
            "BillingCity": city,
            "BillingPostalCode": f"{generator.randint(1000, 99999)}",
            "BillingCountry": country,
            "Phone": f"+1 555 {generator.randint(1000000, 9999999)}",
            "ERP_Customer_Number__c": f"C{number:06d}",
            "Credit_Limit__c": float(generator.choice((5000, 10000, 25000, 50000))),
            "Sync_Status__c": "Synced",
        },
        at=at,
    )
    account_id = account["Id"]
    for contact_number in range(2):
        store.create(
            "Contact",
            {
                "AccountId": account_id,
                "FirstName": generator.choice(_FIRST),
                "LastName": generator.choice(_LAST),
                "Email": f"contact{number}.{contact_number}@example.com",
                "ERP_Contact_Number__c": f"C{number:06d}-{contact_number + 1}",
            },
            at=at,
        )
    entry = entries[number % len(entries)]
    quantity = float(generator.randint(1, 20))
    opportunity = store.create(
        "Opportunity",
        {
            "Name": f"{name} - deal {number}",
            "AccountId": account_id,
            "StageName": generator.choice(OPPORTUNITY_STAGES),
            "CloseDate": (at + dt.timedelta(days=30)).date().isoformat(),
            "Amount": round(quantity * float(entry["price"]), 2),
            "Pricebook2Id": pricebook_id,
        },
        at=at,
    )
    store.create(
        "OpportunityLineItem",
        {
            "OpportunityId": opportunity["Id"],
            "PricebookEntryId": entry["Id"],
            "Product2Id": entry["Product2Id"],
            "Quantity": quantity,
            "UnitPrice": entry["price"],
        },
        at=at,
    )
    if number % 2 == 0:
        _seed_quote_and_order(store, opportunity["Id"], account_id, pricebook_id, entry, number, at)
    _seed_erp_documents(store, generator, number, account_id, quantity * float(entry["price"]), at)


def _seed_quote_and_order(
    store: RecordStore,
    opportunity_id: str,
    account_id: str,
    pricebook_id: str,
    entry: dict[str, str | float],
    number: int,
    at: dt.datetime,
) -> None:
    line = {"PricebookEntryId": entry["Id"], "Quantity": 2.0, "UnitPrice": entry["price"]}
    quote = store.create(
        "Quote",
        {
            "Name": f"Q-{number:06d}",
            "OpportunityId": opportunity_id,
            "AccountId": account_id,
            "Pricebook2Id": pricebook_id,
            "Status": "Accepted",
        },
        at=at,
    )
    store.create("QuoteLineItem", {"QuoteId": quote["Id"], **line}, at=at)
    order = store.create(
        "Order",
        {
            "AccountId": account_id,
            "OpportunityId": opportunity_id,
            "QuoteId": quote["Id"],
            "Pricebook2Id": pricebook_id,
            "EffectiveDate": at.date().isoformat(),
            "Status": "Draft",
            "ERP_Order_Number__c": f"SO-{number:06d}",
        },
        at=at,
    )
    store.create("OrderItem", {"OrderId": order["Id"], **line}, at=at)


def _seed_erp_documents(
    store: RecordStore,
    generator: random.Random,
    number: int,
    account_id: str,
    amount: float,
    at: dt.datetime,
) -> None:
    invoice = store.create(
        "ERP_Invoice__c",
        {
            "Name": f"INV-{number:06d}",
            "Account__c": account_id,
            "ERP_Invoice_Number__c": f"INV-{number:06d}",
            "Invoice_Date__c": at.date().isoformat(),
            "Due_Date__c": (at + dt.timedelta(days=30)).date().isoformat(),
            "Amount__c": round(amount, 2),
            "Tax_Amount__c": round(amount * 0.2, 2),
            "Open_Amount__c": round(amount, 2),
            "Status__c": "Open",
        },
        at=at,
    )
    store.create(
        "ERP_Invoice_Line__c",
        {
            "Name": f"INV-{number:06d}/1",
            "Invoice__c": invoice["Id"],
            "ERP_Line_Key__c": f"INV-{number:06d}/1",
            "Line_Amount__c": round(amount, 2),
        },
        at=at,
    )
    if number % 5 == 0:
        store.create(
            "ERP_Credit_Memo__c",
            {
                "Name": f"CM-{number:06d}",
                "Account__c": account_id,
                "Invoice__c": invoice["Id"],
                "ERP_Credit_Memo_Number__c": f"CM-{number:06d}",
                "Credit_Date__c": at.date().isoformat(),
                "Amount__c": round(amount * 0.1, 2),
                "Reason__c": "Damaged goods",
            },
            at=at,
        )
    if number % 3 == 0:
        store.create(
            "ERP_Payment__c",
            {
                "Name": f"PAY-{number:06d}",
                "Account__c": account_id,
                "Invoice__c": invoice["Id"],
                "ERP_Payment_Number__c": f"PAY-{number:06d}",
                "Payment_Date__c": at.date().isoformat(),
                "Amount__c": round(amount, 2),
                "Method__c": generator.choice(("Bank Transfer", "Card")),
            },
            at=at,
        )
