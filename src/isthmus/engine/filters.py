"""Flow filters: which canonical records a flow takes at all (``filter:`` in a flow)."""

from __future__ import annotations

from collections.abc import Sequence

from isthmus.engine.config import FilterRule
from isthmus.engine.merge import is_empty, same
from isthmus.model.flat import Flat, normalise_value


def passes(view: Flat, rules: Sequence[FilterRule]) -> bool:
    """True when the record satisfies every rule (an empty rule list takes everything)."""
    for rule in rules:
        value = view.get(rule.field)
        if rule.equals is not None and not same(value, normalise_value(rule.equals)):
            return False
        if rule.not_equals is not None and same(value, normalise_value(rule.not_equals)):
            return False
        if rule.in_ is not None and not any(same(value, normalise_value(v)) for v in rule.in_):
            return False
        if rule.not_empty is not None and is_empty(value) == rule.not_empty:
            return False
    return True
