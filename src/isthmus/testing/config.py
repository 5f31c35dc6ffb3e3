"""``connector: memory`` in a config file: an in-memory system for dry runs and tests.

Options::

    objects:
      Account:
        key: Id                      # default Id
        external_key: Isthmus_Id__c  # optional: makes creates idempotent
        fields:
          Name: {type: string, length: 255, required: true}
          Rating: {type: picklist, picklist: [Hot, Warm, Cold]}
    records:                         # optional seed data
      Account: [{Name: Acme}]
    faults: {seed: 1, transient_rate: 0.05, ambiguous_rate: 0.05}
    webhook_secret: s3cret           # enables signed webhooks
"""

from __future__ import annotations

from typing import Any

from isthmus.connectors.base import FieldDescription
from isthmus.errors import ConfigError
from isthmus.testing.faults import FaultPlan
from isthmus.testing.memory import MemoryConnector, describe_object

_FIELD_OPTIONS = ("type", "length", "required", "picklist", "read_only", "unique", "references")
_FAULT_OPTIONS = (
    "seed",
    "transient_rate",
    "rate_limit_rate",
    "ambiguous_rate",
    "record_failure_rate",
    "retry_after",
)


def _field(system: str, object_name: str, name: str, spec: Any) -> FieldDescription:
    where = f"system {system!r}, object {object_name!r}, field {name!r}"
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping of {', '.join(_FIELD_OPTIONS)}")
    unknown = set(spec) - set(_FIELD_OPTIONS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(_FIELD_OPTIONS)}"
        )
    picklist = spec.get("picklist")
    return FieldDescription(
        name,
        spec.get("type", "picklist" if picklist else "string"),
        length=spec.get("length"),
        required=bool(spec.get("required", False)),
        picklist=tuple(str(v) for v in picklist) if picklist else None,
        read_only=bool(spec.get("read_only", False)),
        unique=bool(spec.get("unique", False)),
        references=spec.get("references"),
    )


def from_config(name: str, options: dict[str, Any]) -> MemoryConnector:
    objects = options.get("objects")
    if not isinstance(objects, dict) or not objects:
        raise ConfigError(
            f"system {name!r}: options.objects must map object names to "
            "{key, external_key, fields}"
        )
    descriptions = []
    for object_name, spec in objects.items():
        spec = spec or {}
        fields = {
            field_name: _field(name, object_name, field_name, field_spec)
            for field_name, field_spec in (spec.get("fields") or {}).items()
        }
        descriptions.append(
            describe_object(
                object_name,
                fields,
                key=spec.get("key", "Id"),
                external_key=spec.get("external_key"),
            )
        )
    fault_options = options.get("faults") or {}
    unknown = set(fault_options) - set(_FAULT_OPTIONS)
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown fault option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(_FAULT_OPTIONS)}"
        )
    try:
        faults = FaultPlan(**fault_options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"system {name!r}, options.faults: {error}") from None
    connector = MemoryConnector(
        name, descriptions, faults=faults, webhook_secret=options.get("webhook_secret")
    )
    for object_name, rows in (options.get("records") or {}).items():
        for row in rows:
            connector.put(object_name, dict(row))
    return connector
