"""Truncation: never longer than the length, a warning exactly when it cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.mapping.transforms.text import trim, truncate, truncation_warning


@pytest.mark.parametrize(
    ("text", "length", "marker", "expected", "cut"),
    [
        ("Acme", 10, "", "Acme", False),
        ("Acme", 4, "", "Acme", False),
        ("Acme Corp", 4, "", "Acme", True),
        ("Acme Corp", 6, "…", "Acme …", True),
        ("Acme Corp", 1, "…", "A", True),
        ("", 0, "", "", False),
    ],
)
def test_truncate(text: str, length: int, marker: str, expected: str, cut: bool) -> None:
    result = truncate(text, length, marker=marker)
    assert (result.text, result.cut) == (expected, cut)


def test_negative_length_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        truncate("x", -1)


def test_trim_only_strips_ends() -> None:
    assert trim("  a  b \n") == "a  b"


def test_warning_names_field_and_lengths() -> None:
    warning = truncation_warning("Name", "x" * 90, 83)
    assert "Name" in warning
    assert "90" in warning
    assert "83" in warning


@given(st.text(), st.integers(0, 300), st.sampled_from(["", "…", "..."]))
def test_truncate_never_exceeds_and_flags_exactly_the_cuts(
    text: str, length: int, marker: str
) -> None:
    result = truncate(text, length, marker=marker)
    assert len(result.text) <= length
    assert result.cut == (len(text) > length)
    if not result.cut:
        assert result.text == text
