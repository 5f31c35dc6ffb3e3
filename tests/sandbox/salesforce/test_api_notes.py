"""One test per [doc] behaviour of API-NOTES.md §1 (Salesforce REST), over raw HTTP.

Each test names the numbered behaviour it checks, so a failure points at the vendor
rule the sandbox no longer follows.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
import uuid

import httpx

from isthmus.sandbox.salesforce.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    LimitSettings,
    SandboxSettings,
)
from tests.sandbox.salesforce.conftest import API, RunningSandbox, serve_sandbox

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def _name() -> str:
    return f"Notes-{uuid.uuid4().hex[:8]}"


def _assert_error_array(answer: httpx.Response, code: str) -> None:
    body = answer.json()
    assert isinstance(body, list)
    assert body[0]["errorCode"] == code
    assert isinstance(body[0]["message"], str)
    assert body[0]["message"]
    assert isinstance(body[0]["fields"], list)


def test_1_record_status_codes(http: httpx.Client) -> None:
    created = http.post(f"{API}/sobjects/Account", json={"Name": _name()})
    assert created.status_code == 201
    url = f"{API}/sobjects/Account/{created.json()['id']}"
    assert http.get(url).status_code == 200
    assert http.patch(url, json={"Phone": "1"}).status_code == 204
    assert http.request("PUT", url, json={}).status_code == 405
    assert http.post(f"{API}/sobjects/Account", content=b"{not json").status_code == 400
    assert http.delete(url).status_code == 204
    assert http.get(f"{API}/sobjects/Account/001000000000000AAA").status_code == 404


def test_1_if_modified_since_answers_304(http: httpx.Client) -> None:
    created = http.post(f"{API}/sobjects/Account", json={"Name": _name()}).json()
    url = f"{API}/sobjects/Account/{created['id']}"
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), True)
    earlier = email.utils.format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(days=1), True)
    assert http.get(url, headers={"If-Modified-Since": later}).status_code == 304
    assert http.get(url, headers={"If-Modified-Since": earlier}).status_code == 200


def test_1_401_for_missing_wrong_or_expired_tokens(shared: RunningSandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        answer = httpx.get(f"{shared.url}{API}/limits", headers=headers)
        assert answer.status_code == 401
        _assert_error_array(answer, "INVALID_SESSION_ID")
    with serve_sandbox(
        SandboxSettings(volume="empty", limits=LimitSettings(session_seconds=0))
    ) as short_lived:
        token = short_lived.token()
        time.sleep(0.01)
        answer = httpx.get(
            f"{short_lived.url}{API}/limits", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 401


def test_1_403_request_limit_exceeded(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        fresh.sandbox.state.usage.configure(daily_limit=5, used=5)
        answer = client.get(f"{API}/limits")
    assert answer.status_code == 403
    _assert_error_array(answer, "REQUEST_LIMIT_EXCEEDED")
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=5/5"


def test_2_error_body_is_an_array_of_message_code_fields(http: httpx.Client) -> None:
    answer = http.post(f"{API}/sobjects/Account", json={"Name": "x", "Sync_Status__c": "Nope"})
    assert answer.status_code == 400
    _assert_error_array(answer, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    assert answer.json()[0]["fields"] == ["Sync_Status__c"]


def test_3_upsert_created_updated_and_several_matches(http: httpx.Client) -> None:
    key = uuid.uuid4().hex[:10]
    url = f"{API}/sobjects/Account/ERP_Customer_Number__c/{key}"
    created = http.patch(url, json={"Name": "One"})
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    updated = http.patch(url, json={"Name": "Two"})
    assert updated.status_code == 200
    assert updated.json()["created"] is False
    # Before v46.0 the update path answered 204 without a body.
    legacy = http.patch(url.replace("v59.0", "v45.0"), json={"Name": "Three"})
    assert legacy.status_code == 204
    http.post(f"{API}/sobjects/Account", json={"Name": "Twin", "ERP_Customer_Number__c": key})
    ambiguous = http.patch(url, json={"Name": "Never written"})
    assert ambiguous.status_code == 300
    assert len(ambiguous.json()) == 2
    names = http.get(
        f"{API}/query",
        params={"q": f"SELECT Name FROM Account WHERE ERP_Customer_Number__c = '{key}'"},
    )
    assert "Never written" not in {r["Name"] for r in names.json()["records"]}


def test_3_update_only_and_post_to_id(http: httpx.Client) -> None:
    key = uuid.uuid4().hex[:10]
    refused = http.patch(
        f"{API}/sobjects/Account/ERP_Customer_Number__c/{key}",
        params={"updateOnly": "true"},
        json={"Name": "Should not exist"},
    )
    assert refused.status_code == 404
    created = http.post(f"{API}/sobjects/Account/Id", json={"Name": _name()})
    assert created.status_code == 201
    assert created.json()["created"] is True


def test_4_query_shape_paging_and_batch_size(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        for chunk in range(11):
            records = [
                {"attributes": {"type": "Contact"}, "LastName": f"L{chunk}-{i}"} for i in range(200)
            ]
            client.post(f"{API}/composite/sobjects", json={"records": records})
        first = client.get(f"{API}/query", params={"q": "SELECT Id FROM Contact"}).json()
        assert first["totalSize"] == 2200
        assert len(first["records"]) == 2000
        assert first["done"] is False
        assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-2000", first["nextRecordsUrl"])
        second = client.get(first["nextRecordsUrl"]).json()
        assert second["done"] is True
        assert len(second["records"]) == 200
        assert "nextRecordsUrl" not in second
        small = client.get(
            f"{API}/query",
            params={"q": "SELECT Id FROM Contact"},
            headers={"Sforce-Query-Options": "batchSize=500"},
        ).json()
        assert len(small["records"]) == 500


def test_4_query_all_includes_deleted_rows(http: httpx.Client) -> None:
    name = _name()
    created = http.post(f"{API}/sobjects/Account", json={"Name": name}).json()
    http.delete(f"{API}/sobjects/Account/{created['id']}")
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Name = '{name}'"
    assert http.get(f"{API}/query", params={"q": soql}).json()["totalSize"] == 0
    rows = http.get(f"{API}/queryAll", params={"q": soql}).json()["records"]
    assert [r["IsDeleted"] for r in rows] == [True]


def test_5_collections_partial_success_and_all_or_none(http: httpx.Client) -> None:
    good = {"attributes": {"type": "Account"}, "Name": _name()}
    bad = {"attributes": {"type": "Account"}, "Name": None}
    partial = http.post(f"{API}/composite/sobjects", json={"records": [good, bad]})
    assert partial.status_code == 200
    results = partial.json()
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    name = _name()
    atomic = http.post(
        f"{API}/composite/sobjects",
        json={"allOrNone": True, "records": [{**good, "Name": name}, bad]},
    ).json()
    assert atomic[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    query = {"q": f"SELECT Id FROM Account WHERE Name = '{name}'"}
    assert http.get(f"{API}/query", params=query).json()["totalSize"] == 0


def test_5_collections_limits_and_record_rules(http: httpx.Client) -> None:
    too_many = [{"attributes": {"type": "Account"}, "Name": "x"}] * 201
    assert http.post(f"{API}/composite/sobjects", json={"records": too_many}).status_code == 400
    answer = http.post(
        f"{API}/composite/sobjects",
        json={
            "records": [
                {"Name": "no type"},
                {"attributes": {"type": "Account"}, "id": "001000000000000AAA", "Name": "x"},
            ]
        },
    ).json()
    assert answer[0]["errors"][0]["statusCode"] == "INVALID_TYPE"
    assert answer[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    flip_flop = [
        {"attributes": {"type": "Account" if i % 2 else "Contact"}, "Name": "x", "LastName": "y"}
        for i in range(12)
    ]
    assert http.post(f"{API}/composite/sobjects", json={"records": flip_flop}).status_code == 400


def test_5_collections_update_retrieve_delete(http: httpx.Client) -> None:
    ids = [
        r["id"]
        for r in http.post(
            f"{API}/composite/sobjects",
            json={
                "records": [{"attributes": {"type": "Account"}, "Name": _name()} for _ in range(3)]
            },
        ).json()
    ]
    updates = [{"attributes": {"type": "Account"}, "id": i, "Phone": "555"} for i in ids]
    assert all(
        r["success"]
        for r in http.patch(f"{API}/composite/sobjects", json={"records": updates}).json()
    )
    fetched = http.get(
        f"{API}/composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "Id,Phone"}
    ).json()
    assert [f["Phone"] for f in fetched] == ["555"] * 3
    deleted = http.delete(f"{API}/composite/sobjects", params={"ids": ",".join(ids)}).json()
    assert [d["id"] for d in deleted] == ids
    again = http.delete(f"{API}/composite/sobjects", params={"ids": ids[0]}).json()
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_5_collections_upsert_by_external_id(http: httpx.Client) -> None:
    key = uuid.uuid4().hex[:10]
    records = [{"attributes": {"type": "Product2"}, "Name": "Gear", "ERP_Item_Number__c": key}]
    first = http.patch(
        f"{API}/composite/sobjects/Product2/ERP_Item_Number__c", json={"records": records}
    )
    second = http.patch(
        f"{API}/composite/sobjects/Product2/ERP_Item_Number__c", json={"records": records}
    )
    assert first.json()[0]["created"] is True
    assert second.json()[0]["created"] is False
    assert first.json()[0]["id"] == second.json()[0]["id"]


def test_6_limit_header_everywhere_but_versions(shared: RunningSandbox, http: httpx.Client) -> None:
    assert "Sforce-Limit-Info" not in httpx.get(f"{shared.url}/services/data/").headers
    for path in (f"{API}/", f"{API}/sobjects", f"{API}/query?q=SELECT+Id+FROM+Account+LIMIT+1"):
        assert re.fullmatch(r"api-usage=\d+/100000", http.get(path).headers["Sforce-Limit-Info"])
    limits = http.get(f"{API}/limits").json()
    assert limits["DailyApiRequests"]["Max"] == 100000


def test_7_timestamps_and_is_deleted(http: httpx.Client) -> None:
    created = http.post(f"{API}/sobjects/Account", json={"Name": _name()}).json()
    record = http.get(f"{API}/sobjects/Account/{created['id']}").json()
    for field in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert TIMESTAMP.match(record[field]), record[field]
    assert record["IsDeleted"] is False
    assert record["LastModifiedById"].startswith("005")


def test_8_get_deleted_shape_window_and_id_limit(fresh: RunningSandbox) -> None:
    now = dt.datetime.now(dt.UTC)
    with fresh.http() as client:
        created = client.post(f"{API}/sobjects/Account", json={"Name": "Gone"}).json()
        client.delete(f"{API}/sobjects/Account/{created['id']}")
        # Seconds are ignored, so a window starting 59 s in the future still covers now.
        start = now.replace(second=59).isoformat()
        end = (now + dt.timedelta(minutes=2)).isoformat()
        answer = client.get(f"{API}/sobjects/Account/deleted", params={"start": start, "end": end})
        body = answer.json()
        assert [d["id"] for d in body["deletedRecords"]] == [created["id"]]
        assert TIMESTAMP.match(body["deletedRecords"][0]["deletedDate"])
        assert {"earliestDateAvailable", "latestDateCovered"} <= set(body)
        too_old = (now - dt.timedelta(days=16)).isoformat()
        stale = client.get(f"{API}/sobjects/Account/deleted", params={"start": too_old, "end": end})
        assert stale.status_code == 400
        _assert_error_array(stale, "INVALID_REPLICATION_DATE")
    settings = SandboxSettings(volume="small", limits=LimitSettings(max_replication_ids=3))
    with serve_sandbox(settings) as crowded, crowded.http() as client:
        start = (now - dt.timedelta(days=8)).isoformat()
        answer = client.get(f"{API}/sobjects/Account/updated", params={"start": start, "end": end})
        assert answer.status_code == 400
        _assert_error_array(answer, "EXCEEDED_ID_LIMIT")


def test_9_bulk_ingest_needs_upload_complete(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        job = client.post(
            f"{API}/jobs/ingest", json={"object": "Account", "operation": "insert"}
        ).json()
        assert job["state"] == "Open"
        upload = client.put(
            f"{API}/jobs/ingest/{job['id']}/batches",
            content=b"Name,Phone\nAlpha,1\nBeta,2\n",
            headers={"Content-Type": "text/csv"},
        )
        assert upload.status_code == 201
        assert client.get(f"{API}/jobs/ingest/{job['id']}").json()["state"] == "Open"
        assert (
            client.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Account"}).json()[
                "totalSize"
            ]
            == 0
        )
        closed = client.patch(f"{API}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
        assert closed.json()["state"] == "UploadComplete"
        assert client.get(f"{API}/jobs/ingest/{job['id']}").json()["state"] == "InProgress"
        info = client.get(f"{API}/jobs/ingest/{job['id']}").json()
        assert info["state"] == "JobComplete"
        assert info["numberRecordsProcessed"] == 2
        assert client.delete(f"{API}/jobs/ingest/{job['id']}").status_code == 204


def test_9_bulk_abort_leaves_rows_unprocessed(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        job = client.post(
            f"{API}/jobs/ingest", json={"object": "Account", "operation": "insert"}
        ).json()
        client.put(f"{API}/jobs/ingest/{job['id']}/batches", content=b"Name\nAlpha\n")
        aborted = client.patch(f"{API}/jobs/ingest/{job['id']}", json={"state": "Aborted"})
        assert aborted.json()["state"] == "Aborted"
        unprocessed = client.get(f"{API}/jobs/ingest/{job['id']}/unprocessedrecords").text
        assert unprocessed.splitlines() == ["Name", "Alpha"]


def test_9_bulk_query_job(http: httpx.Client) -> None:
    job = http.post(
        f"{API}/jobs/query",
        json={"operation": "query", "query": "SELECT Id, Name FROM Product2 ORDER BY Name"},
    ).json()
    assert job["jobType"] == "V2Query"
    states = [http.get(f"{API}/jobs/query/{job['id']}").json()["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    page = http.get(f"{API}/jobs/query/{job['id']}/results", params={"maxRecords": 2})
    assert page.headers["Sforce-NumberOfRecords"] == "2"
    assert page.headers["Sforce-Locator"] == "2"
    assert page.text.splitlines()[0] == "Id,Name"


def test_10_oauth_grants_and_bodies(shared: RunningSandbox) -> None:
    token_url = f"{shared.url}/services/oauth2/token"
    password = httpx.post(
        token_url,
        data={
            "grant_type": "password",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
        },
    ).json()
    for field in ("access_token", "instance_url", "id", "token_type", "issued_at", "signature"):
        assert password[field]
    assert password["token_type"] == "Bearer"
    assert re.fullmatch(r".*/id/00D\w{15}/005\w{15}", password["id"])
    refreshed = httpx.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "refresh_token": password["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != password["access_token"]
    failed = httpx.post(
        token_url,
        data={
            "grant_type": "password",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "username": DEFAULT_USERNAME,
            "password": "bad",
        },
    )
    assert failed.status_code == 400
    assert failed.json() == {
        "error": "invalid_grant",
        "error_description": "authentication failure",
    }
    basic = httpx.post(
        token_url,
        data={"grant_type": "client_credentials"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert basic.status_code == 200
    unknown = httpx.post(token_url, data={"grant_type": "magic", "client_id": DEFAULT_CLIENT_ID})
    assert unknown.json()["error"] == "unsupported_grant_type"


def test_11_change_event_header(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        created = client.post(f"{API}/sobjects/Account", json={"Name": "Evented"}).json()
        client.patch(
            f"{API}/sobjects/Account/{created['id']}", json={"Phone": "42", "Name": "Renamed"}
        )
        client.delete(f"{API}/sobjects/Account/{created['id']}")
        events = client.get("/__sandbox/events", params={"entity": "Account"}).json()["events"]
    headers = [e["payload"]["ChangeEventHeader"] for e in events]
    assert [h["changeType"] for h in headers] == ["CREATE", "UPDATE", "DELETE"]
    update = headers[1]
    assert {"Phone", "Name", "LastModifiedDate"} <= set(update["changedFields"])
    assert update["recordIds"] == [created["id"]]
    assert update["entityName"] == "Account"
    assert update["commitUser"].startswith("005")
    assert isinstance(update["commitTimestamp"], int)
    for key in (
        "changeOrigin",
        "transactionKey",
        "sequenceNumber",
        "commitNumber",
        "nulledFields",
        "diffFields",
    ):
        assert key in update
    assert events[1]["payload"]["Name"] == "Renamed"
    replay_ids = [e["event"]["replayId"] for e in events]
    assert replay_ids == sorted(replay_ids)
