"""Numbers and currencies: decimal parsing, scale normalisation, rounding, ISO codes.

Invariant: floats are refused everywhere (``0.1 + 0.2 != 0.3`` is how totals drift), and
rounding is explicit: ``ROUND_HALF_EVEN`` (banker's rounding, what most ERPs and IEEE 754
use) unless a rule names another mode. ``quantize`` is idempotent.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Literal

from isthmus.mapping.errors import MappingError
from isthmus.model.money import parse_currency, parse_decimal

RoundingName = Literal["half_even", "half_up", "half_down", "up", "down", "ceiling", "floor"]

ROUNDING_MODES: dict[str, str] = {
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_up": decimal.ROUND_HALF_UP,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}
DEFAULT_ROUNDING: RoundingName = "half_even"


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a native value; None for empty; MappingError for floats and junk."""
    if value is None or value == "":
        return None
    try:
        return parse_decimal(value)
    except ValueError as error:
        hint = (
            " (configure the connector to parse JSON numbers as Decimal)"
            if isinstance(value, float)
            else ""
        )
        raise MappingError(f"{error}{hint}", value=value) from None


def quantize(value: Decimal, places: int, rounding: RoundingName = DEFAULT_ROUNDING) -> Decimal:
    """Round ``value`` to ``places`` decimal places with the named rounding mode."""
    exponent = Decimal(1).scaleb(-places)
    with decimal.localcontext() as context:
        # Large amounts must not lose integer digits to the default 28-digit precision.
        context.prec = max(28, value.adjusted() + places + 2)
        return value.quantize(exponent, rounding=ROUNDING_MODES[rounding])


def to_currency(value: Any) -> str | None:
    """An upper-case ISO 4217 code from a native value; None for empty."""
    if value is None or value == "":
        return None
    try:
        return parse_currency(value)
    except ValueError as error:
        raise MappingError(str(error), value=value) from None


def rounding_warning(field: str, before: Decimal, after: Decimal) -> str:
    return f"{field}: {before} rounded to {after}; the target keeps fewer decimal places"
