"""Flat canonical records: ``{"billing_address.city": "Lyon", "credit_limit.amount": "5000"}``.

The engine merges field by field, so it works on a flat mapping of dotted paths to
normalised JSON values. Normalisation makes equal business values equal as data:
``Decimal("12.50")`` and ``Decimal("12.5")`` are both ``"12.5"``, datetimes are UTC ISO
strings. That equality is what lets a value we wrote be recognised when it comes back
(echo suppression) and what makes content hashes stable.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from pydantic import BaseModel

FlatValue: TypeAlias = Any  # a JSON value: None, bool, int, str, list or dict of those
Flat: TypeAlias = dict[str, FlatValue]


def normalise_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def normalise_value(value: Any) -> FlatValue:
    """Return the canonical JSON form of a value (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return normalise_decimal(value)
    if isinstance(value, float):
        raise TypeError(f"floats are not canonical values (got {value!r}); use Decimal")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return {key: normalise_value(item) for key, item in _set_fields(value)}
    if isinstance(value, Mapping):
        return {str(key): normalise_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_value(item) for item in value]
    raise TypeError(f"cannot use a {type(value).__name__} as a canonical value: {value!r}")


def _set_fields(model: BaseModel) -> Iterable[tuple[str, Any]]:
    for name in type(model).model_fields:
        if name in model.model_fields_set and name != "entity_name":
            yield name, getattr(model, name)


def flatten(model: BaseModel) -> Flat:
    """Flatten the fields that were set on a model into dotted paths.

    Nested models become dotted paths; lists stay whole values (a list of order lines is
    compared as one value). A nested model set to ``None`` is the single path ``None``.
    """
    flat: Flat = {}
    for name, value in _set_fields(model):
        if isinstance(value, BaseModel):
            for sub_key, sub_value in flatten(value).items():
                flat[f"{name}.{sub_key}"] = sub_value
            if not value.model_fields_set:
                flat[name] = {}
        else:
            flat[name] = normalise_value(value)
    return flat


def unflatten(flat: Mapping[str, FlatValue]) -> dict[str, Any]:
    """Turn dotted paths back into nested dicts (the inverse of ``flatten``)."""
    nested: dict[str, Any] = {}
    for path in sorted(flat):
        parts = path.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if parts[-1] in node and isinstance(node[parts[-1]], dict) and flat[path] == {}:
            continue
        node[parts[-1]] = flat[path]
    return nested


def content_hash(flat: Mapping[str, FlatValue]) -> str:
    """A stable hash of a flat record, to tell a real change from a touched timestamp."""
    encoded = json.dumps(flat, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:32]


@functools.cache
def leaf_paths(model_type: type[BaseModel]) -> tuple[str, ...]:
    """Every dotted leaf path of a model type (nested models expanded, lists kept whole).

    Cached per type: ``expand`` needs it for every record the engine reads.
    """
    return tuple(_leaf_paths(model_type, ""))


def _leaf_paths(model_type: type[BaseModel], prefix: str) -> list[str]:
    paths: list[str] = []
    for name, info in model_type.model_fields.items():
        if name == "entity_name":
            continue
        nested = _nested_model(info.annotation)
        if nested is not None:
            paths.extend(_leaf_paths(nested, f"{prefix}{name}."))
        else:
            paths.append(f"{prefix}{name}")
    return paths


@functools.cache
def _children(model_type: type[BaseModel]) -> dict[str, tuple[str, ...]]:
    """Each nested-model prefix (``billing_address``) -> the leaf paths under it."""
    children: dict[str, list[str]] = {}
    for leaf in leaf_paths(model_type):
        parts = leaf.split(".")
        for depth in range(1, len(parts)):
            children.setdefault(".".join(parts[:depth]), []).append(leaf)
    return {prefix: tuple(leaves) for prefix, leaves in children.items()}


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def expand(flat: Mapping[str, FlatValue], model_type: type[BaseModel]) -> Flat:
    """Expand a nested model given as one path (``{"billing_address": None}``) into its
    leaf paths, so two systems' views of one record always use the same paths."""
    under = _children(model_type)
    expanded: Flat = {}
    for path, value in flat.items():
        children = under.get(path, ())
        if children and (value is None or value == {}):
            for child in children:
                expanded.setdefault(child, None)
        else:
            expanded[path] = value
    return expanded
