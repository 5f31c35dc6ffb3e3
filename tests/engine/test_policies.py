"""Each conflict policy's outcome, through the real engine, store and config.

Both sides change the same field after a sync; the flow's policy decides. Every case
checks both systems afterwards and the audit event that records the decision with
both values and the base.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config


def _sync(engine: Engine) -> None:
    async def run() -> None:
        reports = await engine.sync(["customers"])
        assert all(r.status == "succeeded" for r in reports), [r.messages for r in reports]

    asyncio.run(run())


def _linked_pair(
    tmp_path: Path, customers: dict[str, Any], fields: dict[str, Any] | None = None
) -> tuple[Engine, MemoryConnector, MemoryConnector, str, str]:
    engine, crm, erp = open_engine(write_config(tmp_path, customers=customers))
    account = crm.put(
        "Account",
        {"Name": "Acme", "AccountNumber": "C-1", "Phone": "100", **(fields or {})},
    )
    _sync(engine)
    (customer,) = erp.records("customers")
    return engine, crm, erp, account, customer


def _both_edit(
    crm: MemoryConnector,
    erp: MemoryConnector,
    account: str,
    customer: str,
    crm_fields: dict[str, Any],
    erp_fields: dict[str, Any],
    *,
    erp_last: bool = True,
) -> None:
    edits = [
        lambda: crm.put("Account", crm_fields, account),
        lambda: erp.put("customers", erp_fields, customer),
    ]
    for edit in edits if erp_last else reversed(edits):
        edit()


@pytest.mark.parametrize(
    ("conflict", "ownership", "erp_last", "winner"),
    [
        ({"default": "source"}, {}, True, "crm"),
        ({"default": "target"}, {}, False, "erp"),
        ({"default": "review"}, {"phone": "erp"}, False, "erp"),
        ({"default": "review"}, {"phone": "crm"}, True, "crm"),
        ({"default": "last_writer", "clock_skew": "0s"}, {}, True, "erp"),
        ({"default": "last_writer", "clock_skew": "0s"}, {}, False, "crm"),
        (
            {"default": "review", "fields": {"phone": "last_writer"}, "clock_skew": "0s"},
            {},
            True,
            "erp",
        ),
    ],
    ids=[
        "source",
        "target",
        "owner-erp",
        "owner-crm",
        "last-writer-erp",
        "last-writer-crm",
        "per-field",
    ],
)
def test_a_both_sides_edit_follows_the_policy(
    tmp_path: Path, conflict: dict[str, Any], ownership: dict[str, str], erp_last: bool, winner: str
) -> None:
    engine, crm, erp, account, customer = _linked_pair(
        tmp_path, {"conflict": conflict, "ownership": ownership}
    )
    _both_edit(crm, erp, account, customer, {"Phone": "200"}, {"phone": "300"}, erp_last=erp_last)
    _sync(engine)
    expected = "200" if winner == "crm" else "300"
    assert crm.get("Account", account)["Phone"] == expected  # type: ignore[index]
    assert erp.get("customers", customer)["phone"] == expected  # type: ignore[index]
    (event,) = [e for e in engine.store.audit_events(field="phone") if e.action == "conflict"]
    # Both sides' values, the decision and the base are on the record.
    assert {event.old_value, event.other_value} == {"200", "300"}
    assert event.new_value == expected
    assert event.decision
    assert event.base_value == "100"
    assert engine.store.review_items(status="open") == []
    asyncio.run(engine.close())


def test_edits_within_the_clock_skew_go_to_review_and_nothing_is_overwritten(
    tmp_path: Path,
) -> None:
    engine, crm, erp, account, customer = _linked_pair(
        tmp_path, {"conflict": {"default": "last_writer", "clock_skew": "1h"}}
    )
    _both_edit(crm, erp, account, customer, {"Phone": "200"}, {"phone": "300"})
    _sync(engine)
    assert crm.get("Account", account)["Phone"] == "200"  # type: ignore[index]
    assert erp.get("customers", customer)["phone"] == "300"  # type: ignore[index]
    (item,) = engine.store.review_items(status="open")
    assert "clock-skew" in item.details["reason"]
    asyncio.run(engine.close())


def test_review_keeps_both_values_until_a_person_decides(tmp_path: Path) -> None:
    engine, crm, erp, account, customer = _linked_pair(
        tmp_path, {"conflict": {"default": "review"}}
    )
    _both_edit(
        crm, erp, account, customer, {"Phone": "200", "Website": "a.example"}, {"phone": "300"}
    )
    _sync(engine)
    # The field nobody disputes travels; the disputed one waits on both sides.
    assert erp.get("customers", customer)["web"] == "a.example"  # type: ignore[index]
    assert crm.get("Account", account)["Phone"] == "200"  # type: ignore[index]
    assert erp.get("customers", customer)["phone"] == "300"  # type: ignore[index]
    (item,) = engine.store.review_items(status="open")
    assert (item.details["base_value"], item.details["field"]) == ("100", "phone")

    asyncio.run(engine.resolve_review(item.id or 0, take="erp", actor="alice"))
    assert crm.get("Account", account)["Phone"] == "300"  # type: ignore[index]
    assert engine.store.review_items(status="open") == []
    _sync(engine)  # and nothing flips back afterwards
    assert crm.get("Account", account)["Phone"] == "300"  # type: ignore[index]
    assert erp.get("customers", customer)["phone"] == "300"  # type: ignore[index]
    asyncio.run(engine.close())


def test_newest_non_empty_never_lets_a_blank_win(tmp_path: Path) -> None:
    engine, crm, erp, account, customer = _linked_pair(
        tmp_path, {"conflict": {"default": "newest_non_empty", "clock_skew": "0s"}}
    )
    # The ERP's edit is older but the CRM's newer edit blanks the field.
    _both_edit(crm, erp, account, customer, {"Phone": None}, {"phone": "300"}, erp_last=False)
    _sync(engine)
    assert crm.get("Account", account)["Phone"] == "300"  # type: ignore[index]
    assert erp.get("customers", customer)["phone"] == "300"  # type: ignore[index]
    asyncio.run(engine.close())


def test_additive_applies_both_deltas(tmp_path: Path) -> None:
    engine, crm, erp, account, customer = _linked_pair(
        tmp_path,
        {"conflict": {"default": "review", "fields": {"credit_limit.amount": "additive"}}},
        {"Credit_Limit__c": "1000.00", "CurrencyIsoCode": "EUR"},
    )
    # +500 in the CRM, -200 in the ERP, against a base of 1000.
    _both_edit(
        crm, erp, account, customer, {"Credit_Limit__c": "1500.00"}, {"credit_limit": "800.00"}
    )
    _sync(engine)
    assert str(crm.get("Account", account)["Credit_Limit__c"]) == "1300.00"  # type: ignore[index]
    assert str(erp.get("customers", customer)["credit_limit"]) == "1300.00"  # type: ignore[index]
    asyncio.run(engine.close())


def test_a_one_sided_edit_travels_whatever_side_the_conflict_rule_favours(
    tmp_path: Path,
) -> None:
    # "source wins" settles conflicts; it does not make the target read-only.
    engine, crm, erp, account, customer = _linked_pair(
        tmp_path, {"conflict": {"default": "source"}}
    )
    erp.put("customers", {"phone": "300"}, customer)
    _sync(engine)
    assert crm.get("Account", account)["Phone"] == "300"  # type: ignore[index]
    asyncio.run(engine.close())
