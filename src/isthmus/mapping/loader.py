"""Load mapping files: YAML with line numbers -> schema check -> typed spec -> checks.

Invariant: a file either loads into a fully checked ``MappingSpec`` or raises one
``ConfigError`` whose ``where`` is ``file.yaml:LINE`` of the offending rule or key and
whose message says what to write instead. Nothing half-loaded escapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from isthmus.errors import ConfigError
from isthmus.mapping.checks import check_mapping
from isthmus.mapping.schema import check_schema
from isthmus.mapping.spec import FieldRule, MappingSpec, NativePart, TransformSpec, ValueMapSpec
from isthmus.yamlsource import YamlDocument, load_yaml_file, parse_yaml

MAPPING_SUFFIXES = (".yaml", ".yml")


def parse_mapping(text: str, source_name: str = "<string>") -> MappingSpec:
    """Parse and check one mapping from YAML text (``source_name`` is used in errors)."""
    return _from_document(parse_yaml(text, source_name))


def load_mapping(path: str | Path) -> MappingSpec:
    """Load and check one mapping file."""
    return _from_document(load_yaml_file(Path(path)))


def load_mappings(paths_or_dir: str | Path | Iterable[str | Path]) -> dict[str, MappingSpec]:
    """Load mapping files (a directory means every ``*.yaml``/``*.yml`` in it), by name.

    Raises:
        ConfigError: a file does not load, or two files use the same ``name:``.
    """
    if isinstance(paths_or_dir, str | Path):
        paths_or_dir = [paths_or_dir]
    loaded: dict[str, MappingSpec] = {}
    for path in _expand(paths_or_dir):
        spec = load_mapping(path)
        if spec.name in loaded:
            raise ConfigError(
                f"mapping name {spec.name!r} is already used by {loaded[spec.name].where()}; "
                "give each mapping its own name:",
                where=spec.where(),
            )
        loaded[spec.name] = spec
    return loaded


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in MAPPING_SUFFIXES))
        else:
            files.append(path)
    return files


def _from_document(document: YamlDocument) -> MappingSpec:
    check_schema(document)
    data: dict[str, Any] = document.data
    rules = tuple(_rule(raw, document, index) for index, raw in enumerate(data["fields"]))
    spec = MappingSpec(
        name=data["name"],
        entity=data["entity"],
        object=data["object"],
        fields=rules,
        source=document.source,
        line=document.lines.get((), 1),
        timezone=data.get("timezone"),
        description=data.get("description"),
        key_lines=MappingProxyType(
            {str(path[0]): line for path, line in document.lines.items() if len(path) == 1}
        ),
    )
    return check_mapping(spec)


def _rule(raw: dict[str, Any], document: YamlDocument, index: int) -> FieldRule:
    native = raw.get("native")
    key_lines = {
        key: line
        for path, line in document.lines.items()
        if len(path) == 3 and path[:2] == ("fields", index) and isinstance(key := path[2], str)
    }
    return FieldRule(
        line=document.lines[("fields", index)],
        key_lines=MappingProxyType(key_lines),
        canonical=raw.get("canonical"),
        native=native if isinstance(native, str) else None,
        parts=_parts(native) if isinstance(native, dict) else None,
        direction=raw.get("direction", "both"),
        transform=_transform(raw.get("transform")),
        value_map=_value_map(raw.get("value_map"), raw.get("reverse")),
        lookup=raw.get("lookup"),
        has_constant="constant" in raw,
        constant=raw.get("constant"),
        truncate=raw.get("truncate", False),
        max_length=raw.get("max_length"),
        trim=raw.get("trim", False),
        sensitive=raw.get("sensitive", False),
    )


def _parts(raw: Mapping[str, Any]) -> Mapping[str, NativePart]:
    parts = {
        name: NativePart(field=value)
        if isinstance(value, str)
        else NativePart(None, value["constant"])
        for name, value in raw.items()
    }
    return MappingProxyType(parts)


def _transform(raw: str | dict[str, Any] | None) -> TransformSpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return TransformSpec(raw)
    ((name, options),) = raw.items()
    return TransformSpec(name, MappingProxyType(dict(options or {})))


def _value_map(forward: Any, reverse: Any) -> ValueMapSpec | None:
    if forward is None:
        return None
    return ValueMapSpec(_pairs(forward), _pairs(reverse) if reverse is not None else None)


def _pairs(raw: dict[str, Any] | list[dict[str, Any]]) -> tuple[tuple[Any, Any], ...]:
    # The list form keeps native value types (1, true); YAML mapping keys are text.
    if isinstance(raw, dict):
        return tuple(raw.items())
    return tuple((item["native"], item["canonical"]) for item in raw)
