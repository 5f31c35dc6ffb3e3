"""Street block split/join: table tests for real shapes, properties for both round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.mapping.transforms.address import (
    NumberOrder,
    StreetParts,
    join_block,
    normalise_block,
    number_order,
    split_block,
)

TABLE = [
    ("12 Main St", "first", StreetParts("Main St", "12")),
    ("Main St 12", "last", StreetParts("Main St", "12")),
    ("12b Baker Street", "first", StreetParts("Baker Street", "12b")),
    ("Hauptstraße 5a", "last", StreetParts("Hauptstraße", "5a")),
    ("Rue de la Loi 16", "last", StreetParts("Rue de la Loi", "16")),
    ("Keizersgracht 12-14", "last", StreetParts("Keizersgracht", "12-14")),
    ("12 Main St\nSuite 400", "first", StreetParts("Main St", "12", ("Suite 400",))),
    (
        "c/o Finance\n12 Main St\nSuite 400",
        "first",
        StreetParts("Main St", "12", ("c/o Finance", "Suite 400")),
    ),
    ("Attn: Payables\nMain St 1", "last", StreetParts("Main St", "1", ("Attn: Payables",))),
    ("PO Box 1234", "first", StreetParts("PO Box 1234")),
    ("Postfach 12 34", "last", StreetParts("Postfach 12 34")),
    ("P.O. Box 77\nSuite 3", "first", StreetParts("P.O. Box 77", None, ("Suite 3",))),
    ("42", "first", StreetParts(None, "42")),
    ("c/o Someone", "first", StreetParts(None, None, ("c/o Someone",))),
    # House number not where the country writes it: the line stays whole, never moved.
    ("Main St 12", "first", StreetParts("Main St 12")),
    ("12 Main St", "last", StreetParts("12 Main St")),
    # A care-of line after the street line: keep every line, in order, as extra lines.
    ("12 Main St\nc/o X", "first", StreetParts(None, None, ("12 Main St", "c/o X"))),
    ("", "first", StreetParts()),
    (None, "first", StreetParts()),
    ("  12   Main St \n\n  Suite 4 ", "first", StreetParts("Main St", "12", ("Suite 4",))),
]


@pytest.mark.parametrize(("block", "order", "expected"), TABLE)
def test_split_block(block: str | None, order: NumberOrder, expected: StreetParts) -> None:
    assert split_block(block, order) == expected


@pytest.mark.parametrize(("block", "order", "expected"), TABLE)
def test_join_is_the_inverse(block: str | None, order: NumberOrder, expected: StreetParts) -> None:
    assert join_block(expected, order) == normalise_block(block)


@pytest.mark.parametrize(
    ("country", "expected"),
    [("US", "first"), ("de", "last"), ("NL", "last"), ("FR", "first"), (None, "first")],
)
def test_number_order_by_country(country: str | None, expected: str) -> None:
    assert number_order(country) == expected


WORDS = st.sampled_from(
    [
        "Main",
        "St",
        "Hauptstraße",
        "Rue",
        "de",
        "la",
        "Paix",
        "Suite",
        "400",
        "c/o",
        "Finance",
        "PO",
        "Box",
        "Attn:",
        "12",
        "5a",
        "12-14",
        "Building",
        "B",
        "z.",
        "Hd.",
        "Apt",
        "#3",
        "Route",
        "66",
        "Ävenue",
        "x",
    ]
)
LINES = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
SPACES = st.sampled_from([" ", "  ", "\t", ""])
BLOCKS = st.lists(st.tuples(SPACES, LINES, SPACES), max_size=5).map(
    lambda lines: "\n".join(f"{a}{line}{b}" for a, line, b in lines)
)
ORDERS: st.SearchStrategy[NumberOrder] = st.sampled_from(["first", "last"])


@given(BLOCKS, ORDERS)
def test_block_structured_block_keeps_the_block(block: str, order: NumberOrder) -> None:
    parts = split_block(block, order)
    assert join_block(parts, order) == normalise_block(block)


@given(BLOCKS, ORDERS)
def test_structured_block_structured_is_exact(block: str, order: NumberOrder) -> None:
    parts = split_block(block, order)
    again = split_block(join_block(parts, order), order)
    assert again == parts


@given(st.text(), ORDERS)
def test_any_text_round_trips(block: str, order: NumberOrder) -> None:
    parts = split_block(block, order)
    assert join_block(parts, order) == normalise_block(block)
    assert split_block(join_block(parts, order), order) == parts
