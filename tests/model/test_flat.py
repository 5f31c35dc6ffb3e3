"""Flat records: dotted paths, normalised values, stable hashes, exact round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.model import Customer, flatten, normalise_value, unflatten
from isthmus.model.flat import content_hash, expand, leaf_paths


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.50"), "12.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.00"), "0"),
        (Decimal("0.000100"), "0.0001"),
        (date(2026, 1, 2), "2026-01-02"),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-02T01:04:05Z",
        ),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
        (None, None),
        (True, True),
        ((Decimal("1.0"), "a"), ["1", "a"]),
    ],
)
def test_normalise_value(value: object, expected: object) -> None:
    assert normalise_value(value) == expected


def test_floats_are_not_canonical() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        normalise_value(0.1)


def test_flatten_keeps_only_fields_that_were_set() -> None:
    customer = Customer(
        name="Acme",
        billing_address={"city": "Lyon"},
        credit_limit={"amount": "5000.00", "currency": "EUR"},
    )
    assert flatten(customer) == {
        "name": "Acme",
        "billing_address.city": "Lyon",
        "credit_limit.amount": "5000",
        "credit_limit.currency": "EUR",
    }


def test_expand_gives_both_sides_the_same_paths() -> None:
    expanded = expand({"name": "x", "billing_address": None}, Customer)
    assert expanded["billing_address.city"] is None
    assert "billing_address" not in expanded
    assert set(leaf_paths(Customer)) >= set(expanded)


decimals = st.decimals(
    allow_nan=False,
    allow_infinity=False,
    places=4,
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
)
customers = st.builds(
    Customer,
    name=st.text(min_size=1, max_size=40),
    phone=st.none() | st.text(max_size=20),
    blocked=st.booleans(),
    credit_limit=st.none() | st.builds(lambda a: {"amount": a, "currency": "EUR"}, decimals),
    billing_address=st.none()
    | st.fixed_dictionaries({"street": st.text(max_size=20), "city": st.text(max_size=20)}),
)


@given(customers)
def test_flatten_round_trips_through_the_model(customer: Customer) -> None:
    rebuilt = Customer.model_validate(unflatten(flatten(customer)))
    assert flatten(rebuilt) == flatten(customer)


@given(decimals)
def test_equal_amounts_hash_equal_whatever_their_scale(amount: Decimal) -> None:
    scaled = amount.quantize(Decimal("0.0001"))
    assert content_hash({"a": normalise_value(amount)}) == content_hash(
        {"a": normalise_value(scaled)}
    )


def test_hash_is_independent_of_key_order() -> None:
    assert content_hash({"a": 1, "b": "x"}) == content_hash({"b": "x", "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": "1"})


def test_datetimes_are_utc() -> None:
    assert normalise_value(datetime(2026, 5, 1, 12, tzinfo=UTC)) == "2026-05-01T12:00:00Z"
