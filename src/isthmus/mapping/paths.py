"""Canonical paths of an entity and the kind of value each holds.

A rule names a dotted canonical path ("billing_address", "credit_limit.amount"). This
module answers whether the path exists on the entity model and what kind of value it
carries, so the loader can refuse a typo and the mapper can coerce native values to the
one canonical form ("5" and 5 and Decimal("5.0") all become "5" for a decimal path).

Invariant: kinds are derived from the pydantic model annotations, never listed by hand,
so a field added to the model is mappable at once.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from isthmus.model.entities import ENTITY_TYPES

Kind = Literal["string", "boolean", "integer", "decimal", "date", "datetime", "list", "model"]


@dataclass(frozen=True)
class PathInfo:
    """What a canonical path holds."""

    kind: Kind
    # For model paths: the nested model type (PostalAddress, Money ...).
    model: type[BaseModel] | None = None
    # For Literal-typed paths: the allowed canonical values.
    choices: tuple[Any, ...] | None = None
    required: bool = False


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _info(annotation: Any, required: bool) -> PathInfo:
    inner, optional = _strip_optional(annotation)
    required = required and not optional
    if get_origin(inner) is Literal:
        return PathInfo("string", choices=get_args(inner), required=required)
    if get_origin(inner) in (tuple, list):
        return PathInfo("list", required=required)
    if isinstance(inner, type):
        if issubclass(inner, BaseModel):
            return PathInfo("model", model=inner, required=required)
        # bool before int: bool is a subclass of int.
        for python_type, kind in _KINDS:
            if issubclass(inner, python_type):
                return PathInfo(kind, required=required)
    return PathInfo("string", required=required)


_KINDS: tuple[tuple[type, Kind], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (Decimal, "decimal"),
    (datetime, "datetime"),
    (date, "date"),
    (str, "string"),
)


def path_info(entity: str, path: str) -> PathInfo | None:
    """The kind of a dotted canonical path on an entity, or None when it does not exist."""
    model: type[BaseModel] | None = ENTITY_TYPES.get(entity)
    info: PathInfo | None = None
    for part in path.split("."):
        if model is None or part not in model.model_fields or part == "entity_name":
            return None
        field = model.model_fields[part]
        info = _info(field.annotation, field.is_required())
        model = info.model
    return info


def known_paths(entity: str) -> list[str]:
    """Top-level and nested paths of an entity, for "did you mean" messages."""
    paths: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            if name == "entity_name":
                continue
            paths.append(prefix + name)
            info = _info(field.annotation, False)
            if info.model is not None:
                walk(info.model, f"{prefix}{name}.")

    entity_model = ENTITY_TYPES.get(entity)
    if entity_model is not None:
        walk(entity_model, "")
    return paths


def model_leaves(model: type[BaseModel]) -> list[str]:
    """Field names of a nested model (PostalAddress -> street, house_number, ...)."""
    return list(model.model_fields)
