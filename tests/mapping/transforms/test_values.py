"""Value maps: table tests for lookups and errors, a property for the round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.mapping.errors import MappingError
from isthmus.mapping.transforms.values import ValueMap

TERMS = ValueMap.build({"Net 30": "net_30", "Net 60": "net_60"})


@pytest.mark.parametrize(
    ("native", "canonical"), [("Net 30", "net_30"), ("Net 60", "net_60"), (None, None), ("", None)]
)
def test_to_canonical(native: str | None, canonical: str | None) -> None:
    assert TERMS.to_canonical(native) == canonical


def test_unmapped_native_value_names_value_and_allowed_values() -> None:
    with pytest.raises(MappingError) as caught:
        TERMS.to_canonical("Net 45")
    message = str(caught.value)
    assert "'Net 45'" in message
    assert "'Net 30', 'Net 60'" in message
    assert "add it to value_map" in message
    assert caught.value.value == "Net 45"


def test_unmapped_canonical_value() -> None:
    with pytest.raises(MappingError, match="canonical value 'net_90'"):
        TERMS.to_native("net_90")


def test_ambiguous_map_needs_reverse() -> None:
    with pytest.raises(ValueError, match="add reverse"):
        ValueMap.build({"N30": "net_30", "NET30": "net_30"})
    both = ValueMap.build({"N30": "net_30", "NET30": "net_30"}, {"net_30": "N30"})
    assert both.to_canonical("NET30") == "net_30"
    assert both.to_native("net_30") == "N30"


def test_reverse_must_cover_every_canonical_value() -> None:
    with pytest.raises(ValueError, match="'net_60'"):
        ValueMap.build({"N30": "net_30", "N60": "net_60"}, {"net_30": "N30"})


def test_yaml_text_keys_match_native_numbers_but_bools_stay_apart() -> None:
    tiers = ValueMap.build({"1": "gold", "2": "silver"})
    assert tiers.to_canonical(1) == "gold"
    flags = ValueMap.build({" ": False, "All": True})
    assert flags.to_canonical(" ") is False
    assert flags.to_native(True) == "All"
    typed = ValueMap.build({1: True, 0: False})
    assert typed.to_native(False) == 0
    assert typed.to_canonical(1) is True


def test_listed_empty_value_has_its_meaning() -> None:
    assert ValueMap.build({"": "none", "X": "x"}).to_canonical("") == "none"


PAIRS = st.dictionaries(st.text(min_size=1), st.text(min_size=1), min_size=1).filter(
    lambda forward: len(set(forward.values())) == len(forward)
)


@given(PAIRS)
def test_one_to_one_map_round_trips(forward: dict[str, str]) -> None:
    values = ValueMap.build(forward)
    for native, canonical in forward.items():
        assert values.to_canonical(native) == canonical
        assert values.to_native(values.to_canonical(native)) == native
