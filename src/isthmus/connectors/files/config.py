"""``connector: csv`` options -> one ``FileObject`` per object. Errors name the option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from isthmus.connectors.base import FieldDescription, FieldType
from isthmus.connectors.files.parse import DEFAULT_FIELD_LIMIT, DELIMITERS
from isthmus.errors import ConfigError

_OBJECT_OPTIONS = (
    "key",
    "inbound",
    "outbound",
    "fields",
    "modified_at",
    "external_key",
    "encoding",
    "delimiter",
    "move",
    "field_limit",
)
_FIELD_OPTIONS = ("type", "length", "required")


@dataclass(frozen=True)
class FileObject:
    name: str
    key: str
    # A file (``exports/customers.csv``) or a glob (``inbound/customers/*.csv``),
    # relative to the root. None: the object is written only.
    inbound: str | None
    outbound: Path | None  # the folder Isthmus writes files to; None: read only
    fields: dict[str, FieldDescription] | None  # None: columns from the first file's header
    modified_at: str | None = None  # a column with the change time; else the file's mtime
    external_key: str | None = None  # a column holding Isthmus's idempotency key
    encoding: str = "utf-8"
    delimiter: str | None = None  # None: sniffed from each file's header
    move: bool = True  # move drop-folder files to processed/ or rejected/ once read
    field_limit: int = DEFAULT_FIELD_LIMIT

    @property
    def drop_folder(self) -> bool:
        return self.inbound is not None and any(c in self.inbound for c in "*?[")


def parse_objects(system: str, root: Path, options: dict[str, Any]) -> dict[str, FileObject]:
    objects = options.get("objects")
    if not isinstance(objects, dict) or not objects:
        raise ConfigError(
            f"system {system!r}: options.objects must map object names to "
            "{key, inbound and/or outbound, fields}"
        )
    defaults = {k: options[k] for k in ("encoding", "delimiter", "field_limit") if k in options}
    return {
        name: _object(system, root, name, {**defaults, **(spec or {})})
        for name, spec in objects.items()
    }


def _object(system: str, root: Path, name: str, spec: Any) -> FileObject:
    where = f"system {system!r}, object {name!r}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping of {', '.join(_OBJECT_OPTIONS)}")
    unknown = set(spec) - set(_OBJECT_OPTIONS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(_OBJECT_OPTIONS)}"
        )
    key = spec.get("key")
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{where}: key is required: the column that identifies a row")
    inbound, outbound = spec.get("inbound"), spec.get("outbound")
    if inbound is None and outbound is None:
        raise ConfigError(
            f"{where}: set inbound (a file or a glob such as inbound/{name}/*.csv to read) "
            f"and/or outbound (a folder such as outbound/{name} to write to)"
        )
    delimiter = spec.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise ConfigError(
            f"{where}: delimiter must be one character, e.g. one of "
            f"{', '.join(map(repr, DELIMITERS))}; leave it out to sniff it"
        )
    encoding = str(spec.get("encoding", "utf-8"))
    try:
        "".encode(encoding)
    except LookupError:
        raise ConfigError(
            f"{where}: unknown encoding {encoding!r}; use a Python codec name such as "
            "utf-8 or cp1252"
        ) from None
    fields = _fields(where, spec.get("fields"), key)
    for option in ("modified_at", "external_key"):
        column = spec.get(option)
        if column is not None and fields is not None and column not in fields:
            raise ConfigError(f"{where}: {option} column {column!r} is not one of its fields")
    limit = spec.get("field_limit", DEFAULT_FIELD_LIMIT)
    if not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"{where}: field_limit must be a positive number of characters")
    return FileObject(
        name=name,
        key=key,
        inbound=str(inbound) if inbound is not None else None,
        outbound=(root / str(outbound)) if outbound is not None else None,
        fields=fields,
        modified_at=spec.get("modified_at"),
        external_key=spec.get("external_key"),
        encoding=encoding,
        delimiter=delimiter,
        move=bool(spec.get("move", True)),
        field_limit=limit,
    )


def _fields(where: str, spec: Any, key: str) -> dict[str, FieldDescription] | None:
    if spec is None:
        return None
    if isinstance(spec, list):
        spec = {str(name): {} for name in spec}
    if not isinstance(spec, dict) or not spec:
        raise ConfigError(
            f"{where}: fields must list the columns in order, e.g. "
            "{customer_no: {required: true}, credit_limit: {type: decimal}}"
        )
    allowed = get_args(FieldType)
    fields: dict[str, FieldDescription] = {}
    for name, options in spec.items():
        options = options or {}
        if not isinstance(options, dict) or set(options) - set(_FIELD_OPTIONS):
            raise ConfigError(
                f"{where}, field {name!r}: expected a mapping of {', '.join(_FIELD_OPTIONS)}"
            )
        kind = options.get("type", "string")
        if kind not in allowed:
            raise ConfigError(
                f"{where}, field {name!r}: unknown type {kind!r}; allowed: {', '.join(allowed)}"
            )
        fields[str(name)] = FieldDescription(
            str(name),
            kind,
            length=options.get("length"),
            required=bool(options.get("required", False)),
        )
    if key not in fields:
        raise ConfigError(f"{where}: the key column {key!r} is not one of its fields")
    return fields
