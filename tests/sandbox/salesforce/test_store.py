"""Record store: ids, validation codes, savepoints, change notices, persistence, seeding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isthmus.sandbox.salesforce.errors import SalesforceApiError
from isthmus.sandbox.salesforce.ids import (
    checksum_suffix,
    format_datetime,
    make_id,
    normalise_id,
    parse_datetime,
)
from isthmus.sandbox.salesforce.objects import sandbox_schema
from isthmus.sandbox.salesforce.persistence import SqlitePersistence
from isthmus.sandbox.salesforce.seed import plan_for, seed_store
from isthmus.sandbox.salesforce.store import RecordStore
from isthmus.sandbox.salesforce.transaction import ChangeNotice


@pytest.fixture
def store() -> RecordStore:
    return RecordStore(sandbox_schema())


def _error(action: Any) -> SalesforceApiError:
    with pytest.raises(SalesforceApiError) as raised:
        action()
    return raised.value


def test_checksum_matches_salesforce_example() -> None:
    # The case-safe form Salesforce documents for the 15-character id 001A0000006Vm9r.
    assert checksum_suffix("001A0000006Vm9r") == "IAC"
    assert normalise_id("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert normalise_id("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert normalise_id("001A0000006Vm9rAAA") is None
    assert normalise_id("001-bad") is None


def test_made_ids_are_distinct_and_valid() -> None:
    ids = {make_id("003", n) for n in range(1, 5000)}
    assert len(ids) == 4999
    assert all(len(i) == 18 and i.startswith("003") and normalise_id(i) == i for i in ids)


def test_timestamp_format_round_trips() -> None:
    stamp = "2013-05-20T20:49:32.000+0000"
    assert format_datetime(parse_datetime(stamp)) == stamp
    assert format_datetime(parse_datetime("2013-05-20T22:49:32+02:00")) == stamp
    assert format_datetime(parse_datetime("2013-05-20T20:49:32Z")) == stamp


@pytest.mark.parametrize(
    ("payload", "code", "fields"),
    [
        ({}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": ""}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": "x" * 256}, "STRING_TOO_LONG", ["Name"]),
        (
            {"Name": "a", "Sync_Status__c": "Later"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ["Sync_Status__c"],
        ),
        (
            {"Name": "a", "CurrencyIsoCode": "XXX"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ["CurrencyIsoCode"],
        ),
        ({"Name": "a", "Nope": 1}, "INVALID_FIELD", ["Nope"]),
        (
            {"Name": "a", "CreatedDate": "2020-01-01T00:00:00Z"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["CreatedDate"],
        ),
        ({"Name": "a", "AnnualRevenue": "lots"}, "JSON_PARSER_ERROR", ["AnnualRevenue"]),
        ({"Name": "a", "NumberOfEmployees": 1.5}, "JSON_PARSER_ERROR", ["NumberOfEmployees"]),
        ({"Name": "a", "ParentId": "not-an-id"}, "MALFORMED_ID", ["ParentId"]),
        (
            {"Name": "a", "ParentId": "001000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["ParentId"],
        ),
    ],
)
def test_create_validation(
    store: RecordStore, payload: dict[str, Any], code: str, fields: list[str]
) -> None:
    error = _error(lambda: store.create("Account", payload))
    assert (error.code, error.fields, error.status) == (code, fields, 400)


def test_free_text_accepts_limit_length_and_type_picklist_is_open(store: RecordStore) -> None:
    record = store.create("Account", {"Name": "x" * 255, "Type": "Something new"})
    assert record["Type"] == "Something new"
    assert record["Sync_Status__c"] == "Not Synced"  # the field's default
    assert record["OwnerId"].startswith("005")


def test_reference_must_point_to_the_right_live_object(store: RecordStore) -> None:
    contact = store.create("Contact", {"LastName": "C"})
    wrong_type = _error(
        lambda: store.create("Contact", {"LastName": "D", "AccountId": contact["Id"]})
    )
    assert wrong_type.code == "INVALID_CROSS_REFERENCE_KEY"
    account = store.create("Account", {"Name": "Parent"})
    store.delete("Account", account["Id"])
    deleted_parent = _error(
        lambda: store.create("Contact", {"LastName": "E", "AccountId": account["Id"]})
    )
    assert deleted_parent.code == "ENTITY_IS_DELETED"


def test_deleted_records_refuse_updates_and_second_deletes(store: RecordStore) -> None:
    account = store.create("Account", {"Name": "Doomed"})
    store.delete("Account", account["Id"])
    assert (
        _error(lambda: store.update("Account", account["Id"], {"Name": "x"})).code
        == "ENTITY_IS_DELETED"
    )
    assert _error(lambda: store.delete("Account", account["Id"])).code == "ENTITY_IS_DELETED"
    assert _error(lambda: store.update("Account", account["Id"], {"Name": None})).status == 404


def test_update_to_null_required_field(store: RecordStore) -> None:
    account = store.create("Account", {"Name": "Keep"})
    assert (
        _error(lambda: store.update("Account", account["Id"], {"Name": None})).code
        == "REQUIRED_FIELD_MISSING"
    )


def test_duplicate_values_on_unique_fields_and_combinations(store: RecordStore) -> None:
    first = store.create("Product2", {"Name": "P", "ERP_Item_Number__c": "ITEM-1"})
    duplicate = _error(
        lambda: store.create("Product2", {"Name": "Q", "ERP_Item_Number__c": "item-1"})
    )
    assert duplicate.code == "DUPLICATE_VALUE"
    assert first["Id"] in duplicate.message
    book = store.create("Pricebook2", {"Name": "Standard"})
    entry = {"Pricebook2Id": book["Id"], "Product2Id": first["Id"], "UnitPrice": 10}
    store.create("PricebookEntry", entry)
    store.create("PricebookEntry", {**entry, "CurrencyIsoCode": "EUR"})  # other currency: fine
    assert _error(lambda: store.create("PricebookEntry", entry)).code == "DUPLICATE_VALUE"
    store.delete("Product2", first["Id"])
    # A deleted record no longer holds its unique value.
    store.create("Product2", {"Name": "R", "ERP_Item_Number__c": "ITEM-1"})


def test_non_unique_external_ids_may_repeat(store: RecordStore) -> None:
    store.create("Account", {"Name": "A", "ERP_Customer_Number__c": "C1"})
    store.create("Account", {"Name": "B", "ERP_Customer_Number__c": "c1"})
    assert len(store.find("Account", "ERP_Customer_Number__c", "C1")) == 2


def test_savepoint_rollback_restores_state_and_announces_nothing(store: RecordStore) -> None:
    batches: list[list[ChangeNotice]] = []
    store.listeners.append(batches.append)
    kept = store.create("Account", {"Name": "Kept", "ERP_Customer_Number__c": "K"})
    with store.atomic() as savepoint:
        store.update("Account", kept["Id"], {"Name": "Changed"})
        store.delete("Account", kept["Id"])
        store.create("Account", {"Name": "Temporary"})
        savepoint.rollback()
    restored = store.live("Account", kept["Id"])
    assert restored["Name"] == "Kept"
    assert [r["Name"] for r in store.records("Account")] == ["Kept"]
    assert store.find("Account", "ERP_Customer_Number__c", "K")[0]["Id"] == kept["Id"]
    assert [n.change_type for batch in batches for n in batch] == ["CREATE"]


def test_exception_inside_atomic_rolls_back(store: RecordStore) -> None:
    with pytest.raises(SalesforceApiError), store.atomic():
        store.create("Account", {"Name": "Half"})
        store.create("Account", {})
    assert store.count("Account") == 0


def test_sqlite_file_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "org.sqlite"
    first = RecordStore(sandbox_schema(), persistence=SqlitePersistence(path))
    kept = first.create("Account", {"Name": "Persistent", "BillingStreet": "1 Road\nFlat 2"})
    gone = first.create("Account", {"Name": "Deleted"})
    first.delete("Account", gone["Id"])
    with pytest.raises(SalesforceApiError), first.atomic():
        first.create("Account", {"Name": "Rolled back"})
        raise SalesforceApiError(400, "X", "abort")
    assert first.persistence is not None
    first.persistence.close()
    second = RecordStore(sandbox_schema(), persistence=SqlitePersistence(path))
    assert second.live("Account", kept["Id"])["BillingStreet"] == "1 Road\nFlat 2"
    assert second.get(gone["Id"]) is not None
    assert second.deleted_at(gone["Id"]) is not None
    assert [r["Name"] for r in second.records("Account")] == ["Persistent"]
    newest = second.create("Account", {"Name": "After restart"})
    assert newest["Id"] not in (kept["Id"], gone["Id"])


def test_seeding_is_deterministic_per_seed() -> None:
    def names(seed: int) -> list[tuple[str, str]]:
        store = RecordStore(sandbox_schema())
        seed_store(store, seed, plan_for("small"))
        return [(r["Id"], r["Name"]) for r in store.records("Account")]

    assert names(3) == names(3)
    assert names(3) != names(4)
    assert len(names(3)) == 20


def test_seeded_data_covers_every_object() -> None:
    store = RecordStore(sandbox_schema())
    seed_store(store, 1, plan_for("small", accounts=6))
    for name in (
        "Account",
        "Contact",
        "Product2",
        "Pricebook2",
        "PricebookEntry",
        "Opportunity",
        "OpportunityLineItem",
        "ERP_Invoice__c",
        "ERP_Invoice_Line__c",
        "ERP_Payment__c",
        "ERP_Stock__c",
        "Quote",
        "QuoteLineItem",
        "Order",
        "OrderItem",
        "ERP_Credit_Memo__c",
    ):
        assert store.count(name) > 0, name
    street = next(store.records("Account"))["BillingStreet"]
    assert "\n" in street
    assert plan_for("empty").accounts == 0
