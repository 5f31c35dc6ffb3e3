"""validate_native: one RecordError per problem, naming object, field, value and the fix."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from isthmus.connectors.base import FieldDescription, ObjectDescription
from isthmus.mapping import validate_native

ACCOUNT = ObjectDescription(
    "Account",
    "Id",
    {
        "Name": FieldDescription("Name", length=10, required=True),
        "Type": FieldDescription("Type", "picklist", picklist=("Customer", "Partner")),
        "Employees": FieldDescription("Employees", "integer"),
        "Limit": FieldDescription("Limit", "decimal"),
        "Active": FieldDescription("Active", "boolean"),
        "Since": FieldDescription("Since", "date"),
        "Seen": FieldDescription("Seen", "datetime"),
        "Extra": FieldDescription("Extra", "json"),
        "Id": FieldDescription("Id", "id", read_only=True),
        "Key": FieldDescription("Key", read_only=True, external_id=True),
    },
)


def test_valid_record_has_no_errors() -> None:
    fields = {
        "Name": "Acme",
        "Type": "Customer",
        "Employees": 5,
        "Limit": Decimal("1.5"),
        "Active": True,
        "Since": "2024-01-02",
        "Seen": "2024-01-02T10:00:00Z",
        "Extra": {"a": [1]},
    }
    assert validate_native(fields, ACCOUNT, creating=True) == []
    assert validate_native({"Since": date(2024, 1, 2)}, ACCOUNT, creating=False) == []


@pytest.mark.parametrize(
    ("fields", "creating", "field", "words"),
    [
        ({"Type": "Customer"}, True, "Name", ["Account.Name", "required to create"]),
        ({"Name": ""}, False, "Name", ["cannot be emptied"]),
        ({"Name": "Acme Corporation"}, False, "Name", ["at most 10", "got 16", "truncate: true"]),
        ({"Type": "Prospect"}, False, "Type", ["'Prospect'", "Customer, Partner", "value_map"]),
        ({"Employees": "five"}, False, "Employees", ["integer field", "str 'five'"]),
        ({"Employees": True}, False, "Employees", ["integer field", "bool"]),
        ({"Limit": "1.5"}, False, "Limit", ["decimal field"]),
        ({"Active": "yes"}, False, "Active", ["boolean field"]),
        ({"Since": "02.01.2024"}, False, "Since", ["date field"]),
        ({"Id": "001"}, False, "Id", ["read-only", "direction: to_canonical"]),
        ({"Key": "k"}, False, "Key", ["read-only"]),
        ({"Nmae": "x"}, False, "Nmae", ["does not exist"]),
    ],
)
def test_each_rule(fields: dict[str, Any], creating: bool, field: str, words: list[str]) -> None:
    errors = validate_native(fields, ACCOUNT, creating=creating)
    assert len(errors) == 1
    error = errors[0]
    assert (error.kind, error.field) == ("validation", field)
    for word in words:
        assert word in error.message


def test_external_id_may_be_set_on_create() -> None:
    assert validate_native({"Name": "A", "Key": "k"}, ACCOUNT, creating=True) == []


def test_long_values_are_shortened_in_messages() -> None:
    errors = validate_native({"Type": "x" * 500}, ACCOUNT, creating=False)
    assert len(errors[0].message) < 300


def test_every_problem_is_reported() -> None:
    errors = validate_native({"Type": "X", "Employees": "y"}, ACCOUNT, creating=True)
    assert [error.field for error in errors] == ["Name", "Type", "Employees"]


def test_whole_numbers_in_text_are_accepted_for_integer_fields() -> None:
    # Record ids travel as text at the connector interface (a lookup gives "42").
    assert validate_native({"Employees": "42"}, ACCOUNT, creating=False) == []
