"""``$filter`` parsing and evaluation against dict records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isthmus.protocols.odata import FilterSyntaxError, evaluate_filter, parse_filter

RECORD = {
    "id": "5d115c9c-44e3-ea11-bb43-000d3a2feca1",
    "number": "C00010",
    "displayName": "Adatum Corporation",
    "balance": Decimal("1250.50"),
    "blocked": False,
    "lastModifiedDateTime": "2024-03-01T10:00:00Z",
    "address": {"city": "Atlanta"},
    "email": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("number eq 'C00010'", True),
        ("number ne 'C00010'", False),
        ("balance gt 1000", True),
        ("balance le 1250.5", True),
        ("balance lt 1250.5", False),
        ("balance ge 1250.51", False),
        ("blocked eq false", True),
        ("email eq null", True),
        ("email gt 'a'", False),
        ("lastModifiedDateTime gt 2024-02-29T23:59:59Z", True),
        ("lastModifiedDateTime lt 2024-03-01T10:00:00+00:00", False),
        ("lastModifiedDateTime ge 2024-03-01", True),
        ("id eq 5D115C9C-44E3-EA11-BB43-000D3A2FECA1", True),
        ("contains(displayName, 'datum')", True),
        ("startswith(displayName, 'Ada') and not blocked", True),
        ("endswith(displayName, 'Ltd') or balance gt 5000", False),
        ("not (balance gt 1000 and number eq 'X')", True),
        ("address/city eq 'Atlanta'", True),
        ("displayName eq 'O''Brien'", False),
    ],
)
def test_filter_evaluates(expression: str, expected: bool) -> None:
    assert evaluate_filter(parse_filter(expression), RECORD) is expected


def test_quoted_apostrophe_is_unescaped() -> None:
    assert evaluate_filter(parse_filter("name eq 'O''Brien'"), {"name": "O'Brien"})


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter("a eq 1 or a eq 2 and b eq 3")
    assert evaluate_filter(node, {"a": 1, "b": 0})
    assert not evaluate_filter(node, {"a": 2, "b": 0})


@pytest.mark.parametrize(
    "expression", ["number eq", "(number eq 'x'", "number eq 'x' 'y'", "contains(a)", "a ~ b"]
)
def test_malformed_filters_are_refused(expression: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse_filter(expression)
