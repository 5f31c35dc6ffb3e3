"""Plain rules: one canonical path <-> one native field, through at most one step.

The step is a lookup (through links), a value map, or a scalar transform (decimal,
date, datetime, currency); then the value is coerced to the path's canonical kind.
On the way out, text is trimmed when asked and truncated to the target length when
asked, with a warning for every cut.

Invariant: for values the native side can hold exactly (no truncation, no rounding),
``read(write(x)) == x``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from isthmus.mapping.base import Rule
from isthmus.mapping.coerce import flat_date, flat_datetime, to_canonical_value, to_native_default
from isthmus.mapping.context import MappingContext
from isthmus.mapping.errors import MappingError
from isthmus.mapping.paths import PathInfo, path_info
from isthmus.mapping.spec import FieldRule, MappingSpec
from isthmus.mapping.transforms import dates, lookups, numbers, text
from isthmus.mapping.transforms.values import ValueMap
from isthmus.model.flat import Flat


class PlainRule(Rule):
    """``canonical: x`` + ``native: Y`` with optional lookup, value map or transform."""

    def __init__(self, spec: FieldRule, mapping: MappingSpec) -> None:
        super().__init__(spec, mapping)
        assert spec.canonical is not None
        assert spec.native is not None
        self.path = spec.canonical
        self.field = spec.native
        info = path_info(mapping.entity, spec.canonical)
        assert info is not None
        self.info: PathInfo = info
        self.options: Mapping[str, Any] = spec.transform.options if spec.transform else {}
        self.values = (
            ValueMap.build(
                dict(spec.value_map.forward),
                dict(spec.value_map.reverse) if spec.value_map.reverse else None,
            )
            if spec.value_map
            else None
        )

    def canonical_paths(self) -> tuple[str, ...]:
        return (self.path,)

    def native_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def native_field_for(self, path: str) -> str | None:
        return self.field if path == self.path else None

    def read(self, native: Mapping[str, Any], ctx: MappingContext) -> Flat:
        raw = native.get(self.field)
        if self.spec.trim and isinstance(raw, str):
            raw = text.trim(raw)
        try:
            value = self._step_in(raw, ctx)
            return {self.path: to_canonical_value(value, self.info, self.timezone(ctx))}
        except MappingError as error:
            raise self.locate(error, self.field) from None

    def _step_in(self, raw: Any, ctx: MappingContext) -> Any:
        if self.spec.lookup is not None:
            return lookups.to_canonical_id(
                ctx.resolver, self.spec.lookup, ctx.system, raw, self.field
            )
        if self.values is not None:
            return self.values.to_canonical(raw)
        name = self.spec.transform.name if self.spec.transform else None
        tz = self.timezone(ctx)
        formats = tuple(self.options.get("formats", ()))
        if name == "decimal":
            number = numbers.to_decimal(raw)
            return None if number is None else self._round(number, None)
        if name == "date":
            return dates.parse_date(raw, tz, formats)
        if name == "datetime":
            return dates.parse_datetime(raw, tz, formats)
        if name == "currency":
            return numbers.to_currency(raw)
        return raw

    def write(self, flat: Mapping[str, Any], ctx: MappingContext, warnings: list[str]) -> Flat:
        value = flat.get(self.path)
        try:
            out = self._step_out(value, ctx, warnings)
        except MappingError as error:
            raise self.locate(error, self.field) from None
        if isinstance(out, str):
            out = self._fit(out, ctx, warnings)
        return {self.field: out}

    def _step_out(self, value: Any, ctx: MappingContext, warnings: list[str]) -> Any:
        if self.spec.lookup is not None:
            return lookups.to_native_id(
                ctx.resolver, self.spec.lookup, ctx.system, value, self.field
            )
        if self.values is not None:
            return self.values.to_native(value)
        name = self.spec.transform.name if self.spec.transform else None
        if value is None:
            return None
        fmt = str(self.options.get("format", "iso"))
        if name == "decimal":
            number = numbers.to_decimal(value)
            return None if number is None else self._round(number, warnings)
        if name == "date":
            day = flat_date(value)
            return None if day is None else dates.format_date(day, fmt)
        if name == "datetime":
            return self._datetime_out(value, self.timezone(ctx), fmt)
        return to_native_default(value, self.info)

    def _datetime_out(self, value: Any, tz: tzinfo, fmt: str) -> str | None:
        instant = flat_datetime(value)
        return None if instant is None else dates.format_datetime(instant, tz, fmt)

    def _round(self, number: Decimal, warnings: list[str] | None) -> Decimal:
        places = self.options.get("places")
        if places is None:
            return number
        rounded = numbers.quantize(number, int(places), self.options.get("rounding", "half_even"))
        if warnings is not None and rounded != number:
            warnings.append(numbers.rounding_warning(self.field, number, rounded))
        return rounded

    def _fit(self, out: str, ctx: MappingContext, warnings: list[str]) -> str:
        if self.spec.trim:
            out = text.trim(out)
        if not self.spec.truncate:
            return out
        length = self.spec.max_length or _described_length(ctx, self.field)
        if length is None:
            return out
        cut = text.truncate(out, length)
        if cut.cut:
            warnings.append(text.truncation_warning(self.field, out, length))
        return cut.text


def _described_length(ctx: MappingContext, field: str) -> int | None:
    if ctx.description is None:
        return None
    described = ctx.description.field(field)
    return described.length if described is not None else None


class ConstantRule(Rule):
    """``constant: V`` with ``canonical:`` (every record reads V) or ``native:`` (writes V)."""

    def canonical_paths(self) -> tuple[str, ...]:
        return (self.spec.canonical,) if self.spec.canonical else ()

    def native_fields(self) -> tuple[str, ...]:
        return (self.spec.native,) if self.spec.native else ()

    def read(self, native: Mapping[str, Any], ctx: MappingContext) -> Flat:
        if self.spec.canonical is None:
            return {}
        info = path_info(self.mapping.entity, self.spec.canonical)
        assert info is not None
        try:
            value = to_canonical_value(self.spec.constant, info, self.timezone(ctx))
        except MappingError as error:
            raise self.locate(error, self.spec.canonical) from None
        return {self.spec.canonical: value}

    def write(self, flat: Mapping[str, Any], ctx: MappingContext, warnings: list[str]) -> Flat:
        return {self.spec.native: self.spec.constant} if self.spec.native else {}
