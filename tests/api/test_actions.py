"""Acting through the API changes the systems, and is audited with who did it."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Api


def test_replaying_a_dead_letter_syncs_the_fixed_record(api: Api) -> None:
    bad = api.crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})  # ERP holds 50
    asyncio.run(api.engine.sync(["customers"]))
    letters = api.client.get("/dead-letters?flow=customers", headers=api.auth("viewer")).json()
    assert [(letter["system"], letter["native_id"]) for letter in letters] == [("crm", bad)]
    letter_id = letters[0]["id"]
    assert not api.erp.records("customers")

    api.crm.put("Account", {"Name": "Bold"}, bad)  # a person fixes it in the CRM
    answer = api.client.post(f"/dead-letters/{letter_id}/replay", headers=api.auth("operator"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["reports"][0]["counts"]["created"] == 1
    (customer,) = api.erp.records("customers")
    assert api.erp.get("customers", customer)["name"] == "Bold"

    again = api.client.post(f"/dead-letters/{letter_id}/replay", headers=api.auth("operator"))
    assert again.status_code == 409
    assert "already resolved" in again.json()["error"]
    record = api.client.get(f"/records/crm/{bad}", headers=api.auth("viewer")).json()
    assert {link["system"] for link in record["links"]} == {"crm", "erp"}
    assert record["base"]["name"] == "Bold"
    actors = api.client.get("/audit?actor=api:operator", headers=api.auth("viewer")).json()
    assert actors, "the replay is audited with the operator's name"


def _conflict(api: Api) -> tuple[int, str, str]:
    account = api.crm.put(
        "Account",
        {
            "Name": "Acme",
            "AccountNumber": "C-1",
            "Phone": "100",
            "Credit_Limit__c": "500",
            "CurrencyIsoCode": "EUR",
        },
    )
    asyncio.run(api.engine.sync(["customers"]))
    (customer,) = api.erp.records("customers")
    api.crm.put("Account", {"Phone": "200"}, account)
    api.erp.put("customers", {"phone": "300"}, customer)
    asyncio.run(api.engine.sync(["customers"]))
    (item,) = api.engine.store.review_items(status="open")
    assert item.id is not None
    return item.id, account, customer


def test_resolving_a_conflict_writes_the_chosen_value_to_both_systems(api: Api) -> None:
    item_id, account, customer = _conflict(api)
    shown = api.client.get(f"/review/{item_id}", headers=api.auth("viewer")).json()
    rows = {row["path"]: row for row in shown["rows"]}
    assert rows["phone"]["values"] == {"crm": "200", "erp": "300"}
    assert rows["phone"]["differs"] is True

    bad = api.client.post(f"/review/{item_id}/resolve", json={}, headers=api.auth("operator"))
    assert bad.status_code == 422
    answer = api.client.post(
        f"/review/{item_id}/resolve", json={"take": "erp"}, headers=api.auth("operator")
    )
    assert answer.status_code == 200, answer.text
    assert api.crm.get("Account", account)["Phone"] == "300"
    assert api.erp.get("customers", customer)["phone"] == "300"
    again = api.client.post(
        f"/review/{item_id}/resolve", json={"take": "erp"}, headers=api.auth("operator")
    )
    assert again.status_code == 409
    resolved = api.client.get("/review?status=resolved", headers=api.auth("viewer")).json()
    assert resolved[0]["resolved_by"] == "api:operator"


def test_sensitive_fields_are_masked_below_operator(api: Api) -> None:
    item_id, account, _ = _conflict(api)
    api.crm.put("Account", {"Credit_Limit__c": "700"}, account)
    asyncio.run(api.engine.sync(["customers"]))
    for role, hidden in (("viewer", True), ("operator", False), ("admin", False)):
        record = api.client.get(f"/records/crm/{account}", headers=api.auth(role)).json()
        limits = {k: v for k, v in record["base"].items() if k.startswith("credit_limit")}
        assert limits, record["base"]
        assert all(v == "***" for v in limits.values()) is hidden, (role, limits)
        assert record["base"]["name"] == "Acme", "other fields stay readable"
        shown = api.client.get(f"/review/{item_id}", headers=api.auth(role)).json()
        limit_rows = [row for row in shown["rows"] if row["path"].startswith("credit_limit")]
        assert limit_rows
        assert all(set(row["values"].values()) == {"***"} for row in limit_rows) is hidden
        events = api.client.get(
            f"/audit?canonical_id={record['canonical_id']}", headers=api.auth(role)
        ).json()
        limit_events = [e for e in events if (e["field"] or "").startswith("credit_limit")]
        assert limit_events
        assert all(e["new_value"] == "***" for e in limit_events) is hidden
        (created,) = [e for e in events if e["action"] == "create"]
        assert (created["new_value"]["credit_limit.amount"] == "***") is hidden


def test_pausing_a_flow_skips_its_scheduled_runs_and_is_audited(api: Api) -> None:
    answer = api.client.post("/flows/customers/pause", headers=api.auth("admin"))
    assert answer.json() == {"flow": "customers", "paused": True, "state": "paused"}
    api.crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
    flow = api.engine.flows["customers"]
    from isthmus.engine.runner import RunOptions

    report = asyncio.run(api.engine.run_flow(flow, RunOptions(), trigger="schedule"))
    assert report.status == "skipped"
    assert not api.erp.records("customers")
    run = api.client.post("/flows/customers/run", headers=api.auth("operator")).json()
    assert run["report"]["counts"]["created"] == 1, "a run a person asks for still runs"
    events = api.client.get("/audit?actor=api:admin", headers=api.auth("viewer")).json()
    assert [e["message"] for e in events] == ["flow customers paused"]
    flows = api.client.get("/flows", headers=api.auth("viewer")).json()
    assert next(f for f in flows if f["name"] == "customers")["paused"] is True


def test_metrics_count_runs_and_open_work(api: Api) -> None:
    api.crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})
    api.client.post("/flows/customers/run", headers=api.auth("operator"))
    text = api.client.get("/metrics", headers=api.auth("viewer")).text
    assert 'isthmus_dead_letters_open{flow="customers"} 1.0' in text
    assert 'isthmus_records_synced_total{flow="customers",outcome="dead_letters"} 1.0' in text
    assert 'isthmus_run_seconds_count{flow="customers"} 1.0' in text
    assert "isthmus_queue_depth 0.0" in text
