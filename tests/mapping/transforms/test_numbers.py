"""Decimals and currencies: floats refused, rounding explicit, normalisation idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.mapping.errors import MappingError
from isthmus.mapping.transforms.numbers import (
    ROUNDING_MODES,
    quantize,
    to_currency,
    to_decimal,
)
from isthmus.model.flat import normalise_value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        (5, Decimal(5)),
        (Decimal("1.1"), Decimal("1.1")),
        (" 3 ", Decimal(3)),
        ("1_000.5", Decimal("1000.5")),
        (None, None),
        ("", None),
    ],
)
def test_to_decimal(raw: object, expected: Decimal | None) -> None:
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("raw", [1.5, "abc", True, "NaN", [1]])
def test_to_decimal_refuses(raw: object) -> None:
    with pytest.raises(MappingError):
        to_decimal(raw)


def test_float_error_says_how_to_fix() -> None:
    with pytest.raises(MappingError, match="parse JSON numbers as Decimal"):
        to_decimal(0.1)


@pytest.mark.parametrize(
    ("value", "places", "rounding", "expected"),
    [
        ("2.345", 2, "half_even", "2.34"),
        ("2.355", 2, "half_even", "2.36"),
        ("2.345", 2, "half_up", "2.35"),
        ("-2.345", 2, "half_up", "-2.35"),
        ("2.349", 2, "down", "2.34"),
        ("2.341", 2, "ceiling", "2.35"),
        ("7", 2, "half_even", "7.00"),
        ("12345678901234567890123456789.5", 0, "half_even", "12345678901234567890123456790"),
    ],
)
def test_quantize(value: str, places: int, rounding: str, expected: str) -> None:
    assert str(quantize(Decimal(value), places, rounding)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"), [("eur", "EUR"), (" usd ", "USD"), (None, None), ("", None)]
)
def test_to_currency(raw: str | None, expected: str | None) -> None:
    assert to_currency(raw) == expected


@pytest.mark.parametrize("raw", ["EURO", "€", 978])
def test_to_currency_refuses(raw: object) -> None:
    with pytest.raises(MappingError, match="ISO 4217"):
        to_currency(raw)


DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12)


@given(DECIMALS, st.integers(0, 6), st.sampled_from(sorted(ROUNDING_MODES)))
def test_quantize_is_idempotent(value: Decimal, places: int, rounding: str) -> None:
    once = quantize(value, places, rounding)  # type: ignore[arg-type]
    assert quantize(once, places, rounding) == once  # type: ignore[arg-type]
    assert abs(once - value) <= Decimal(1).scaleb(-places)


@given(DECIMALS)
def test_decimal_normalisation_is_idempotent_and_keeps_the_value(value: Decimal) -> None:
    once = normalise_value(to_decimal(value))
    assert normalise_value(to_decimal(once)) == once
    assert Decimal(once) == value
    assert "E" not in once
    assert once == "0" or not once.endswith("0") or "." not in once
