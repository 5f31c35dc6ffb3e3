"""The money rule: an amount field and its currency (a field or a constant) <-> Money.

Invariant: an amount never travels without its currency. A constant currency is
checked on the way out: writing a USD amount into a system that holds EUR amounts is a
``MappingError``, not a silent relabelling. A currency field may be shared with other
rules (Salesforce keeps one ``CurrencyIsoCode`` per record); the mapper checks that
all writers agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from isthmus.mapping.base import Rule
from isthmus.mapping.context import MappingContext
from isthmus.mapping.errors import MappingError
from isthmus.mapping.spec import FieldRule, MappingSpec
from isthmus.mapping.transforms import numbers
from isthmus.model.flat import Flat, normalise_value


class MoneyRule(Rule):
    """``transform: money`` with ``native: {amount: F, currency: F | {constant: EUR}}``."""

    def __init__(self, spec: FieldRule, mapping: MappingSpec) -> None:
        super().__init__(spec, mapping)
        assert spec.canonical is not None
        assert spec.parts is not None
        self.base = spec.canonical
        amount = spec.parts["amount"].field
        assert amount is not None
        self.amount_field = amount
        currency = spec.parts["currency"]
        self.currency_field = currency.field
        self.constant = None if currency.field else numbers.to_currency(currency.constant)
        self.options: Mapping[str, Any] = spec.transform.options if spec.transform else {}

    def canonical_paths(self) -> tuple[str, ...]:
        return (f"{self.base}.amount", f"{self.base}.currency")

    def native_fields(self) -> tuple[str, ...]:
        fields = [self.amount_field]
        if self.currency_field:
            fields.append(self.currency_field)
        return tuple(fields)

    def shared_fields(self) -> frozenset[str]:
        return frozenset({self.currency_field}) if self.currency_field else frozenset()

    def native_field_for(self, path: str) -> str | None:
        if path == f"{self.base}.amount":
            return self.amount_field
        return self.currency_field if path == f"{self.base}.currency" else None

    def read(self, native: Mapping[str, Any], ctx: MappingContext) -> Flat:
        try:
            amount = numbers.to_decimal(native.get(self.amount_field))
            if amount is None:
                return {f"{self.base}.amount": None, f"{self.base}.currency": None}
            currency = self.constant or numbers.to_currency(native.get(self.currency_field or ""))
        except MappingError as error:
            raise self.locate(error, self.amount_field) from None
        if currency is None:
            raise self.locate(
                MappingError(
                    f"{self.amount_field} has an amount but {self.currency_field} is empty; "
                    "fill it at the source or set currency: {constant: XXX} in the mapping",
                    value=native.get(self.amount_field),
                ),
                self.currency_field,
            )
        amount = self._round(amount, None)
        return {f"{self.base}.amount": normalise_value(amount), f"{self.base}.currency": currency}

    def write(self, flat: Mapping[str, Any], ctx: MappingContext, warnings: list[str]) -> Flat:
        try:
            amount = numbers.to_decimal(flat.get(f"{self.base}.amount"))
            currency = numbers.to_currency(flat.get(f"{self.base}.currency"))
        except MappingError as error:
            raise self.locate(error, self.amount_field) from None
        if amount is not None and self.constant and currency not in (None, self.constant):
            raise self.locate(
                MappingError(
                    f"{self.base} is in {currency} but this system holds {self.base} only in "
                    f"{self.constant}; convert it at the source or map another currency field",
                    value=f"{amount} {currency}",
                ),
                self.amount_field,
            )
        out: Flat = {self.amount_field: None if amount is None else self._round(amount, warnings)}
        if self.currency_field:
            out[self.currency_field] = currency if amount is not None else None
        return out

    def _round(self, amount: Decimal, warnings: list[str] | None) -> Decimal:
        places = self.options.get("places")
        if places is None:
            return amount
        rounded = numbers.quantize(amount, int(places), self.options.get("rounding", "half_even"))
        if warnings is not None and rounded != amount:
            warnings.append(numbers.rounding_warning(self.amount_field, amount, rounded))
        return rounded
