"""Discovery (versions, resources, describe) and edge cases of records, composite, events."""

from __future__ import annotations

from pathlib import Path

import httpx
from simple_salesforce import Salesforce

from isthmus.sandbox.salesforce.settings import Credentials, SandboxSettings
from tests.sandbox.salesforce.conftest import API, RunningSandbox, serve_sandbox


def test_versions_and_resources(shared: RunningSandbox, http: httpx.Client) -> None:
    versions = httpx.get(f"{shared.url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    resources = http.get(f"{API}/").json()
    assert resources["query"] == f"{API}/query"
    assert resources["sobjects"] == f"{API}/sobjects"
    assert http.get("/services/data/v12.0/").status_code == 404


def test_describe_global_lists_standard_and_custom_objects(sf: Salesforce) -> None:
    described = sf.describe()
    assert described["maxBatchSize"] == 200
    by_name = {o["name"]: o for o in described["sobjects"]}
    assert by_name["Account"]["keyPrefix"] == "001"
    assert by_name["Contact"]["keyPrefix"] == "003"
    assert by_name["ERP_Invoice__c"]["custom"] is True
    assert by_name["Order"]["urls"]["describe"] == "/services/data/v59.0/sobjects/Order/describe"


def test_describe_fields_types_lengths_picklists_external_ids(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert fields["Name"]["type"] == "string"
    assert fields["Name"]["length"] == 255
    assert fields["Name"]["nillable"] is False
    assert fields["BillingStreet"]["type"] == "textarea"
    assert fields["ERP_Customer_Number__c"]["externalId"] is True
    assert fields["ERP_Customer_Number__c"]["custom"] is True
    status = fields["Sync_Status__c"]
    assert status["restrictedPicklist"] is True
    assert [p["value"] for p in status["picklistValues"]] == [
        "Not Synced",
        "Pending",
        "Synced",
        "Error",
    ]
    assert fields["ParentId"]["referenceTo"] == ["Account"]
    assert fields["ParentId"]["relationshipName"] == "Parent"
    assert fields["CreatedDate"]["createable"] is False
    assert fields["Credit_Limit__c"]["type"] == "currency"
    children = {c["childSObject"] for c in sf.Account.describe()["childRelationships"]}
    assert {"Contact", "Opportunity", "ERP_Invoice__c"} <= children
    entry = {f["name"]: f for f in sf.PricebookEntry.describe()["fields"]}
    assert entry["CurrencyIsoCode"]["restrictedPicklist"] is True


def test_unknown_object_and_basic_info(http: httpx.Client) -> None:
    assert http.get(f"{API}/sobjects/Nope__c/describe").status_code == 404
    info = http.get(f"{API}/sobjects/Account").json()
    assert info["objectDescribe"]["name"] == "Account"
    assert 0 < len(info["recentItems"]) <= 5


def test_get_with_fields_parameter_and_wrong_object(http: httpx.Client) -> None:
    created = http.post(f"{API}/sobjects/Account", json={"Name": "Fields", "Phone": "1"}).json()
    record = http.get(f"{API}/sobjects/Account/{created['id']}", params={"fields": "Name,Phone"})
    assert set(record.json()) == {"attributes", "Name", "Phone"}
    assert http.get(f"{API}/sobjects/Contact/{created['id']}").status_code == 404
    assert http.get(f"{API}/sobjects/Account/{created['id'][:15]}").json()["Id"] == created["id"]


def test_upsert_rejects_a_different_key_in_the_body_and_unknown_key_fields(
    http: httpx.Client,
) -> None:
    url = f"{API}/sobjects/Account/ERP_Customer_Number__c/K-1"
    clash = http.patch(url, json={"Name": "x", "ERP_Customer_Number__c": "K-2"})
    assert clash.status_code == 400
    assert clash.json()[0]["errorCode"] == "INVALID_FIELD"
    not_external = http.patch(f"{API}/sobjects/Account/Name/x", json={"Name": "x"})
    assert not_external.status_code == 404


def test_composite_reference_to_a_failed_subrequest(http: httpx.Client) -> None:
    answer = http.post(
        f"{API}/composite",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Account",
                    "referenceId": "bad",
                    "body": {},
                },
                {
                    "method": "GET",
                    "url": f"{API}/sobjects/Account/@{{bad.id}}",
                    "referenceId": "next",
                },
            ]
        },
    ).json()["compositeResponse"]
    assert answer[0]["httpStatusCode"] == 400
    assert answer[1]["body"][0]["errorCode"] == "INVALID_REFERENCE"


def test_events_replay_and_callback_management(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        for name in ("One", "Two", "Three"):
            client.post(f"{API}/sobjects/Account", json={"Name": name})
        first = client.get("/__sandbox/events", params={"replayId": -1, "limit": 2}).json()
        assert len(first["events"]) == 2
        last_seen = first["events"][-1]["event"]["replayId"]
        rest = client.get("/__sandbox/events", params={"replayId": last_seen}).json()["events"]
        assert [e["payload"]["Name"] for e in rest] == ["Three"]
        assert (
            client.post("/__sandbox/events/callbacks", json={"url": "ftp://x"}).status_code == 400
        )
        client.post("/__sandbox/events/callbacks", json={"url": "http://127.0.0.1:9/none"})
        removed = client.delete(
            "/__sandbox/events/callbacks", params={"url": "http://127.0.0.1:9/none"}
        )
        assert removed.json()["removed"] is True


def test_revoke_ends_a_token(shared: RunningSandbox) -> None:
    token = shared.token()
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{shared.url}{API}/limits", headers=headers).status_code == 200
    assert (
        httpx.post(f"{shared.url}/services/oauth2/revoke", data={"token": token}).status_code == 200
    )
    assert httpx.get(f"{shared.url}{API}/limits", headers=headers).status_code == 401


def test_sqlite_backed_sandbox_is_not_reseeded_after_restart(tmp_path: Path) -> None:
    settings = SandboxSettings(volume="small", db_path=tmp_path / "org.sqlite")
    with serve_sandbox(settings) as first, first.http() as client:
        created = client.post(f"{API}/sobjects/Account", json={"Name": "Survivor"}).json()
        count = client.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Account"}).json()
    with serve_sandbox(settings) as second, second.http() as client:
        again = client.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Account"}).json()
        survivor = client.get(f"{API}/sobjects/Account/{created['id']}").json()
    assert again["totalSize"] == count["totalSize"] == 21
    assert survivor["Name"] == "Survivor"


def test_limit_admin_endpoint_validates_input(fresh: RunningSandbox) -> None:
    assert httpx.post(f"{fresh.url}/__sandbox/limits", json={"used": -1}).status_code == 400
    changed = httpx.post(f"{fresh.url}/__sandbox/limits", json={"daily_api_requests": 50})
    assert changed.json() == {"daily_api_requests": 50, "used": 0}


def test_password_grant_wants_the_security_token_when_one_is_set() -> None:
    settings = SandboxSettings(volume="empty", credentials=Credentials(security_token="TOK123"))
    form = {
        "grant_type": "password",
        "client_id": settings.credentials.client_id,
        "client_secret": settings.credentials.client_secret,
        "username": settings.credentials.username,
    }
    with serve_sandbox(settings) as running:
        url = f"{running.url}/services/oauth2/token"
        without = httpx.post(url, data={**form, "password": settings.credentials.password})
        with_token = httpx.post(
            url, data={**form, "password": settings.credentials.password + "TOK123"}
        )
        wrong_client = httpx.post(url, data={**form, "client_id": "other", "password": "x"})
    assert without.json()["error"] == "invalid_grant"
    assert with_token.status_code == 200
    assert wrong_client.json() == {
        "error": "invalid_client_id",
        "error_description": "client identifier invalid",
    }
