"""The typed form of a mapping file: what the loader produces and the mapper compiles.

A mapping ties one native object of one system to one canonical entity, field by field.
Every rule remembers the line it came from, so errors found later (at load time or
when a record fails) can point at ``file.yaml:LINE``.

Invariant: a ``MappingSpec`` that exists has passed the JSON Schema and the semantic
checks of ``isthmus.mapping.checks``: its canonical paths exist on the entity, its
transforms are known, its value maps are reversible, its lookups name known entities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Direction = Literal["both", "to_canonical", "to_native"]
DirectionFilter = Literal["to_canonical", "to_native"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class TransformSpec:
    """A named transform and its options: ``transform: money`` or ``{decimal: {places: 2}}``."""

    name: str
    options: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class NativePart:
    """One part of a composite native side: a field name, or a constant value."""

    field: str | None = None
    constant: Any = None

    @property
    def is_constant(self) -> bool:
        return self.field is None


@dataclass(frozen=True)
class ValueMapSpec:
    """``value_map`` (native -> canonical) and the optional explicit ``reverse``."""

    forward: tuple[tuple[Any, Any], ...]
    reverse: tuple[tuple[Any, Any], ...] | None = None


@dataclass(frozen=True)
class FieldRule:
    """One ``fields:`` entry. Exactly one shape applies (see docs/mappings.md):

    - plain: ``canonical`` + ``native`` (a field name), optionally value_map / lookup /
      a scalar transform (decimal, date, datetime, currency) / truncate / trim;
    - composite: ``canonical`` + ``native`` parts + a composite transform
      (address_block, address_structured, money);
    - constant: ``constant`` + exactly one of ``canonical`` (read side) or ``native``.
    """

    line: int
    # Line of each key of the rule ("transform" -> 14), for precise error positions.
    key_lines: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    canonical: str | None = None
    native: str | None = None
    parts: Mapping[str, NativePart] | None = None
    direction: Direction = "both"
    transform: TransformSpec | None = None
    value_map: ValueMapSpec | None = None
    lookup: str | None = None
    has_constant: bool = False
    constant: Any = None
    truncate: bool = False
    max_length: int | None = None
    trim: bool = False
    # Masked in control-plane answers for roles below operator (credit limits, balances,
    # payment data) and never logged; the sync itself treats it like any other field.
    sensitive: bool = False

    def reads(self) -> bool:
        """Whether the rule takes part in native -> canonical."""
        return self.direction in ("both", "to_canonical")

    def writes(self) -> bool:
        """Whether the rule takes part in canonical -> native."""
        return self.direction in ("both", "to_native")

    def label(self) -> str:
        """How messages name this rule: its canonical path, else its native field."""
        return self.canonical or self.native or "(rule)"


@dataclass(frozen=True)
class MappingSpec:
    """A whole mapping file."""

    name: str
    entity: str
    object: str
    fields: tuple[FieldRule, ...]
    source: str = "<string>"
    line: int = 1
    # IANA zone for naive native date-times, unless a rule names its own.
    timezone: str | None = None
    description: str | None = None
    key_lines: Mapping[str, int] = field(default_factory=lambda: _EMPTY)

    def sensitive_paths(self) -> frozenset[str]:
        """Canonical paths of the rules flagged ``sensitive: true``."""
        return frozenset(r.canonical for r in self.fields if r.sensitive and r.canonical)

    def where(self, rule: FieldRule | None = None, key: str | None = None) -> str:
        """``file:line`` of a rule's key, of a rule, or of the mapping (or its key)."""
        if rule is None:
            return f"{self.source}:{self.key_lines.get(key, self.line) if key else self.line}"
        line = rule.key_lines.get(key, rule.line) if key else rule.line
        return f"{self.source}:{line}"
