"""POST /mappings/preview: field changes per record from a changed mapping, nothing written."""

from __future__ import annotations

import asyncio

import yaml

from tests.api.conftest import Api
from tests.engine.memoryfixtures import MAPPINGS


def _changed_mapping() -> str:
    # Phone now comes from the Website field: every record with a website changes phone.
    document = yaml.safe_load(yaml.safe_dump(MAPPINGS["crm_account.yaml"]))
    for rule in document["fields"]:
        if rule["canonical"] == "phone":
            rule["native"] = "Website"
            rule["direction"] = "to_canonical"
    return yaml.safe_dump(document)


def test_preview_lists_each_field_that_would_change_and_writes_nothing(api: Api) -> None:
    changed = api.crm.put(
        "Account", {"Name": "Acme", "AccountNumber": "C-1", "Phone": "1", "Website": "a.example"}
    )
    same = {"Phone": "x.example", "Website": "x.example"}
    api.crm.put("Account", {"Name": "Same", "AccountNumber": "C-2", **same})
    asyncio.run(api.engine.sync(["customers"]))
    runs, audit = api.engine.store.runs(None, 100), api.engine.store.audit_events(limit=1000)
    erp_before = {i: api.erp.get("customers", i) for i in api.erp.records("customers")}

    answer = api.client.post(
        "/mappings/preview", json={"mapping": _changed_mapping()}, headers=api.auth("operator")
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["read"] == 2
    assert found["changed"] == 1
    (record,) = found["records"]
    assert record["native_id"] == changed
    assert record["changes"] == [{"path": "phone", "before": "1", "after": "a.example"}]
    assert api.engine.store.runs(None, 100) == runs
    assert api.engine.store.audit_events(limit=1000) == audit
    assert {i: api.erp.get("customers", i) for i in api.erp.records("customers")} == erp_before


def test_preview_refuses_bad_input_and_low_roles(api: Api) -> None:
    body = {"mapping": _changed_mapping()}
    assert (
        api.client.post("/mappings/preview", json=body, headers=api.auth("viewer")).status_code
        == 403
    )
    for text, expected in (("name: [", "not valid YAML"), ("name: nobody\n", "pasted mapping")):
        answer = api.client.post(
            "/mappings/preview", json={"mapping": text}, headers=api.auth("operator")
        )
        assert answer.status_code == 422, answer.text
        assert expected in answer.json()["error"]
    unused = _changed_mapping().replace("crm_account", "not_used")
    answer = api.client.post(
        "/mappings/preview", json={"mapping": unused}, headers=api.auth("operator")
    )
    assert answer.status_code == 422
    assert "is not used by any flow" in answer.json()["error"]
