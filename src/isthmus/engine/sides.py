"""One side of a flow: a system's connector, its native object, and the mapping to it.

This is the only place the engine turns native records into canonical views and back,
so the rules for that live together:
- a *view* is the flat canonical record a system holds (nested models expanded to leaf
  paths, so both sides use the same paths);
- a *projection* of a canonical record is the view this system would have after we
  wrote it there (its mapping may truncate or round), used to recognise our own writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from isthmus.connectors.base import Connector, NativeFields, ObjectDescription
from isthmus.engine.merge import same
from isthmus.engine.resolver import StoreResolver
from isthmus.mapping import Mapper, MappingContext
from isthmus.model.entities import CanonicalEntity
from isthmus.model.flat import Flat, expand, normalise_value


@dataclass
class SideBinding:
    system: str
    connector: Connector
    object_name: str
    mapper: Mapper
    entity_type: type[CanonicalEntity]
    description: ObjectDescription | None = None

    def context(self, resolver: StoreResolver) -> MappingContext:
        return MappingContext(system=self.system, resolver=resolver, description=self.description)

    def view(self, native: NativeFields, resolver: StoreResolver) -> Flat:
        """The canonical view of a native record (raises MappingError/LookupUnresolved)."""
        mapped = self.mapper.to_canonical(native, self.context(resolver))
        return expand(mapped.fields, self.entity_type)

    def to_native(self, flat: Flat, resolver: StoreResolver) -> tuple[NativeFields, list[str]]:
        """Native fields for a full canonical record, and the mapping's warnings."""
        mapped = self.mapper.to_native(_only(flat, self.writable_paths()), self.context(resolver))
        return dict(mapped.fields), list(mapped.warnings)

    def project(self, flat: Flat, resolver: StoreResolver) -> Flat:
        """What this side would hold, as a view, after ``flat`` was written to it."""
        native, _ = self.to_native(flat, resolver)
        projected = self.view(native, resolver)
        # Fields this side reads but does not write keep their value from ``flat``.
        for path in self.readable_paths() - self.writable_paths():
            if path in flat:
                projected[path] = flat[path]
        return projected

    @property
    def entity(self) -> str:
        """The canonical entity name (``customer``) this side maps."""
        return str(self.entity_type.model_fields["entity_name"].default)

    def readable_paths(self) -> frozenset[str]:
        return self._readable

    def writable_paths(self) -> frozenset[str]:
        return self._writable

    # The mapping and entity never change after binding, and ``to_native``/``project``
    # ask for these on every record: compute them once.
    @cached_property
    def _readable(self) -> frozenset[str]:
        return frozenset(
            expand(dict.fromkeys(self.mapper.canonical_paths("to_canonical")), self.entity_type)
        )

    @cached_property
    def _writable(self) -> frozenset[str]:
        return frozenset(
            expand(dict.fromkeys(self.mapper.canonical_paths("to_native")), self.entity_type)
        )

    def native_field_for(self, path: str) -> str | None:
        """The native field that holds a canonical path one to one, if there is one."""
        return self.mapper.native_field_for(path)


def _only(flat: Flat, paths: frozenset[str]) -> Flat:
    return {path: value for path, value in flat.items() if path in paths}


def native_changes(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> NativeFields:
    """The native fields of ``wanted`` that differ from ``current`` (as business values)."""
    changes: NativeFields = {}
    for name, value in wanted.items():
        if name not in current or not same(_norm(current[name]), _norm(value)):
            changes[name] = value
    return changes


def _norm(value: Any) -> Any:
    try:
        return normalise_value(value)
    except TypeError:
        return value
