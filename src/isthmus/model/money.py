"""Money: a Decimal amount with its ISO 4217 currency. Never a float.

A float in a money field is refused at the edge, because 0.1 + 0.2 != 0.3 is exactly the
kind of silent drift that makes an ERP and a CRM disagree on an invoice total.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_currency(value: object) -> str:
    """Return an upper-case ISO 4217 code, or raise ValueError saying what was wrong."""
    if not isinstance(value, str):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
    code = value.strip().upper()
    if not _CURRENCY.match(code):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code such as EUR, got {value!r}")
    return code


def parse_decimal(value: object) -> Decimal:
    """Turn a str/int/Decimal into a Decimal; refuse floats and junk with a clear message."""
    if isinstance(value, bool):
        raise ValueError(f"expected a decimal number, got the boolean {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise ValueError(f"expected a decimal number, got {value!r}") from None
    elif isinstance(value, float):
        raise ValueError(
            f"money and quantities must not be floats (got {value!r}); "
            "pass a string or Decimal so no rounding error creeps in"
        )
    else:
        raise ValueError(f"expected a decimal number, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise ValueError(f"expected a finite decimal number, got {value!r}")
    return result


class Money(BaseModel):
    """An amount of one currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        return parse_decimal(value)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> str:
        return parse_currency(value)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
