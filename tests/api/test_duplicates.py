"""A possible duplicate resolved through the API: link it to the candidate, or create."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isthmus.api.app import create_app
from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector
from tests.api.conftest import add_users
from tests.engine.test_duplicates import _uncertain_pair
from tests.match.twins import links, open_engine, sync, write_config

Setup = tuple[TestClient, Engine, MemoryConnector, MemoryConnector, dict[str, str]]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    engine, crm, erp = open_engine(write_config(tmp_path))
    tokens = add_users(engine)
    headers = {role: f"Bearer {token}" for role, token in tokens.items()}
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        yield client, engine, crm, erp, headers


def test_link_through_the_api_links_the_pair(setup: Setup) -> None:
    client, engine, crm, erp, headers = setup
    account, customer = _uncertain_pair(crm, erp)
    sync(engine)
    (item,) = client.get("/review", headers={"Authorization": headers["viewer"]}).json()
    assert item["kind"] == "duplicate"
    url = f"/review/{item['id']}/resolve"
    operator = {"Authorization": headers["operator"]}
    wrong = client.post(url, json={"take": "crm"}, headers=operator)
    assert wrong.status_code == 422, "a duplicate is resolved with link or create"
    assert "link" in wrong.json()["error"]
    answer = client.post(url, json={"link": customer}, headers=operator)
    assert answer.status_code == 200, answer.text
    assert links(engine) == {account: customer}
    assert len(erp.records("customers")) == 1


def test_create_through_the_api_creates_the_record(setup: Setup) -> None:
    client, engine, crm, erp, headers = setup
    _uncertain_pair(crm, erp)
    sync(engine)
    (item,) = engine.store.review_items(flow="customers")
    answer = client.post(
        f"/review/{item.id}/resolve",
        json={"create": True},
        headers={"Authorization": headers["operator"]},
    )
    assert answer.status_code == 200, answer.text
    assert len(erp.records("customers")) == 2
