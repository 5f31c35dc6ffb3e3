"""The API fixture (memory CRM and ERP, a user per role) with data on every page: a
dead letter, a conflict in review, and runs."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector
from tests.api.conftest import Api, api  # noqa: F401  (the fixture is used by name)


def seed(api: Api) -> tuple[int, int]:  # noqa: F811
    """See ``seed_engine``."""
    return seed_engine(api.engine, api.crm, api.erp)


def seed_engine(engine: Engine, crm: MemoryConnector, erp: MemoryConnector) -> tuple[int, int]:
    """A run, a dead letter (a name too long for the ERP) and a phone conflict; returns
    (letter id, review item id)."""
    bad = crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})
    account = crm.put(
        "Account",
        {
            "Name": "Acme",
            "AccountNumber": "C-1",
            "Phone": "100",
            "Credit_Limit__c": "500",
            "CurrencyIsoCode": "EUR",
        },
    )
    asyncio.run(engine.sync(["customers"]))
    customer = next(iter(erp.records("customers")))
    crm.put("Account", {"Phone": "200"}, account)
    erp.put("customers", {"phone": "300"}, customer)
    asyncio.run(engine.sync(["customers"]))
    (letter,) = engine.store.dead_letters(flow="customers")
    (item,) = engine.store.review_items(status="open")
    assert letter.id is not None
    assert item.id is not None
    assert bad
    return letter.id, item.id


def sign_in(client: TestClient, token: str) -> None:
    answer = client.post(
        "/dashboard/login", data={"token": token, "next": "/dashboard"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def csrf(client: TestClient, path: str = "/dashboard") -> str:
    page = client.get(path).text
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
