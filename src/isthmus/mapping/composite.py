"""Composite rules: one canonical model (an address, an amount) <-> several native fields.

- ``address_block``: a CRM street block plus postal code, city, region, country columns;
  the block is split into street, house number and extra lines (``transforms.address``).
- ``address_structured``: an ERP address with one column per part.
- ``money``: an amount field plus a currency field or a constant currency.

Invariant: ``read`` always returns every path of ``canonical_paths()`` (None when empty,
``[]`` for no extra lines), so two systems' views of one address use the same paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from isthmus.mapping.base import Rule
from isthmus.mapping.context import MappingContext
from isthmus.mapping.errors import MappingError, shorten
from isthmus.mapping.spec import FieldRule, MappingSpec
from isthmus.mapping.transforms import address
from isthmus.model.address import PostalAddress
from isthmus.model.flat import Flat

_STREET_PARTS = ("street", "house_number", "extra_lines")


def _text(value: Any) -> str | None:
    """A plain address part: text, or None when empty (postal codes may come as ints)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(f"expected text, got {shorten(value)}", value=value)
    return str(value)


def _country(value: Any) -> str | None:
    # Same rule as PostalAddress.country, so the flat value equals the model's.
    text = _text(value)
    return PostalAddress(country=text).country if text is not None else None


class _PartsRule(Rule):
    """Shared part bookkeeping of composite rules."""

    def __init__(self, spec: FieldRule, mapping: MappingSpec) -> None:
        super().__init__(spec, mapping)
        assert spec.canonical is not None
        assert spec.parts is not None
        self.base = spec.canonical
        self.fields = {name: part.field for name, part in spec.parts.items() if part.field}

    def native_fields(self) -> tuple[str, ...]:
        return tuple(self.fields.values())

    def native_field_for(self, path: str) -> str | None:
        prefix, _, part = path.rpartition(".")
        return self.fields.get(part) if prefix == self.base else None

    def read_part(self, native: Mapping[str, Any], part: str) -> str | None:
        field = self.fields[part]
        try:
            return _country(native.get(field)) if part == "country" else _text(native.get(field))
        except MappingError as error:
            raise self.locate(error, field) from None


class AddressStructuredRule(_PartsRule):
    """One native column per address part; extra lines share one column, one per line."""

    def canonical_paths(self) -> tuple[str, ...]:
        return tuple(f"{self.base}.{part}" for part in self.fields)

    def read(self, native: Mapping[str, Any], ctx: MappingContext) -> Flat:
        flat: Flat = {}
        for part in self.fields:
            if part == "extra_lines":
                raw = self.read_part(native, part)
                flat[f"{self.base}.{part}"] = list(address.split_extra_lines(raw))
            else:
                flat[f"{self.base}.{part}"] = self.read_part(native, part)
        return flat

    def write(self, flat: Mapping[str, Any], ctx: MappingContext, warnings: list[str]) -> Flat:
        out: Flat = {}
        for part, field in self.fields.items():
            value = flat.get(f"{self.base}.{part}")
            out[field] = address.join_extra_lines(value or []) if part == "extra_lines" else value
        return out


class AddressBlockRule(_PartsRule):
    """A street block column (split/joined) plus one column per other part."""

    def canonical_paths(self) -> tuple[str, ...]:
        others = [part for part in self.fields if part != "block"]
        return tuple(f"{self.base}.{part}" for part in (*_STREET_PARTS, *others))

    def order(self, country: str | None) -> address.NumberOrder:
        options = self.spec.transform.options if self.spec.transform else {}
        default: address.NumberOrder = options.get("default", "first")
        setting = options.get("house_number", "by_country")
        if setting in ("first", "last"):
            order: address.NumberOrder = setting
            return order
        return address.number_order(country, default)

    def read(self, native: Mapping[str, Any], ctx: MappingContext) -> Flat:
        flat: Flat = {}
        for part in self.fields:
            if part != "block":
                flat[f"{self.base}.{part}"] = self.read_part(native, part)
        block = self.read_part(native, "block")
        street = address.split_block(block, self.order(flat.get(f"{self.base}.country")))
        flat[f"{self.base}.street"] = street.street
        flat[f"{self.base}.house_number"] = street.house_number
        flat[f"{self.base}.extra_lines"] = list(street.extra_lines)
        return flat

    def write(self, flat: Mapping[str, Any], ctx: MappingContext, warnings: list[str]) -> Flat:
        out: Flat = {}
        for part, field in self.fields.items():
            if part != "block":
                out[field] = flat.get(f"{self.base}.{part}")
        street = address.StreetParts(
            flat.get(f"{self.base}.street"),
            flat.get(f"{self.base}.house_number"),
            tuple(flat.get(f"{self.base}.extra_lines") or ()),
        )
        out[self.fields["block"]] = address.join_block(
            street, self.order(flat.get(f"{self.base}.country"))
        )
        return out
