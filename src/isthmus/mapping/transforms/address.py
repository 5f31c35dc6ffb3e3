"""Street blocks <-> structured street, house number and extra lines.

CRMs keep one multi-line street block ("c/o Finance\\n12 Main St\\nSuite 400"); ERPs keep
street and house number apart. ``split_block`` and ``join_block`` convert between them.

Invariant (tested by property): for every block ``b`` with ``s = split_block(b, order)``,
``join_block(s, order) == normalise_block(b)`` and ``split_block(join_block(s)) == s``.
Both round trips are exact because the splitter never produces a shape the joiner
would write in another order:

- leading lines are care-of / attention lines ("c/o ...", "Attn: ...", "z. Hd. ...");
- then the street line; its house number is taken apart only when it sits where
  ``order`` says ("12 Main St" for ``first``, "Hauptstraße 5a" for ``last``), otherwise
  the line stays whole in ``street``, so nothing is ever reordered;
- then trailing lines ("Suite 400", "Building B", "PO Box 12"), kept in order.

A block that breaks this shape (a care-of line after the street line) is kept as
extra lines only, street empty: nothing is lost, nothing moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NumberOrder = Literal["first", "last"]

_NUMBER = r"\d+(?:[-/]\d+)?[A-Za-z]?"
_NUMBER_ONLY = re.compile(rf"^{_NUMBER}$")
_NUMBER_FIRST = re.compile(rf"^({_NUMBER})\s+(.*[^\W\d_].*)$")
_NUMBER_LAST = re.compile(rf"^(.*[^\W\d_].*?)\s+({_NUMBER})$")
_CARE_OF = re.compile(
    r"^(?:c/o|c\.o\.|℅|care of|attn\b|attention\b|z\.\s?hd\.?|zu händen)", re.IGNORECASE
)
# Lines that are never a street with a house number, even when they end in digits.
_SECONDARY = re.compile(
    r"^(?:suite|ste\.?|apt\.?|apartment|unit|floor|fl\.|room|rm\.?|building|bldg\.?|"
    r"dept\.?|department|etage|stock|gebäude|postfach|p\.?\s?o\.?\s?box|bp\b|"
    r"boîte postale|apartado|#)",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")

# Countries that write the house number before the street name; the rest write it after.
NUMBER_FIRST_COUNTRIES = frozenset(
    {"US", "CA", "GB", "IE", "AU", "NZ", "FR", "LU", "ZA", "IN", "SG", "MY", "PH", "IL", "TH"}
)


@dataclass(frozen=True)
class StreetParts:
    """The street part of an address: what a street block carries."""

    street: str | None = None
    house_number: str | None = None
    extra_lines: tuple[str, ...] = ()


def number_order(country: str | None, default: NumberOrder = "first") -> NumberOrder:
    """Where ``country`` writes the house number; ``default`` when it is unknown."""
    if not country:
        return default
    code = country.strip().upper()
    if len(code) != 2:
        return default
    return "first" if code in NUMBER_FIRST_COUNTRIES else "last"


def normalise_line(line: str) -> str:
    return _SPACES.sub(" ", line).strip()


def block_lines(block: str | None) -> list[str]:
    """The non-empty lines of a block, whitespace collapsed."""
    if not block:
        return []
    return [norm for norm in (normalise_line(line) for line in block.splitlines()) if norm]


def normalise_block(block: str | None) -> str | None:
    lines = block_lines(block)
    return "\n".join(lines) if lines else None


def is_care_of(line: str) -> bool:
    return _CARE_OF.match(line) is not None


def split_street_line(line: str, order: NumberOrder) -> tuple[str | None, str | None]:
    """``(street, house_number)`` of one street line, number taken apart only in place."""
    if _NUMBER_ONLY.match(line):
        return None, line
    if _SECONDARY.match(line):
        return line, None
    pattern = _NUMBER_FIRST if order == "first" else _NUMBER_LAST
    found = pattern.match(line)
    if found is None:
        return line, None
    if order == "first":
        return found.group(2), found.group(1)
    return found.group(1), found.group(2)


def join_street_line(street: str | None, house_number: str | None, order: NumberOrder) -> str:
    """The inverse of ``split_street_line`` ("" when both parts are empty)."""
    parts = [street or "", house_number or ""]
    if order == "first":
        parts.reverse()
    return " ".join(part for part in parts if part)


def split_block(block: str | None, order: NumberOrder = "first") -> StreetParts:
    """Split a street block into street, house number and extra lines (see module doc)."""
    lines = block_lines(block)
    lead = 0
    while lead < len(lines) and is_care_of(lines[lead]):
        lead += 1
    if lead == len(lines):
        return StreetParts(extra_lines=tuple(lines))
    trailing = lines[lead + 1 :]
    if any(is_care_of(line) for line in trailing):
        # A care-of line after the street line: the joiner would move it up, so keep
        # every line as an extra line, in order.
        return StreetParts(extra_lines=tuple(lines))
    street, number = split_street_line(lines[lead], order)
    return StreetParts(street, number, tuple(lines[:lead]) + tuple(trailing))


def join_block(parts: StreetParts, order: NumberOrder = "first") -> str | None:
    """Join street parts into a block: care-of lines, street line, then the rest."""
    extras = [normalise_line(line) for line in parts.extra_lines]
    extras = [line for line in extras if line]
    street = normalise_line(parts.street) if parts.street else None
    number = normalise_line(parts.house_number) if parts.house_number else None
    street_line = join_street_line(street, number, order)
    if not street_line:
        return "\n".join(extras) or None
    lead = 0
    while lead < len(extras) and is_care_of(extras[lead]):
        lead += 1
    lines = [*extras[:lead], street_line, *extras[lead:]]
    return "\n".join(lines)


def split_extra_lines(text: str | None) -> tuple[str, ...]:
    """Extra lines kept in one native column, one per line."""
    return tuple(block_lines(text))


def join_extra_lines(lines: tuple[str, ...] | list[str]) -> str | None:
    kept = [normalise_line(line) for line in lines]
    return "\n".join(line for line in kept if line) or None
