"""The OAuth token lifecycle against the Salesforce sandbox: an access token that expires
mid-sync is renewed once per 401 and the sync goes on without a duplicate; a revoked
one stops the flow with a message that names the system and what to do."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from isthmus.connectors.base import WriteOp
from isthmus.connectors.salesforce import from_config
from isthmus.connectors.salesforce.client import CredentialsRevokedError
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.runner import RunOptions
from tests.connectors.salesforce.conftest import options, password_options
from tests.connectors.salesforce.test_sync import ERP, FAST, _accounts, _config
from tests.sandbox.salesforce.conftest import RunningSandbox


def _seed(tmp_path: Path, org: RunningSandbox, accounts: int, customers: int) -> None:
    erp = create_engine(f"sqlite:///{tmp_path}/erp.db")
    ERP.create_all(erp)
    with org.http() as client:
        for n in range(accounts):
            client.post(
                "/services/data/v59.0/sobjects/Account",
                json={"Name": f"Account {n}", "AccountNumber": f"A-{n}", "Phone": "1"},
            ).raise_for_status()
    with erp.begin() as tx:
        for n in range(customers):
            tx.execute(
                text(
                    "INSERT INTO customers (name, customer_no, phone, modified) "
                    "VALUES (:name, :no, '2', :now)"
                ),
                {"name": f"Customer {n}", "no": f"E-{n}", "now": datetime.now(UTC)},
            )
    erp.dispose()


def _run(config: Path) -> tuple[list[RunReport], int]:
    async def go() -> tuple[list[RunReport], int]:
        engine = Engine.from_config(load_config(config))
        try:
            reports = await engine.sync(options=RunOptions(retry=FAST))
            return reports, engine.connectors["crm"].client.renewals  # type: ignore[attr-defined]
        finally:
            await engine.close()

    return asyncio.run(go())


def _erp_numbers(tmp_path: Path) -> Counter[str]:
    erp = create_engine(f"sqlite:///{tmp_path}/erp.db")
    with erp.connect() as connection:
        numbers = Counter(
            str(row[0]) for row in connection.execute(text("SELECT customer_no FROM customers"))
        )
    erp.dispose()
    return numbers


@pytest.mark.parametrize("grant", ["client_credentials", "password"])
def test_token_expiry_mid_sync_refreshes_and_continues_without_duplicate(
    tmp_path: Path, org: RunningSandbox, grant: str
) -> None:
    extra = password_options(org.url) if grant == "password" else options(org.url)
    extra.pop("login_url")
    config = _config(tmp_path, org.url, **extra)
    _seed(tmp_path, org, accounts=45, customers=25)
    # Every other API call finds its session ended (a sync here makes about 6 calls:
    # describe, queries, collection writes), so reads and writes both meet an expiry.
    answer = httpx.post(
        f"{org.url}/__sandbox/sessions/expire", json={"after_calls": 1, "repeat": True}
    )
    answer.raise_for_status()

    reports, renewals = _run(config)

    assert [r.status for r in reports] == ["succeeded"], [r.messages for r in reports]
    assert renewals >= 3, "the sessions did expire and were renewed"
    httpx.post(f"{org.url}/__sandbox/sessions/expire").raise_for_status()  # ends the schedule
    numbers = Counter(a["AccountNumber"] for a in _accounts(org))
    assert len(numbers) == 70, "every record in Salesforce"
    assert set(numbers.values()) == {1}, "no duplicate in Salesforce"
    erp = _erp_numbers(tmp_path)
    assert set(erp) == set(numbers), "every record in the ERP"
    assert set(erp.values()) == {1}, "no duplicate in the ERP"


def test_a_revoked_token_stops_the_flow_with_an_actionable_message(
    tmp_path: Path, org: RunningSandbox
) -> None:
    extra = password_options(org.url)
    extra.pop("login_url")
    config = _config(tmp_path, org.url, **extra)
    _seed(tmp_path, org, accounts=45, customers=5)
    httpx.post(f"{org.url}/__sandbox/sessions/revoke", json={"after_calls": 3}).raise_for_status()

    reports, _ = _run(config)

    (report,) = reports
    assert report.status == "failed"
    (message,) = report.messages
    assert "system 'crm'" in message
    assert "revoked" in message
    assert "authorise the connected app again" in message
    assert "isthmus secrets set" in message
    # Nothing was half-done: a second run after restoring access finishes the job.
    httpx.post(f"{org.url}/__sandbox/sessions/restore").raise_for_status()
    reports, _ = _run(config)
    assert [r.status for r in reports] == ["succeeded"]
    numbers = Counter(a["AccountNumber"] for a in _accounts(org))
    assert len(numbers) == 50
    assert set(numbers.values()) == {1}


def test_a_revoked_refresh_token_is_not_retried(org: RunningSandbox) -> None:
    login = httpx.post(
        f"{org.url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": options(org.url)["client_id"],
            "client_secret": options(org.url)["client_secret"],
            "username": password_options(org.url)["username"],
            "password": password_options(org.url)["password"],
        },
    )
    refresh_token = login.json()["refresh_token"]
    httpx.post(
        f"{org.url}/services/oauth2/revoke", data={"token": refresh_token}
    ).raise_for_status()

    async def scenario() -> None:
        crm = from_config(
            "crm", options(org.url, grant="refresh_token", refresh_token=refresh_token)
        )
        try:
            with pytest.raises(CredentialsRevokedError, match=r"system 'crm'.*invalid_grant"):
                await crm.write("Account", [WriteOp("a", "create", {"Name": "Never"})])
        finally:
            await crm.close()

    asyncio.run(scenario())
    assert _accounts(org) == []
