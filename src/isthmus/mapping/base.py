"""The compiled form of one field rule: what every rule can do, both ways.

Invariant: ``read`` returns only this rule's ``canonical_paths()``, with values in
normalised flat form; ``write`` returns only this rule's ``native_fields()``. Errors
carry the rule's position, so a failed record points at the mapping line to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from isthmus.mapping.context import MappingContext
from isthmus.mapping.errors import MappingError
from isthmus.mapping.spec import FieldRule, MappingSpec
from isthmus.mapping.transforms.dates import zone
from isthmus.model.flat import Flat


class Rule:
    """Base of compiled rules; subclasses implement the four abstract methods."""

    def __init__(self, spec: FieldRule, mapping: MappingSpec) -> None:
        self.spec = spec
        self.mapping = mapping
        self.where = mapping.where(spec)

    def read(self, native: Mapping[str, Any], ctx: MappingContext) -> Flat:
        """Canonical paths -> flat values, from a native record."""
        raise NotImplementedError

    def write(self, flat: Mapping[str, Any], ctx: MappingContext, warnings: list[str]) -> Flat:
        """Native fields -> values, from a flat canonical record (missing paths are None)."""
        raise NotImplementedError

    def canonical_paths(self) -> tuple[str, ...]:
        raise NotImplementedError

    def native_fields(self) -> tuple[str, ...]:
        raise NotImplementedError

    def shared_fields(self) -> frozenset[str]:
        """Native fields other rules may write too (they must agree on the value)."""
        return frozenset()

    def native_field_for(self, path: str) -> str | None:
        """The native field holding ``path`` one to one, if any."""
        return None

    def timezone(self, ctx: MappingContext) -> tzinfo:
        """The zone for naive date-times: the rule's, else the mapping's, else the run's."""
        options = self.spec.transform.options if self.spec.transform else {}
        name = options.get("timezone") or self.mapping.timezone or ctx.default_timezone
        return zone(name)

    def locate(self, error: MappingError, field: str | None) -> MappingError:
        """``error`` naming ``field`` and the mapping line, for a fixable message."""
        located = MappingError(
            f"{error.message} (mapping {self.mapping.name}, rule at {self.where})",
            field=error.field or field,
            value=error.value,
        )
        return located
