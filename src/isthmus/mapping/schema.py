"""The JSON Schema of mapping files, and its errors turned into advice.

The schema (``mapping.schema.json``, shipped with the package so editors can use it)
checks the shape of a file; ``isthmus.mapping.checks`` then checks the meaning.

Invariant: every schema violation becomes one ``ConfigError`` at the line of the
deepest offending key, with a message saying what to write instead (a close key name
when the key looks like a typo), never jsonschema's raw wording alone.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from isthmus.errors import ConfigError
from isthmus.yamlsource import YamlDocument


@cache
def mapping_schema() -> dict[str, Any]:
    """The mapping file JSON Schema (loaded once)."""
    text = resources.files("isthmus.mapping").joinpath("mapping.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def check_schema(document: YamlDocument, schema: dict[str, Any] | None = None) -> None:
    """Raise ConfigError for the most relevant violation of ``schema`` in ``document``."""
    data = document.data
    if not isinstance(data, dict):
        raise ConfigError(
            "a mapping file is a YAML mapping with name:, entity:, object: and fields:",
            where=f"{document.source}:1",
        )
    validator = jsonschema.Draft202012Validator(schema or mapping_schema())
    error = best_match(validator.iter_errors(data))
    if error is None:
        return
    path = list(error.absolute_path)
    message, path = advice(error, path)
    raise ConfigError(message, where=document.where(path))


def advice(error: ValidationError, path: list[str | int]) -> tuple[str, list[str | int]]:
    """A message saying what to write instead, and the path to point at."""
    where = _describe(path)
    validator = error.validator
    schema: Any = error.schema
    expected: Any = error.validator_value
    instance: Any = error.instance
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(key for key in error.instance if key not in allowed)
        key = extra[0] if extra else "?"
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key {key!r} in {where}; {hint}allowed: {', '.join(allowed)}", [
            *path,
            key,
        ]
    if validator == "required":
        missing = [key for key in expected if key not in instance]
        return f"{where} needs {', '.join(f'{key}:' for key in missing)}", path
    if validator == "anyOf" and path[:1] == ["fields"]:
        return (
            f"{where} needs canonical: (the canonical path) and native: (the native field), "
            "or constant: with one of them",
            path,
        )
    if validator == "enum":
        options = ", ".join(map(str, expected))
        return f"{where} is {error.instance!r}; write one of: {options}", path
    if validator == "pattern":
        return (
            f"{where} is {error.instance!r}; use lower_snake_case words joined by dots, "
            "such as billing_address.city",
            path,
        )
    return f"{where}: {_plain(error)}", path


def _plain(error: ValidationError) -> str:
    expected: Any = error.validator_value
    if error.validator == "type":
        return f"expected {_types(expected)}, got {error.instance!r}"
    if error.validator == "oneOf" and error.context:
        return _plain(best_match(error.context) or error)
    if error.validator in ("minItems", "minProperties"):
        return "must not be empty"
    return error.message


def _types(value: str | Sequence[str]) -> str:
    names = [value] if isinstance(value, str) else list(value)
    words = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a number"}
    return " or ".join(words.get(name, name) for name in names)


def _describe(path: Sequence[str | int]) -> str:
    if not path:
        return "the mapping"
    if path[0] == "fields" and len(path) >= 2:
        rest = "".join(f".{part}" for part in path[2:])
        return f"field rule #{int(path[1]) + 1}{rest}"
    return ".".join(str(part) for part in path)
