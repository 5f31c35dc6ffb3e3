"""simple-salesforce, unchanged from PyPI, against the sandbox over real HTTP."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from tests.sandbox.salesforce.conftest import RunningSandbox, SandboxAdapter


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_query_returns_seeded_accounts_with_parent_fields(sf: Salesforce) -> None:
    result = sf.query(
        "SELECT Id, LastName, Account.Name, Account.ERP_Customer_Number__c FROM Contact "
        "WHERE Account.ERP_Customer_Number__c = 'C000001' ORDER BY LastName"
    )
    assert result["totalSize"] == 2
    assert result["done"] is True
    first = result["records"][0]
    assert first["attributes"]["type"] == "Contact"
    assert first["Account"]["ERP_Customer_Number__c"] == "C000001"
    assert first["Account"]["attributes"]["type"] == "Account"


def test_query_all_follows_next_records_url(shared: RunningSandbox) -> None:
    sf = shared.simple_salesforce()
    tag = _unique("page")
    for chunk in range(3):  # collections take at most 200 records per call
        records = [
            {"attributes": {"type": "Account"}, "Name": f"{tag} {chunk}-{i}"} for i in range(150)
        ]
        sf.restful("composite/sobjects", method="POST", data=json.dumps({"records": records}))
    # 200 per page: 450 accounts need three pages and two nextRecordsUrl hops.
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    first_page = sf.query(f"SELECT Id, Name FROM Account WHERE Name LIKE '{tag}%'")
    assert first_page["done"] is False
    assert first_page["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert len(first_page["records"]) == 200
    everything = sf.query_all(f"SELECT Id, Name FROM Account WHERE Name LIKE '{tag}%'")
    assert everything["totalSize"] == 450
    assert len({r["Id"] for r in everything["records"]}) == 450


def test_crud_round_trip(sf: Salesforce) -> None:
    name = _unique("Crud")
    created = sf.Account.create({"Name": name, "BillingStreet": "1 Quay\nUnit 4"})
    assert created["success"] is True
    assert len(created["id"]) == 18
    assert created["id"].startswith("001")
    record = sf.Account.get(created["id"])
    assert record["Name"] == name
    assert record["BillingStreet"] == "1 Quay\nUnit 4"
    assert sf.Account.update(created["id"], {"Name": name + "!"}) == 204
    assert sf.Account.get(created["id"])["Name"] == name + "!"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Account.get(created["id"])
    assert raised.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_creates_then_updates_then_refuses_ambiguous_keys(sf: Salesforce) -> None:
    key = _unique("ERP")
    assert sf.Account.upsert(f"ERP_Customer_Number__c/{key}", {"Name": "First"}) == 201
    assert sf.Account.upsert(f"ERP_Customer_Number__c/{key}", {"Name": "Second"}) == 200
    found = sf.Account.get_by_custom_id("ERP_Customer_Number__c", key)
    assert found["Name"] == "Second"
    sf.Account.create({"Name": "Twin", "ERP_Customer_Number__c": key})
    with pytest.raises(SalesforceMoreThanOneRecord) as raised:
        sf.Account.upsert(f"ERP_Customer_Number__c/{key}", {"Name": "Third"})
    assert len(raised.value.content) == 2
    assert all(
        url.startswith("/services/data/v59.0/sobjects/Account/") for url in raised.value.content
    )


def test_composite_with_references(sf: Salesforce) -> None:
    name = _unique("Composite")
    answer = sf.restful(
        "composite",
        method="POST",
        data=json.dumps(
            {
                "allOrNone": True,
                "compositeRequest": [
                    {
                        "method": "POST",
                        "url": "/services/data/v59.0/sobjects/Account",
                        "referenceId": "newAccount",
                        "body": {"Name": name},
                    },
                    {
                        "method": "POST",
                        "url": "/services/data/v59.0/sobjects/Contact",
                        "referenceId": "newContact",
                        "body": {"LastName": "Ref", "AccountId": "@{newAccount.id}"},
                    },
                    {
                        "method": "GET",
                        "url": "/services/data/v59.0/sobjects/Account/@{newAccount.id}",
                        "referenceId": "readBack",
                    },
                ],
            }
        ),
    )
    statuses = [r["httpStatusCode"] for r in answer["compositeResponse"]]
    assert statuses == [201, 201, 200]
    account_id = answer["compositeResponse"][0]["body"]["id"]
    contact = sf.query(f"SELECT AccountId FROM Contact WHERE Account.Name = '{name}'")
    assert contact["records"][0]["AccountId"] == account_id


def test_bulk2_insert_reports_successes_and_failures(sf: Salesforce) -> None:
    tag = _unique("Bulk")
    results = sf.bulk2.Account.insert(
        records=[{"Name": f"{tag} a"}, {"Name": f"{tag} b"}, {"Name": ""}], wait=0.05
    )
    assert results[0]["numberRecordsProcessed"] == 3
    assert results[0]["numberRecordsFailed"] == 1
    job_id = results[0]["job_id"]
    successes = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(job_id))))
    assert {row["sf__Created"] for row in successes} == {"true"}
    assert all(row["sf__Id"].startswith("001") for row in successes)
    failures = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_failed_records(job_id))))
    assert failures[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")


def test_bulk2_query_pages_csv(sf: Salesforce) -> None:
    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, LastName, Account.Name FROM Contact WHERE Account.Name != null",
            max_records=15,
            wait=0.05,
        )
    )
    assert len(pages) >= 2
    header = pages[0].splitlines()[0]
    assert header == "Id,LastName,Account.Name"
    rows = [line for page in pages for line in page.splitlines()[1:]]
    assert (
        len(rows) == sf.query("SELECT COUNT() FROM Contact WHERE Account.Name != null")["totalSize"]
    )


def test_get_updated_and_get_deleted(sf: Salesforce) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    created = sf.Product2.create({"Name": _unique("Gadget")})
    sf.Product2.delete(created["id"])
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    deleted = sf.Product2.deleted(start, end)
    assert created["id"] in [d["id"] for d in deleted["deletedRecords"]]
    other = sf.Product2.create({"Name": _unique("Widget")})
    updated = sf.Product2.updated(start, end)
    assert other["id"] in updated["ids"]
    assert created["id"] not in updated["ids"]


def test_exception_classes_match_status_codes(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT Id FROM Account WHERE")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as invalid:
        sf.query("SELECT Nope__c FROM Account")
    assert invalid.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get("001000000000000AAA")
    with pytest.raises(SalesforceMalformedRequest) as too_long:
        sf.Account.create({"Name": "x" * 256})
    assert too_long.value.content[0]["errorCode"] == "STRING_TOO_LONG"


# Tests that expire every token use their own org, so the module's shared client stays valid.
def test_expired_session_raises_for_a_direct_session(fresh: RunningSandbox) -> None:
    session = requests.Session()
    session.mount("https://", SandboxAdapter(fresh.url))
    direct = Salesforce(
        instance_url="https://sandbox.example", session_id=fresh.token(), session=session
    )
    assert direct.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    fresh.sandbox.state.tokens.expire_all()
    with pytest.raises(SalesforceExpiredSession) as raised:
        direct.query("SELECT COUNT() FROM Account")
    assert raised.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_password_login_refreshes_after_expiry(fresh: RunningSandbox) -> None:
    sf = fresh.simple_salesforce()
    sf.Account.create({"Name": "Before expiry"})
    fresh.sandbox.state.tokens.expire_all()
    # simple-salesforce logs in again on INVALID_SESSION_ID when it knows the password.
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_wrong_password_fails_authentication(shared: RunningSandbox) -> None:
    session = requests.Session()
    session.mount("https://", SandboxAdapter(shared.url))
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_grant"):
        Salesforce(
            username="integration@sandbox.isthmus.local",
            password="wrong",
            consumer_key="isthmus-sandbox-client",
            consumer_secret="isthmus-sandbox-secret",
            session=session,
        )


def test_refused_request_when_budget_is_spent(fresh: RunningSandbox) -> None:
    sf = fresh.simple_salesforce()
    fresh.sandbox.state.usage.configure(daily_limit=3, used=3)
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_bulk2_upsert_update_delete_and_parent_lookup(sf: Salesforce) -> None:
    key = _unique("BK")
    sf.bulk2.Account.upsert(
        records=[{"ERP_Customer_Number__c": key, "Name": "Bulk parent"}],
        external_id_field="ERP_Customer_Number__c",
        wait=0.05,
    )
    second = sf.bulk2.Account.upsert(
        records=[{"ERP_Customer_Number__c": key, "Name": "Bulk parent v2"}],
        external_id_field="ERP_Customer_Number__c",
        wait=0.05,
    )
    rows = list(
        csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(second[0]["job_id"])))
    )
    assert rows[0]["sf__Created"] == "false"
    parent_id = rows[0]["sf__Id"]
    # A Relationship.ExternalId column links the child to the parent found by that key.
    contacts = sf.bulk2.Contact.insert(
        records=[{"LastName": "Child", "Account.ERP_Customer_Number__c": key}], wait=0.05
    )
    contact_id = next(
        csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(contacts[0]["job_id"])))
    )["sf__Id"]
    assert sf.Contact.get(contact_id)["AccountId"] == parent_id
    sf.bulk2.Contact.update(records=[{"Id": contact_id, "Title": "Buyer"}], wait=0.05)
    assert sf.Contact.get(contact_id)["Title"] == "Buyer"
    sf.bulk2.Contact.delete(records=[{"Id": contact_id}], wait=0.05)
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(contact_id)
