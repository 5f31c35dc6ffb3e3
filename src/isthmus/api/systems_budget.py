"""The API budget a connector exposes, if any.

No connector interface method exists for it yet; a connector that tracks its vendor's
quota (e.g. Salesforce's ``Sforce-Limit-Info``) offers ``api_budget()`` returning
``{"remaining": n, "limit": m}``. Anything else means "unknown".
"""

from __future__ import annotations

from typing import Any


def budget_of(connector: Any) -> dict[str, float] | None:
    method = getattr(connector, "api_budget", None)
    if not callable(method):
        return None
    try:
        found = method()
    except Exception:  # a budget probe must never break health or metrics
        return None
    if not isinstance(found, dict):
        return None
    return {str(k): float(v) for k, v in found.items() if isinstance(v, int | float)}
