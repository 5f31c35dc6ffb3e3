"""Checks on a record write that need only the schema, with Salesforce's codes and texts.

:func:`prepare_write` turns a client's JSON field map into stored values (typed,
normalised ids and timestamps) or raises the first :class:`SalesforceApiError` Salesforce
would report: INVALID_FIELD, INVALID_FIELD_FOR_INSERT_UPDATE, JSON_PARSER_ERROR,
MALFORMED_ID, STRING_TOO_LONG, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
REQUIRED_FIELD_MISSING. Checks that need other records (references, duplicates) live in
the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from isthmus.sandbox.salesforce.errors import SalesforceApiError
from isthmus.sandbox.salesforce.ids import format_datetime, normalise_id, parse_datetime
from isthmus.sandbox.salesforce.schema import NUMBER_TYPES, FieldDef, ObjectDef


def _label(field: FieldDef) -> str:
    return field.describe()["label"]  # type: ignore[no-any-return]


def _cannot_deserialize(field: FieldDef, value: Any) -> SalesforceApiError:
    kind = {"int": "int", "boolean": "boolean", "date": "date", "datetime": "datetime"}.get(
        field.type, "double" if field.type in NUMBER_TYPES else "string"
    )
    return SalesforceApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from value {value!r} for field {field.name}",
        [field.name],
    )


def coerce_value(field: FieldDef, value: Any) -> Any:
    """The stored form of ``value`` for ``field`` (None stays None).

    Raises:
        SalesforceApiError: the value has the wrong type or shape for the field.
    """
    if value is None:
        return None
    kind = field.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _cannot_deserialize(field, value)
    if kind in NUMBER_TYPES:
        return _coerce_number(field, value)
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError as exc:
            raise _cannot_deserialize(field, value) from exc
    if kind == "datetime":
        try:
            return format_datetime(parse_datetime(str(value)))
        except ValueError as exc:
            raise _cannot_deserialize(field, value) from exc
    if kind in ("reference", "id"):
        normalised = normalise_id(str(value)) if isinstance(value, str) else None
        if normalised is None:
            raise SalesforceApiError(
                400,
                "MALFORMED_ID",
                f"{_label(field)}: id value of incorrect type: {value}",
                [field.name],
            )
        return normalised
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _cannot_deserialize(field, value)
    return str(value)


def _coerce_number(field: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _cannot_deserialize(field, value)
    try:
        number = float(value) if not isinstance(value, int | float) else value
    except ValueError as exc:
        raise _cannot_deserialize(field, value) from exc
    if field.type == "int":
        if float(number) != int(number):
            raise _cannot_deserialize(field, value)
        return int(number)
    return float(number)


def check_value(field: FieldDef, value: Any) -> None:
    """Length and picklist checks on an already coerced value."""
    if value is None:
        return
    if isinstance(value, str) and field.length and len(value) > field.length:
        raise SalesforceApiError(
            400,
            "STRING_TOO_LONG",
            f"{_label(field)}: data value too large: {value[:40]!s} (max length={field.length})",
            [field.name],
        )
    if field.type == "picklist" and field.restricted and value not in field.picklist:
        raise SalesforceApiError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{_label(field)}: bad value for restricted picklist field: {value}",
            [field.name],
        )


def prepare_write(obj: ObjectDef, payload: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validate a create or update payload; return ``{canonical field name: stored value}``.

    ``attributes`` (the type envelope clients send) is ignored. On create, defaults
    are filled in and required fields must be present.
    """
    values: dict[str, Any] = {}
    not_writable: list[str] = []
    for name, raw in payload.items():
        if name == "attributes":
            continue
        field = obj.field(name)
        if field is None:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on sobject of type {obj.name}",
                [name],
            )
        writable = field.createable if creating else field.updateable
        if not writable:
            not_writable.append(field.name)
            continue
        values[field.name] = coerce_value(field, raw)
    if not_writable:
        raise SalesforceApiError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to {'create' if creating else 'update'} fields: {', '.join(not_writable)}. "
            "Please check the security settings of this field and verify that it is "
            "read/write for your profile or permission set.",
            not_writable,
        )
    if creating:
        for field in obj.fields:
            if field.createable and field.name not in values:
                values[field.name] = field.default
    # On create every createable field is in values by now (given or defaulted), so one
    # check covers "left out" and "sent empty" alike; on update only fields sent count.
    missing = [
        f.name
        for f in obj.fields
        if f.required and f.name in values and values[f.name] in (None, "")
    ]
    if missing:
        raise SalesforceApiError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )
    for name, value in values.items():
        field = obj.field(name)
        assert field is not None  # every key came from obj.field above or obj.fields
        check_value(field, value)
    return values
