"""The mapper: a compiled mapping, native record <-> flat canonical record.

``to_canonical`` reads every rule that reads (direction both/to_canonical) and returns
the flat canonical view, in normalised form so it compares equal across systems.
``to_native`` takes a full merged flat record and returns every native field the
mapping writes (direction both/to_native), with warnings for truncation and rounding.

Invariant: for canonical values every native side can hold exactly,
``to_canonical(to_native(x))`` equals ``x`` on the paths the mapping both reads and
writes (property-tested with the example Salesforce-like and ERP-like mappings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isthmus.connectors.base import NativeFields
from isthmus.mapping.base import Rule
from isthmus.mapping.context import MappingContext
from isthmus.mapping.errors import MappingError, shorten
from isthmus.mapping.rules import build_rule
from isthmus.mapping.spec import DirectionFilter, MappingSpec
from isthmus.model.flat import Flat, normalise_value


@dataclass(frozen=True)
class MappedRecord:
    """A native record's canonical view, and what the mapping had to say about it."""

    fields: Flat
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MappedNative:
    """Native fields to write, and warnings (truncations, roundings) to report."""

    fields: NativeFields
    warnings: tuple[str, ...] = ()


class Mapper:
    """One mapping, compiled: native object <-> canonical entity."""

    def __init__(self, spec: MappingSpec) -> None:
        self.spec = spec
        self.rules: tuple[Rule, ...] = tuple(build_rule(rule, spec) for rule in spec.fields)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def entity(self) -> str:
        return self.spec.entity

    @property
    def object(self) -> str:
        return self.spec.object

    def to_canonical(self, native: Mapping[str, Any], ctx: MappingContext) -> MappedRecord:
        """The flat canonical view of a native record.

        Raises:
            MappingError: a value cannot be mapped (message says which and what to do).
            LookupUnresolved: a reference points at a record not linked yet.
        """
        flat: Flat = {}
        for rule in self.rules:
            if rule.spec.reads():
                flat.update(rule.read(native, ctx))
        return MappedRecord(flat)

    def to_native(self, flat: Mapping[str, Any], ctx: MappingContext) -> MappedNative:
        """Every native field this mapping writes, from a full flat canonical record.

        Raises:
            MappingError: a value cannot be written, or two rules disagree on a field.
            LookupUnresolved: a reference has no link to this system yet.
        """
        fields: NativeFields = {}
        warnings: list[str] = []
        for rule in self.rules:
            if rule.spec.writes():
                for name, value in rule.write(flat, ctx, warnings).items():
                    fields[name] = _merge(name, fields, value)
        return MappedNative(fields, tuple(warnings))

    def canonical_paths(self, direction: DirectionFilter | None = None) -> tuple[str, ...]:
        """Canonical paths the mapping reads (``to_canonical``), writes, or both (None)."""
        return tuple(
            dict.fromkeys(
                path for rule in self._rules(direction) for path in rule.canonical_paths()
            )
        )

    def native_fields(self, direction: DirectionFilter | None = None) -> tuple[str, ...]:
        """Native fields the mapping reads, writes (``to_native``), or both (None)."""
        return tuple(
            dict.fromkeys(name for rule in self._rules(direction) for name in rule.native_fields())
        )

    def native_field_for(self, path: str) -> str | None:
        """The native field that holds a canonical path one to one, if there is one."""
        for rule in self.rules:
            found = rule.native_field_for(path)
            if found is not None:
                return found
        return None

    def _rules(self, direction: DirectionFilter | None) -> list[Rule]:
        if direction == "to_canonical":
            return [rule for rule in self.rules if rule.spec.reads()]
        if direction == "to_native":
            return [rule for rule in self.rules if rule.spec.writes()]
        return list(self.rules)


def _merge(name: str, fields: NativeFields, value: Any) -> Any:
    # Only shared fields (a money rule's record currency) can be written twice; the
    # loader refuses any other overlap. An empty value yields to a set one.
    if name not in fields or value is None:
        return fields.get(name, value)
    current = fields[name]
    if current is None or normalise_value(current) == normalise_value(value):
        return value
    raise MappingError(
        f"rules write {shorten(current)} and {shorten(value)} to {name}; the record's "
        "amounts and its currency must agree (this system keeps one currency per record)",
        field=name,
        value=value,
    )
