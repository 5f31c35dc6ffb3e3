"""Native values -> the one canonical form of a path's kind, and back.

Two systems must produce *equal* flat values for equal business values, or every sync
looks like a change: ``5``, ``"5"`` and ``Decimal("5.00")`` for a decimal path all become
``"5"``; ``"true"`` and ``True`` for a flag both become ``True``.

Invariant: ``to_canonical_value`` returns a value ``normalise_value`` leaves unchanged, or
raises ``MappingError`` saying which rule option would make the value mappable. Empty
text counts as no value (None), because CRMs send "" where ERPs send null.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from isthmus.mapping.errors import MappingError, shorten
from isthmus.mapping.paths import PathInfo
from isthmus.mapping.transforms.dates import parse_date, parse_datetime
from isthmus.mapping.transforms.numbers import to_decimal
from isthmus.model.flat import FlatValue, normalise_value

_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def to_canonical_value(value: Any, info: PathInfo, tz: tzinfo) -> FlatValue:
    """The canonical flat value of ``value`` for a path of ``info``'s kind."""
    if value is None or value == "":
        return None
    kind = info.kind
    if kind == "string":
        return _string(value, info)
    if kind == "boolean":
        return _boolean(value)
    if kind == "integer":
        return _integer(value)
    if kind == "decimal":
        return normalise_value(to_decimal(value))
    if kind == "date":
        return normalise_value(parse_date(value, tz))
    if kind == "datetime":
        return normalise_value(parse_datetime(value, tz))
    try:
        return normalise_value(value)
    except TypeError as error:
        raise MappingError(str(error), value=value) from None


def _string(value: Any, info: PathInfo) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = str(normalise_value(value))
    else:
        raise MappingError(
            f"expected text, got {type(value).__name__} {shorten(value)}; "
            "add a value_map: or a transform: to turn it into text",
            value=value,
        )
    if info.choices is not None and text not in info.choices:
        allowed = ", ".join(map(str, info.choices))
        raise MappingError(
            f"{shorten(text)} is not a canonical value here (allowed: {allowed}); "
            "add a value_map: from the native values to these",
            value=value,
        )
    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise MappingError(
        f"expected true or false, got {shorten(value)}; "
        'add a value_map: such as {"Active": true, "Inactive": false}',
        value=value,
    )


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = to_decimal(value) if isinstance(value, str | Decimal) else None
    if number is None or number != number.to_integral_value():
        raise MappingError(f"expected a whole number, got {shorten(value)}", value=value)
    return int(number)


def to_native_default(value: FlatValue, info: PathInfo) -> Any:
    """The native form of a flat value when a rule names no transform.

    Decimals go out as ``Decimal`` (a numeric field refuses text); everything else is
    already a JSON value the connector can send.
    """
    if value is None:
        return None
    if info.kind == "decimal":
        decimal = to_decimal(value)
        return decimal
    return value


def flat_date(value: FlatValue) -> date | None:
    """A date from its flat ISO form."""
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def flat_datetime(value: FlatValue) -> datetime | None:
    """An aware datetime from its flat ISO form ("...Z")."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
