"""Named transforms a mapping rule may use, and what each accepts.

The transforms themselves are small pure functions in one module per job (address,
values, numbers, dates, text, lookups). This registry is the one explicit list of the
names a mapping file may write under ``transform:``, with the canonical kind each
applies to, the native parts a composite transform takes, and a JSON Schema for its
options, so the loader can refuse a wrong rule before any record is touched.

Invariant: ``TRANSFORMS`` and the mapper's rule builders (``isthmus.mapping.rules``)
have the same keys (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from isthmus.mapping.transforms.numbers import ROUNDING_MODES

TransformKind = Literal["scalar", "composite"]

_ROUNDING = {"enum": sorted(ROUNDING_MODES)}
_PLACES = {"type": "integer", "minimum": 0, "maximum": 18}
_DATE_OPTIONS = {
    "timezone": {"type": "string"},
    "format": {"type": "string"},
    "formats": {"type": "array", "items": {"type": "string"}},
}
_ADDRESS_PARTS = ("postal_code", "city", "region", "country")


def _options(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties}


@dataclass(frozen=True)
class TransformInfo:
    """What one named transform accepts."""

    kind: TransformKind
    # The canonical kind the rule's path must have ("model" for composites).
    canonical_kind: str
    summary: str
    # For composites: the nested model name the canonical path must hold.
    model: str | None = None
    required_parts: tuple[str, ...] = ()
    optional_parts: tuple[str, ...] = ()
    options_schema: dict[str, Any] = field(default_factory=lambda: _options({}))


TRANSFORMS: dict[str, TransformInfo] = {
    "decimal": TransformInfo(
        "scalar",
        "decimal",
        "a decimal number, rounded to places: with rounding: (default half_even)",
        options_schema=_options({"places": _PLACES, "rounding": _ROUNDING}),
    ),
    "date": TransformInfo(
        "scalar",
        "date",
        "a calendar date; format: iso or a strftime pattern; formats: extra input patterns",
        options_schema=_options(_DATE_OPTIONS),
    ),
    "datetime": TransformInfo(
        "scalar",
        "datetime",
        "a date-time; naive values read in timezone:; format: iso, salesforce, naive, odata",
        options_schema=_options(_DATE_OPTIONS),
    ),
    "currency": TransformInfo(
        "scalar", "string", "an ISO 4217 currency code, upper-cased and checked"
    ),
    "money": TransformInfo(
        "composite",
        "model",
        "an amount and its currency: native: {amount: F, currency: F or {constant: EUR}}",
        model="Money",
        required_parts=("amount", "currency"),
        options_schema=_options({"places": _PLACES, "rounding": _ROUNDING}),
    ),
    "address_block": TransformInfo(
        "composite",
        "model",
        "a multi-line street block split into street, house number and extra lines",
        model="PostalAddress",
        required_parts=("block",),
        optional_parts=_ADDRESS_PARTS,
        options_schema=_options(
            {
                "house_number": {"enum": ["first", "last", "by_country"]},
                "default": {"enum": ["first", "last"]},
            }
        ),
    ),
    "address_structured": TransformInfo(
        "composite",
        "model",
        "an address kept in one column per part (street, house_number, extra_lines ...)",
        model="PostalAddress",
        optional_parts=("street", "house_number", "extra_lines", *_ADDRESS_PARTS),
    ),
}
