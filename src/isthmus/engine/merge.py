"""Three-way merge of one field: origin value, partner value, and the base they agreed on.

Pure functions. The rule for each outcome:
- neither side moved from the base: nothing to do;
- one side moved: its value travels to the other side (unless the other side owns the
  field, in which case the owner's value is restored on the side that moved);
- both moved to the same value: they agree;
- both moved to different values: the field's conflict rule decides, and every decision
  is reported so the executor can audit it. ``review`` leaves both sides as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from isthmus.engine.equivalence import formatting_only
from isthmus.engine.policy import ConflictRule
from isthmus.model.flat import FlatValue, normalise_decimal

# ``keep``: the partner keeps a value of its own that is not sent anywhere (a one-way
# flow's target edited a field the source did not touch).
Winner = Literal["origin", "partner", "both", "none", "review", "computed", "keep"]

_EMPTY: tuple[FlatValue, ...] = (None, "", [], {})


def is_empty(value: FlatValue) -> bool:
    return any(value == empty and type(value) is type(empty) for empty in _EMPTY) or value is None


def same(left: FlatValue, right: FlatValue) -> bool:
    """Equal as business values: ``None``, ``""`` and ``[]`` all mean "no value"."""
    if is_empty(left) and is_empty(right):
        return True
    return bool(left == right)


def same_at(path: str, left: FlatValue, right: FlatValue) -> bool:
    """``same``, or the same value of ``path``'s kind written differently (a phone
    number with or without spaces): a system's reformatting is not a change."""
    return same(left, right) or formatting_only(path, left, right)


@dataclass(frozen=True)
class FieldOutcome:
    """The merged value of one field and how it was reached."""

    value: FlatValue
    winner: Winner
    reason: str
    conflict: bool = False


@dataclass(frozen=True)
class Timestamps:
    origin: datetime | None
    partner: datetime | None
    skew: timedelta


def resolve_conflict(
    rule: ConflictRule,
    origin: FlatValue,
    partner: FlatValue,
    base: FlatValue,
    *,
    owner: Literal["origin", "partner"] | None,
    times: Timestamps,
) -> FieldOutcome:
    """Decide a field both sides changed to different values."""
    if rule == "owner":
        if owner is None:
            return FieldOutcome(
                None, "review", "owner wins, but no owner is set for this field", conflict=True
            )
        value = origin if owner == "origin" else partner
        return FieldOutcome(value, owner, "owner wins", conflict=True)
    if rule in ("source", "target"):
        # Resolved by the caller into origin/partner through the ``owner`` argument.
        value = origin if owner == "origin" else partner
        return FieldOutcome(value, owner or "review", f"{rule} wins", conflict=True)
    if rule == "last_writer":
        return _last_writer(origin, partner, times, "last writer wins")
    if rule == "newest_non_empty":
        if is_empty(origin) != is_empty(partner):
            winner: Winner = "partner" if is_empty(origin) else "origin"
            return FieldOutcome(
                partner if is_empty(origin) else origin,
                winner,
                "newest non-empty: only one side has a value",
                conflict=True,
            )
        return _last_writer(origin, partner, times, "newest non-empty")
    if rule == "additive":
        return _additive(origin, partner, base)
    return FieldOutcome(None, "review", "both sides changed; sent to review", conflict=True)


def _last_writer(
    origin: FlatValue, partner: FlatValue, times: Timestamps, label: str
) -> FieldOutcome:
    if times.origin is None or times.partner is None:
        return FieldOutcome(
            None, "review", f"{label}: a modification time is missing", conflict=True
        )
    gap = times.origin - times.partner
    if abs(gap) <= times.skew:
        return FieldOutcome(
            None,
            "review",
            f"{label}: both edits within the clock-skew tolerance ({times.skew}); cannot tell",
            conflict=True,
        )
    if gap > timedelta(0):
        return FieldOutcome(origin, "origin", label, conflict=True)
    return FieldOutcome(partner, "partner", label, conflict=True)


def _additive(origin: FlatValue, partner: FlatValue, base: FlatValue) -> FieldOutcome:
    try:
        start = Decimal(str(base)) if base is not None else Decimal(0)
        left, right = Decimal(str(origin)), Decimal(str(partner))
    except (InvalidOperation, ValueError):
        return FieldOutcome(
            None, "review", "additive merge needs numbers on both sides", conflict=True
        )
    total = start + (left - start) + (right - start)
    return FieldOutcome(
        normalise_decimal(total), "computed", "additive: both deltas applied", conflict=True
    )


def merge_field(
    origin: FlatValue,
    partner: FlatValue,
    base_origin: FlatValue,
    base_partner: FlatValue,
    base: FlatValue,
    *,
    rule: ConflictRule,
    owner: Literal["origin", "partner"] | None,
    times: Timestamps,
    rule_side: Literal["origin", "partner"] | None = None,
    path: str = "",
) -> FieldOutcome:
    """Merge one field.

    ``owner`` is the side that owns the field (``ownership``): its value is kept even
    when only the other side moved. ``rule_side`` is the side a ``source``/``target``
    rule names: it only settles a change made on both sides. ``base_origin`` and
    ``base_partner`` are the base as each side would hold it (projected through that
    side's mapping), so a side that stores a value differently (truncated, rounded)
    does not look as if it changed. ``path`` names the field, so a system's reformatting
    of it (see ``equivalence``) is not taken for a change."""
    origin_moved = not same_at(path, origin, base_origin)
    partner_moved = not same_at(path, partner, base_partner)
    if not origin_moved and not partner_moved:
        return FieldOutcome(base, "none", "unchanged")
    if origin_moved and partner_moved:
        if same_at(path, origin, partner):
            return FieldOutcome(origin, "both", "both sides made the same change")
        if owner is not None:
            return resolve_conflict("owner", origin, partner, base, owner=owner, times=times)
        if rule in ("source", "target"):
            return resolve_conflict(rule, origin, partner, base, owner=rule_side, times=times)
        return resolve_conflict(rule, origin, partner, base, owner=owner, times=times)
    mover: Literal["origin", "partner"] = "origin" if origin_moved else "partner"
    if owner is not None and owner != mover:
        kept = partner if owner == "partner" else origin
        return FieldOutcome(
            kept,
            owner,
            "changed on the side that does not own the field; the owner's value is restored",
        )
    return FieldOutcome(origin if origin_moved else partner, mover, "changed on one side")
