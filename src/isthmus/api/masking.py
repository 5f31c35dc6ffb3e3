"""Masking of fields flagged ``sensitive: true`` in a mapping, for roles below operator.

Canonical paths are masked in bases, side-by-side views, audit values and review
details; native field names of the same rules are masked in dead-letter payloads
(which hold native records). A path is sensitive when it is a flagged path or lies
under one (``credit_limit.amount`` under ``credit_limit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isthmus.engine.engine import Engine
from isthmus.mapping.spec import MappingSpec

MASK = "***"


@dataclass(frozen=True)
class Sensitive:
    """Flagged paths of one installation: canonical per entity, native per flow."""

    canonical: Mapping[str, frozenset[str]]
    native: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, engine: Engine) -> Sensitive:
        canonical: dict[str, set[str]] = {}
        native: dict[str, set[str]] = {}
        for flow in engine.flows.values():
            for side in flow.sides.values():
                spec = side.mapper.spec
                canonical.setdefault(flow.entity, set()).update(spec.sensitive_paths())
                native.setdefault(flow.name, set()).update(_native_names(spec))
        return cls(
            {entity: frozenset(paths) for entity, paths in canonical.items()},
            {flow: frozenset(names) for flow, names in native.items()},
        )

    def paths(self, entity: str) -> frozenset[str]:
        return self.canonical.get(entity, frozenset())


def _native_names(spec: MappingSpec) -> set[str]:
    """Native fields of the flagged rules: a plain field, or every part of a composite."""
    names: set[str] = set()
    for rule in spec.fields:
        if not rule.sensitive:
            continue
        if rule.native:
            names.add(rule.native)
        for part in (rule.parts or {}).values():
            if part.field:
                names.add(part.field)
    return names


def is_sensitive(path: str | None, paths: frozenset[str]) -> bool:
    if not path or not paths:
        return False
    return path in paths or any(path.startswith(f"{flagged}.") for flagged in paths)


def mask_fields(values: Mapping[str, Any], paths: frozenset[str]) -> dict[str, Any]:
    """A copy of a flat record with its sensitive paths masked."""
    return {key: MASK if is_sensitive(key, paths) else value for key, value in values.items()}


def mask_nested(value: Any, paths: frozenset[str]) -> Any:
    """Mask inside free-form JSON (review details): a key naming a sensitive path, and
    every value beside a ``field``/``path`` entry naming one."""
    if isinstance(value, list):
        return [mask_nested(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    named = value.get("field", value.get("path"))
    if isinstance(named, str) and is_sensitive(named, paths):
        return {
            key: item if key in ("field", "path", "system", "systems") else MASK
            for key, item in value.items()
        }
    return {
        key: MASK if is_sensitive(str(key), paths) else mask_nested(item, paths)
        for key, item in value.items()
    }
