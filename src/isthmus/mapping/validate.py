"""Check native fields against the target's description before writing them.

Picklist and length mismatches are the most common sync errors users report, and a
vendor's own error for them is often cryptic or arrives only after a whole batch
failed. Checking here turns each into one ``RecordError`` naming the object, field,
value and what to do, and keeps the other records of the batch going.

Invariant: ``validate_native`` never raises for a bad value; it returns one error per
problem, in field order, and an empty list when the write can go out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from isthmus.connectors.base import FieldDescription, ObjectDescription
from isthmus.errors import RecordError
from isthmus.mapping.errors import shorten


def validate_native(
    fields: Mapping[str, Any], description: ObjectDescription, *, creating: bool
) -> list[RecordError]:
    """Problems with writing ``fields`` to ``description``'s object (empty when none).

    Args:
        fields: native field -> value, as the mapper produced them.
        description: the target object's description (lengths, picklists, types).
        creating: True for a create, where required fields must be present.
    """
    errors: list[RecordError] = []
    obj = description.name
    if creating:
        for name, described in description.fields.items():
            if described.required and not described.read_only and _empty(fields.get(name)):
                errors.append(
                    _error(
                        obj,
                        name,
                        f"is required to create a {obj}; map a canonical field "
                        "to it or add a constant rule",
                    )
                )
    for name, value in fields.items():
        target = description.field(name)
        if target is None:
            errors.append(
                _error(
                    obj,
                    name,
                    "does not exist; check the native: name in the "
                    "mapping against the object's fields",
                )
            )
            continue
        problem = _problem(target, value, creating)
        if problem is not None:
            errors.append(_error(obj, name, problem))
    return errors


def _error(obj: str, name: str, message: str) -> RecordError:
    return RecordError("validation", f"{obj}.{name} {message}", field=name)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _problem(described: FieldDescription, value: Any, creating: bool) -> str | None:
    if described.read_only and not (creating and described.external_id):
        return (
            f"is read-only, but the mapping writes {shorten(value)} to it; "
            "set direction: to_canonical on its rule"
        )
    if _empty(value):
        if described.required and not creating:
            return "is required and cannot be emptied; fill the canonical value at the source"
        return None
    kind_problem = _type_problem(described, value)
    if kind_problem is not None:
        return kind_problem
    if described.picklist is not None and value not in described.picklist:
        allowed = ", ".join(described.picklist[:20])
        return (
            f"does not accept {shorten(value)} (allowed: {allowed}); add a value_map to the "
            "mapping or add the value to the picklist"
        )
    if described.length is not None and isinstance(value, str) and len(value) > described.length:
        return (
            f"holds at most {described.length} characters, got {len(value)} "
            f"({shorten(value, 40)}); set truncate: true on its rule or shorten it at the source"
        )
    return None


_ACCEPTS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "text": (str,),
    "picklist": (str,),
    "id": (str,),
    "reference": (str,),
    "integer": (int,),
    "decimal": (Decimal, int),
    "boolean": (bool,),
    "date": (date, str),
    "datetime": (datetime, str),
}


def _type_problem(described: FieldDescription, value: Any) -> str | None:
    accepted = _ACCEPTS.get(described.type)
    if accepted is None:
        return None  # json fields take any JSON value
    ok = False if isinstance(value, bool) and bool not in accepted else isinstance(value, accepted)
    if ok and described.type in ("date", "datetime") and isinstance(value, str):
        ok = _parses(value, described.type)
    if described.type == "integer" and isinstance(value, str):
        # Record ids travel as strings at the connector interface (a lookup resolves a
        # parent to "42"); a whole number in text is an integer the connector converts.
        ok = value.strip().lstrip("-").isdigit()
    if ok:
        return None
    return (
        f"is a {described.type} field but the mapping writes {type(value).__name__} "
        f"{shorten(value)}; add a transform: to its rule (decimal, date, datetime, value_map)"
    )


def _parses(text: str, kind: str) -> bool:
    try:
        if kind == "date":
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
