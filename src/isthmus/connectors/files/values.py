"""CSV cells <-> typed values, per the field type an object's ``fields`` option declares.

A cell is text; a declared type turns it into the value a mapping expects (a decimal,
a date) and back on write. An empty cell is null both ways: CSV has no other way to say
it, so an empty string written out reads back as null (see docs/connectors/files.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.connectors.base import FieldType

TRUE = frozenset({"true", "yes", "y", "1", "x", "ja", "oui", "wahr"})
FALSE = frozenset({"false", "no", "n", "0", "", "nein", "non", "falsch"})


class CellError(ValueError):
    """A cell does not hold its column's type; the message says what would."""


def parse_cell(kind: FieldType, text: str) -> Any:
    if text == "":
        return None
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise CellError(f"{_show(text)} is not a whole number (e.g. 42)") from None
    if kind == "decimal":
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise CellError(
                f"{_show(text)} is not a decimal number; write it with a point and no "
                "thousands separator (e.g. 1234.50)"
            ) from None
        if not value.is_finite():
            raise CellError(f"{_show(text)} is not a finite number (e.g. 1234.50)")
        return value
    if kind == "boolean":
        word = text.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise CellError(f"{_show(text)} is not a yes/no value (true or false)")
    if kind == "date":
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise CellError(f"{_show(text)} is not a date as YYYY-MM-DD") from None
    if kind == "datetime":
        return parse_datetime(text)
    return text


def parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CellError(
            f"{_show(text)} is not a date and time as YYYY-MM-DDTHH:MM:SS (with +01:00 or Z "
            "for its zone; UTC when none)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_cell(kind: FieldType, value: Any) -> str:
    """The cell text for a value; raises ``CellError`` for a value of the wrong type."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        zoned = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return zoned.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float | str):
        text = str(value)
        if kind not in {"string", "text"}:
            parse_cell(kind, text)  # refuse what would not read back as the type
        return text
    raise CellError(f"a {type(value).__name__} cannot be written to a CSV cell")


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
