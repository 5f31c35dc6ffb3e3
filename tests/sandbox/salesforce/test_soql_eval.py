"""SOQL evaluation against a store, without HTTP: filters, ordering, parents, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isthmus.sandbox.salesforce.errors import SalesforceApiError
from isthmus.sandbox.salesforce.objects import sandbox_schema
from isthmus.sandbox.salesforce.soql_eval import aggregate_row, compile_query, render_record, run
from isthmus.sandbox.salesforce.store import RecordStore

NOW = dt.datetime(2024, 5, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def store() -> RecordStore:
    clock = iter(NOW + dt.timedelta(seconds=i) for i in range(1000))
    store = RecordStore(sandbox_schema(), clock=lambda: next(clock))
    hour = dt.timedelta(hours=1)
    acme = store.create(
        "Account", {"Name": "Acme", "BillingCity": "Paris", "AnnualRevenue": 10}, at=NOW - 2 * hour
    )
    store.create("Account", {"Name": "bolt 100%", "AnnualRevenue": 5, "Type": "Partner"}, at=NOW)
    store.create("Account", {"Name": "Crane_Co", "Type": "Prospect"}, at=NOW + hour)
    store.create("Account", {"Name": "Old", "Type": "Partner"}, at=NOW - dt.timedelta(days=40))
    store.create("Contact", {"LastName": "Ames", "AccountId": acme["Id"]})
    store.create("Contact", {"LastName": "Orphan"})
    gone = store.create("Account", {"Name": "Gone"})
    store.delete("Account", gone["Id"])
    return store


def _names(store: RecordStore, text: str, *, include_deleted: bool = False) -> list[Any]:
    compiled = compile_query(text, store.schema, NOW.date())
    rows = run(compiled, store, include_deleted=include_deleted)
    field = compiled.columns[0].field.name
    return [row[field] for row in rows]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'ACME'", ["Acme"]),
        ("Name != 'Acme'", ["bolt 100%", "Crane_Co", "Old"]),
        ("AnnualRevenue > 5", ["Acme"]),
        ("AnnualRevenue <= 10", ["Acme", "bolt 100%"]),
        ("AnnualRevenue = null", ["Crane_Co", "Old"]),
        ("AnnualRevenue < 100", ["Acme", "bolt 100%"]),  # null never compares
        ("Type IN ('Partner', 'Prospect')", ["bolt 100%", "Crane_Co", "Old"]),
        ("Type NOT IN ('Partner')", ["Acme", "Crane_Co"]),
        ("Name LIKE 'b%'", ["bolt 100%"]),
        ("Name LIKE '%100\\%'", ["bolt 100%"]),
        ("Name LIKE 'Crane\\_%'", ["Crane_Co"]),
        ("Name LIKE '_ld'", ["Old"]),
        ("NOT Name LIKE '%o%'", ["Acme"]),
        (
            "(Type = 'Partner' OR BillingCity = 'Paris') AND AnnualRevenue != null",
            ["Acme", "bolt 100%"],
        ),
        ("CreatedDate = TODAY", ["Acme", "bolt 100%", "Crane_Co"]),
        ("CreatedDate < LAST_N_DAYS:30", ["Old"]),
        ("CreatedDate > 2024-05-20T12:00:00Z", ["Crane_Co"]),
        ("CreatedDate >= 2024-05-20T14:00:00+02:00", ["bolt 100%", "Crane_Co"]),
        ("CreatedDate < 2024-05-20T11:00:00.000+0000", ["Acme", "Old"]),
        ("IsDeleted = false", ["Acme", "bolt 100%", "Crane_Co", "Old"]),
    ],
)
def test_filters(store: RecordStore, where: str, expected: list[str]) -> None:
    assert _names(store, f"SELECT Name FROM Account WHERE {where}") == expected


def test_ordering_with_nulls_and_case(store: RecordStore) -> None:
    ordered = _names(store, "SELECT Name FROM Account ORDER BY Name")
    assert ordered == ["Acme", "bolt 100%", "Crane_Co", "Old"]
    by_revenue = _names(store, "SELECT Name FROM Account ORDER BY AnnualRevenue, Name")
    assert by_revenue == ["Crane_Co", "Old", "bolt 100%", "Acme"]
    descending = _names(store, "SELECT Name FROM Account ORDER BY AnnualRevenue DESC, Name")
    assert descending == ["Acme", "bolt 100%", "Crane_Co", "Old"]
    nulls_last = _names(store, "SELECT Name FROM Account ORDER BY AnnualRevenue NULLS LAST, Name")
    assert nulls_last == ["bolt 100%", "Acme", "Crane_Co", "Old"]


def test_limit_offset_and_query_all(store: RecordStore) -> None:
    assert _names(store, "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1") == [
        "bolt 100%",
        "Crane_Co",
    ]
    everything = _names(store, "SELECT Name FROM Account ORDER BY Name", include_deleted=True)
    assert "Gone" in everything


def test_parent_fields_render_nested_or_null(store: RecordStore) -> None:
    compiled = compile_query(
        "SELECT LastName, Account.Name, Account.BillingCity FROM Contact ORDER BY LastName",
        store.schema,
        NOW.date(),
    )
    rows = [
        render_record(compiled, store, r, "59.0")
        for r in run(compiled, store, include_deleted=False)
    ]
    assert rows[0]["Account"]["Name"] == "Acme"
    assert rows[0]["Account"]["BillingCity"] == "Paris"
    assert rows[0]["Account"]["attributes"]["type"] == "Account"
    assert rows[1]["Account"] is None
    assert _names(store, "SELECT LastName FROM Contact WHERE Account.Name = 'acme'") == ["Ames"]


def test_ids_match_in_15_and_18_character_forms(store: RecordStore) -> None:
    acme = next(r for r in store.records("Account") if r["Name"] == "Acme")
    for form in (acme["Id"], acme["Id"][:15]):
        assert _names(store, f"SELECT Name FROM Account WHERE Id = '{form}'") == ["Acme"]
    assert _names(
        store, f"SELECT LastName FROM Contact WHERE AccountId IN ('{acme['Id'][:15]}')"
    ) == ["Ames"]


def test_count_queries(store: RecordStore) -> None:
    compiled = compile_query("SELECT COUNT() FROM Account", store.schema, NOW.date())
    assert compiled.count_only
    assert len(run(compiled, store, include_deleted=False)) == 4
    compiled = compile_query("SELECT COUNT(AnnualRevenue) n FROM Account", store.schema, NOW.date())
    rows = run(compiled, store, include_deleted=False)
    assert aggregate_row(compiled, store, rows)["n"] == 2


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SELECT Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Owner.Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Parentt.Name FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
        ("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE AnnualRevenue = 'ten'", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE AnnualRevenue LIKE 'x'", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Name, COUNT() FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ],
)
def test_errors(store: RecordStore, text: str, code: str) -> None:
    with pytest.raises(SalesforceApiError) as raised:
        compile_query(text, store.schema, NOW.date())
    assert raised.value.code == code
    assert raised.value.status == 400


_ATOMS = (
    "Name LIKE 'a%'",
    "AnnualRevenue > 5",
    "AnnualRevenue = null",
    "Type IN ('Partner')",
    "Type != 'Prospect'",
    "BillingCity = 'Paris'",
    "CreatedDate = TODAY",
    "Name LIKE '%o%'",
)


@st.composite
def _boolean_trees(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 3 or draw(st.booleans()):
        return draw(st.sampled_from(_ATOMS))
    kind = draw(st.sampled_from(["NOT", "AND", "OR"]))
    if kind == "NOT":
        return f"NOT ({draw(_boolean_trees(depth + 1))})"
    return f"({draw(_boolean_trees(depth + 1))}) {kind} ({draw(_boolean_trees(depth + 1))})"


def _ids(store: RecordStore, where: str | None) -> set[str]:
    text = "SELECT Id FROM Account" + (f" WHERE {where}" if where else "")
    compiled = compile_query(text, store.schema, NOW.date())
    return {row["Id"] for row in run(compiled, store, include_deleted=False)}


@settings(max_examples=60, deadline=None)
@given(_boolean_trees(), _boolean_trees())
def test_where_follows_boolean_algebra(store: RecordStore, left: str, right: str) -> None:
    everything = _ids(store, None)
    a, b = _ids(store, left), _ids(store, right)
    assert _ids(store, f"NOT ({left})") == everything - a
    assert _ids(store, f"({left}) AND ({right})") == a & b
    assert _ids(store, f"({left}) OR ({right})") == a | b
