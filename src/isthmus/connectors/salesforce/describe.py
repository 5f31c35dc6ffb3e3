"""Salesforce's describe, turned into the connector interface's ``ObjectDescription``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from isthmus.connectors.base import FieldDescription, FieldType, ObjectDescription

_TYPES: Mapping[str, FieldType] = {
    "id": "id",
    "string": "string",
    "textarea": "text",
    "phone": "string",
    "url": "string",
    "email": "string",
    "picklist": "picklist",
    "multipicklist": "string",
    "combobox": "string",
    "reference": "reference",
    "boolean": "boolean",
    "int": "integer",
    "double": "decimal",
    "currency": "decimal",
    "percent": "decimal",
    "date": "date",
    "datetime": "datetime",
}
# Compound and binary fields cannot be read in a plain SOQL field list.
_UNREADABLE = frozenset({"address", "location", "base64"})
DEFAULT_EXTERNAL_KEY = "Isthmus_Id__c"


def readable_fields(describe: Mapping[str, Any]) -> list[str]:
    return [f["name"] for f in describe["fields"] if f.get("type") not in _UNREADABLE]


def to_description(
    describe: Mapping[str, Any], external_key: str | None = None
) -> ObjectDescription:
    fields: dict[str, FieldDescription] = {}
    for raw in describe["fields"]:
        if raw.get("type") in _UNREADABLE:
            continue
        picklist = raw.get("picklistValues") or []
        restricted = raw.get("restrictedPicklist", False)
        writable = raw.get("createable", False) or raw.get("updateable", False)
        fields[raw["name"]] = FieldDescription(
            raw["name"],
            _TYPES.get(raw.get("type", ""), "string"),
            length=raw.get("length") or None,
            # Salesforce fills defaulted fields itself; a mapping need not send them.
            required=not raw.get("nillable", True)
            and raw.get("createable", False)
            and not raw.get("defaultedOnCreate", False),
            picklist=tuple(v["value"] for v in picklist if v.get("active", True))
            if picklist and restricted
            else None,
            read_only=not writable,
            external_id=bool(raw.get("externalId")),
            unique=bool(raw.get("unique")),
            references=(raw.get("referenceTo") or [None])[0],
        )
    key = external_key
    if key is None and DEFAULT_EXTERNAL_KEY in fields:
        key = DEFAULT_EXTERNAL_KEY
    return ObjectDescription(describe["name"], "Id", fields, external_key=key)
