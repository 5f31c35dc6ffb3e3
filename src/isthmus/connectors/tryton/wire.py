"""Tryton's JSON-RPC values: Decimal, date and datetime travel as tagged objects.

``{"__class__": "Decimal", "decimal": "12.50"}``, ``{"__class__": "datetime", "year": ...}``.
Tryton stores naive date-times in UTC; they are read back here as UTC-aware values so
cursors and ``modified_at`` carry a zone, and aware values are sent as naive UTC.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def encode(value: Any) -> Any:
    """A Python value -> the JSON Tryton expects."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(value: Any) -> Any:
    """Tryton's JSON -> Python values (Decimal, date, UTC-aware datetime)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__class__")
    if kind == "Decimal":
        return Decimal(str(value["decimal"]))
    if kind == "datetime":
        return datetime(
            value["year"],
            value["month"],
            value["day"],
            value.get("hour", 0),
            value.get("minute", 0),
            value.get("second", 0),
            value.get("microsecond", 0),
            tzinfo=UTC,
        )
    if kind == "date":
        return date(value["year"], value["month"], value["day"])
    if kind == "time":
        return time(value["hour"], value["minute"], value["second"], value.get("microsecond", 0))
    if kind == "timedelta":
        return timedelta(seconds=float(value["seconds"]))
    if kind == "bytes":
        return base64.b64decode(value["base64"])
    return {k: decode(v) for k, v in value.items()}
