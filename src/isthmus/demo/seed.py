"""Demo data: a CRM database shaped like Salesforce and an ERP database shaped like a
classic on-premise ERP (structured addresses, short name column, coded payment terms).

The data is generated from a seed, so every demo run tells the same story.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
)

CRM = MetaData()
accounts = Table(
    "accounts",
    CRM,
    Column("Id", String(18), primary_key=True),
    Column("Name", String(255), nullable=False),
    Column("AccountNumber", String(40)),
    Column("Phone", String(40)),
    Column("Website", String(255)),
    Column("Industry", String(40)),
    Column("BillingStreet", Text),
    Column("BillingPostalCode", String(20)),
    Column("BillingCity", String(40)),
    Column("BillingState", String(80)),
    Column("BillingCountry", String(80)),
    Column("CurrencyIsoCode", String(3)),
    Column("PaymentTerms__c", String(40)),
    Column("CreditLimit__c", Numeric(16, 2)),
    Column("Blocked__c", Boolean, nullable=False, default=False),
    Column("Isthmus_Id__c", String(36), unique=True),
    Column("LastModifiedDate", DateTime(timezone=True), nullable=False),
    Column("IsDeleted", Boolean, nullable=False, default=False),
)
crm_contacts = Table(
    "contacts",
    CRM,
    Column("Id", String(18), primary_key=True),
    Column("AccountId", String(18)),
    Column("FirstName", String(40)),
    Column("LastName", String(80), nullable=False),
    Column("Email", String(80)),
    Column("Phone", String(40)),
    Column("Title", String(128)),
    Column("Isthmus_Id__c", String(36), unique=True),
    Column("LastModifiedDate", DateTime(timezone=True), nullable=False),
    Column("IsDeleted", Boolean, nullable=False, default=False),
)

ERP = MetaData()
customers = Table(
    "customers",
    ERP,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False),
    Column("customer_no", String(20)),
    Column("phone", String(30)),
    Column("street", String(60)),
    Column("house_no", String(10)),
    Column("address_2", String(60)),
    Column("postal_code", String(10)),
    Column("city", String(40)),
    Column("region", String(40)),
    Column("country", String(2)),
    Column("currency", String(3)),
    Column("terms", String(10)),
    Column("credit_limit", Numeric(12, 2)),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("crm_ref", String(36), unique=True),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
)
erp_contacts = Table(
    "contacts",
    ERP,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer", Integer),
    Column("first_name", String(40)),
    Column("last_name", String(60), nullable=False),
    Column("email", String(80)),
    Column("phone", String(30)),
    Column("crm_ref", String(36), unique=True),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
)

COMPANIES = [
    "Aster",
    "Borealis",
    "Cobalt",
    "Dune",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orchid",
    "Pylon",
    "Quarry",
    "Rivet",
    "Summit",
    "Tundra",
    "Umber",
    "Vertex",
    "Willow",
    "Xenon",
    "Yarrow",
]
SUFFIXES = ["GmbH", "Ltd", "Inc.", "S.A.", "B.V.", "AG"]
CITIES = [
    ("Berlin", "10115", "DE", "Friedrichstraße", "EUR"),
    ("Lyon", "69002", "FR", "Rue de la République", "EUR"),
    ("Leeds", "LS1 4AP", "GB", "Park Row", "GBP"),
    ("Austin", "78701", "US", "Congress Ave", "USD"),
    ("Utrecht", "3511", "NL", "Oudegracht", "EUR"),
]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
LAST = ["Álvarez", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hughes"]
TERMS = ["Net 30", "Net 60", "Prepayment"]


def _phone(rng: random.Random) -> str:
    return f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def sf_id(prefix: str, number: int) -> str:
    """An 18-character id shaped like Salesforce's (prefix + zero-padded number)."""
    return f"{prefix}{number:015d}"


def create_databases(
    directory: Path, *, seed: int = 7, accounts_count: int = 25
) -> tuple[str, str]:
    """Create and fill crm.db and erp.db in ``directory``; return their URLs."""
    rng = random.Random(seed)
    crm_url, erp_url = f"sqlite:///{directory / 'crm.db'}", f"sqlite:///{directory / 'erp.db'}"
    now = datetime.now(UTC) - timedelta(minutes=5)
    crm, erp = create_engine(crm_url), create_engine(erp_url)
    CRM.create_all(crm)
    ERP.create_all(erp)
    with crm.begin() as crm_tx, erp.begin() as erp_tx:
        for index in range(accounts_count):
            city, postal, country, street, currency = CITIES[index % len(CITIES)]
            name = f"{COMPANIES[index % len(COMPANIES)]} {SUFFIXES[index % len(SUFFIXES)]}"
            number = f"C-{1000 + index}"
            house = str(rng.randint(1, 180))
            block = f"{house} {street}" if country in ("GB", "US") else f"{street} {house}"
            if index % 4 == 0:
                block += "\nSuite 400"
            crm_tx.execute(
                accounts.insert().values(
                    Id=sf_id("001", index + 1),
                    Name=name,
                    AccountNumber=number,
                    Phone=_phone(rng),
                    Website=f"https://{name.split(maxsplit=1)[0].lower()}.example",
                    Industry="Manufacturing",
                    BillingStreet=block,
                    BillingPostalCode=postal,
                    BillingCity=city,
                    BillingCountry=country,
                    CurrencyIsoCode=currency,
                    PaymentTerms__c=TERMS[index % len(TERMS)],
                    CreditLimit__c=None,
                    Blocked__c=False,
                    LastModifiedDate=now + timedelta(seconds=index),
                    IsDeleted=False,
                )
            )
            domain = f"{name.split(maxsplit=1)[0].lower()}.example"
            for person in range(2):
                crm_tx.execute(
                    crm_contacts.insert().values(
                        Id=sf_id("003", index * 2 + person + 1),
                        AccountId=sf_id("001", index + 1),
                        FirstName=rng.choice(FIRST),
                        LastName=rng.choice(LAST),
                        Email=f"person{index * 2 + person}@{domain}",
                        Title="Buyer" if person == 0 else "Accounts payable",
                        LastModifiedDate=now + timedelta(seconds=index),
                        IsDeleted=False,
                    )
                )
            if index < 5:
                # These five already exist in the ERP, entered by hand years ago: the
                # first sync must link them, not create duplicates.
                erp_tx.execute(
                    customers.insert().values(
                        name=name.upper(),
                        customer_no=number,
                        phone=None,
                        street=street,
                        house_no=house,
                        postal_code=postal,
                        city=city,
                        country=country,
                        currency=currency,
                        terms="NET30",
                        credit_limit=Decimal("25000.00"),
                        blocked=False,
                        modified_at=now,
                        deleted=False,
                    )
                )
    crm.dispose()
    erp.dispose()
    return crm_url, erp_url
