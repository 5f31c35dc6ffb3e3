"""Dates and datetimes: vendor formats in, vendor formats out, time zones explicit.

Canonical datetimes are aware and compared in UTC (see ``isthmus.model.flat``). Native
values come as ISO 8601 ("2024-05-20T20:49:32Z"), Salesforce ("2013-05-20T20:49:32.000+0000"),
OData v2 ("/Date(1369082972000)/"), naive local times, or patterns a rule names.

Invariant: a naive native value is read in the rule's time zone, never in the machine's;
rendering an instant in a zone and parsing it back in the same zone gives the same
instant, except for naive output during the repeated hour when clocks go back (the
local time names two instants; we read the first, ``fold=0``), which is documented.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from isthmus.mapping.errors import MappingError, shorten

_ODATA = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Names a rule may use for ``format``; anything containing "%" is a strftime pattern.
NAMED_FORMATS = ("iso", "salesforce", "naive", "odata")


def zone(name: str | None) -> tzinfo:
    """The tzinfo of an IANA zone name ("Europe/Paris"); UTC for None or "UTC".

    Raises:
        ValueError: the name is not a known IANA zone.
    """
    if name is None or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Paris or UTC"
        ) from None


def parse_datetime(value: Any, tz: tzinfo, patterns: tuple[str, ...] = ()) -> datetime | None:
    """An aware UTC datetime from a native value; naive values are read in ``tz``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = _parse_text(value.strip(), patterns)
    else:
        raise MappingError(
            f"expected a date-time, got {type(value).__name__} {shorten(value)}", value=value
        )
    aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
    # Return UTC: an aware time inside a repeated hour never compares equal across zones
    # (PEP 495), and canonical date-times are UTC anyway.
    return aware.astimezone(UTC)


def _parse_text(text: str, patterns: tuple[str, ...]) -> datetime:
    odata = _ODATA.match(text)
    if odata:
        # OData v2 JSON: milliseconds since the epoch, UTC; the offset is informative.
        return _EPOCH + timedelta(milliseconds=int(odata.group(1)))
    for pattern in patterns:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(_COMPACT_OFFSET.sub(r"\1:\2", text))
    except ValueError:
        formats = ", ".join(("ISO 8601", "Salesforce", "/Date(ms)/", *patterns))
        raise MappingError(
            f"cannot read {shorten(text)} as a date-time (understood: {formats}); "
            "add its pattern to the rule's formats:",
            value=text,
        ) from None


def parse_date(value: Any, tz: tzinfo, patterns: tuple[str, ...] = ()) -> date | None:
    """A date from a native value; a date-time counts as its calendar day in ``tz``."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        for pattern in patterns:
            try:
                return datetime.strptime(value.strip(), pattern).date()
            except ValueError:
                continue
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    instant = parse_datetime(value, tz, patterns)
    assert instant is not None  # empty values returned above
    return instant.astimezone(tz).date()


def format_datetime(value: datetime, tz: tzinfo, fmt: str = "iso") -> str:
    """Render an aware datetime in ``tz`` in a named format or a strftime pattern."""
    if fmt == "salesforce":
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    if fmt == "odata":
        millis = (value - _EPOCH) // timedelta(milliseconds=1)
        return f"/Date({millis})/"
    local = value.astimezone(tz)
    if fmt == "naive":
        return local.replace(tzinfo=None).isoformat()
    if fmt == "iso":
        return local.isoformat().replace("+00:00", "Z")
    return local.strftime(fmt)


def format_date(value: date, fmt: str = "iso") -> str:
    return value.isoformat() if fmt == "iso" else value.strftime(fmt)


def check_format(fmt: str) -> None:
    """Raise ValueError unless ``fmt`` is a named format or a strftime pattern."""
    if fmt not in NAMED_FORMATS and "%" not in fmt:
        raise ValueError(
            f"unknown format {fmt!r}; use one of {', '.join(NAMED_FORMATS)} "
            "or a strftime pattern such as %d.%m.%Y"
        )
