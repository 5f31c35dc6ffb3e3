"""Exact-key matching: link an unlinked record to the one partner record with its key.

The invariant is "never a second partner": a partner record already linked to another
business record is not a candidate; one claimed by an earlier record of the same page
is not given twice; and a key shared by several free partner records proves nothing,
so it goes to review as a possible duplicate instead of being guessed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ExactMatches:
    matched: dict[str, str] = field(default_factory=dict)  # origin id -> partner id
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # origin id -> candidates


def match_exact(
    wanted: Mapping[str, Any],
    found: Mapping[str, Sequence[str]],
    linked: Collection[str],
    claimed: set[str],
    result: ExactMatches | None = None,
) -> ExactMatches:
    """Decide matches for one key.

    Args:
        wanted: origin record id -> its key value.
        found: key value (as a string) -> partner record ids holding it.
        linked: partner ids already linked to some business record.
        claimed: partner ids matched earlier in this page; updated in place.
        result: decisions of earlier keys, extended (records matched there are skipped).
    """
    result = result or ExactMatches()
    for origin_id, value in wanted.items():
        if origin_id in result.matched:
            continue
        free = [pid for pid in found.get(str(value), []) if pid not in linked]
        if len(free) == 1 and free[0] in claimed:
            # Two records of this page share the key: the second is a duplicate to review.
            result.ambiguous[origin_id] = free
        elif len(free) == 1:
            # A later, more selective key settles what an earlier one left ambiguous.
            claimed.add(free[0])
            result.matched[origin_id] = free[0]
            result.ambiguous.pop(origin_id, None)
        elif len(free) > 1:
            result.ambiguous[origin_id] = free
    return result
