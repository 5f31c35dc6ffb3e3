"""Building SOQL safely: quoted literals, datetimes, and the incremental window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

SF_DATETIME = "%Y-%m-%dT%H:%M:%S.%f%z"


def literal(value: Any) -> str:
    """A SOQL literal: strings quoted with ``\\`` and ``'`` escaped, so no value can
    change the query's meaning."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def in_list(values: Iterable[Any]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def parse_stamp(value: str) -> datetime:
    """``2013-05-20T20:49:32.000+0000`` (or ``...Z``) as an aware UTC datetime."""
    text = value.replace("Z", "+0000")
    return datetime.strptime(text, SF_DATETIME).astimezone(UTC)


def datetime_literal(value: datetime) -> str:
    """SOQL datetime literals carry whole seconds only (``2026-01-01T10:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def changes_query(
    object_name: str, fields: Sequence[str], since: datetime | None, overlap: timedelta
) -> str:
    """All records (``since`` None) or those stamped from the window's start on.

    SOQL compares whole seconds, so the window starts at the second of the cursor (minus
    the overlap); the caller drops what it has already read within that second.
    """
    select = f"SELECT {', '.join(fields)} FROM {object_name}"
    order = " ORDER BY SystemModstamp, Id"
    if since is None:
        return select + order
    start = since.replace(microsecond=0) - overlap
    return f"{select} WHERE SystemModstamp >= {datetime_literal(start)}{order}"
