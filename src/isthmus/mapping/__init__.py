"""Mappings: declarative rules, native object <-> canonical entity, field by field.

A mapping is a YAML file (grammar in docs/mappings.md, shape in mapping.schema.json)
loaded into a checked ``MappingSpec`` and compiled into a ``Mapper``. Transforms are
small named pure functions (``isthmus.mapping.transforms``); ``validate_native`` checks
native fields against the target's description before a write.

Invariant: mapping never performs I/O; references go through a ``LinkResolver``.
"""

from __future__ import annotations

from isthmus.mapping.context import MappingContext
from isthmus.mapping.errors import MappingError
from isthmus.mapping.loader import load_mapping, load_mappings, parse_mapping
from isthmus.mapping.mapper import MappedNative, MappedRecord, Mapper
from isthmus.mapping.spec import FieldRule, MappingSpec
from isthmus.mapping.transforms.lookups import LinkResolver, NoLinks
from isthmus.mapping.validate import validate_native

__all__ = [
    "FieldRule",
    "LinkResolver",
    "MappedNative",
    "MappedRecord",
    "Mapper",
    "MappingContext",
    "MappingError",
    "MappingSpec",
    "NoLinks",
    "load_mapping",
    "load_mappings",
    "parse_mapping",
    "validate_native",
]
