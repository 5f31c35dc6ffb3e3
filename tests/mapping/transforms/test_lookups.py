"""Lookups through links: resolved both ways, never guessed."""

from __future__ import annotations

import pytest

from isthmus.errors import LookupUnresolved
from isthmus.mapping.transforms.lookups import NoLinks, to_canonical_id, to_native_id


class Links:
    def __init__(self, pairs: dict[tuple[str, str, str], str]) -> None:
        self.pairs = pairs

    def canonical_id(self, entity: str, system: str, native_id: str) -> str | None:
        return self.pairs.get((entity, system, native_id))

    def native_id(self, entity: str, canonical_id: str, system: str) -> str | None:
        for (known_entity, known_system, native), canonical in self.pairs.items():
            if (known_entity, known_system, canonical) == (entity, system, canonical_id):
                return native
        return None


LINKS = Links({("customer", "crm", "001A"): "c-1"})


def test_both_ways() -> None:
    assert to_canonical_id(LINKS, "customer", "crm", "001A", "AccountId") == "c-1"
    assert to_native_id(LINKS, "customer", "crm", "c-1", "AccountId") == "001A"


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_reference_is_none(empty: str | None) -> None:
    assert to_canonical_id(NoLinks(), "customer", "crm", empty, "AccountId") is None
    assert to_native_id(NoLinks(), "customer", "crm", empty, "AccountId") is None


def test_unlinked_reference_raises_lookup_unresolved() -> None:
    with pytest.raises(LookupUnresolved) as caught:
        to_canonical_id(LINKS, "customer", "crm", "001B", "AccountId")
    assert (caught.value.entity, caught.value.native_id, caught.value.field) == (
        "customer",
        "001B",
        "AccountId",
    )
    with pytest.raises(LookupUnresolved):
        to_native_id(LINKS, "customer", "erp", "c-1", "customer_no")
