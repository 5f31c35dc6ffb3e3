"""Read-only views of one record's state for people deciding about it.

``review_sides`` puts a review item's records side by side: each system's current
canonical view (read live, through the mappings), the last agreed base, and which
fields differ, so the person resolving a conflict sees the whole record, not one value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isthmus.engine.flows import FlowBinding
from isthmus.engine.merge import same_at
from isthmus.engine.resolver import StoreResolver
from isthmus.errors import IsthmusError, LookupUnresolved
from isthmus.mapping import MappingError
from isthmus.store.base import Store
from isthmus.store.types import ReviewItem


@dataclass
class SideBySide:
    item: ReviewItem
    systems: list[str]
    native_ids: dict[str, str]
    views: dict[str, dict[str, Any]]  # system -> canonical path -> value
    base: dict[str, Any]
    problems: dict[str, str] = field(default_factory=dict)  # system -> why no view

    def rows(self) -> list[tuple[str, list[Any], Any, bool]]:
        """(path, value per system, base value, differs) for every path either holds."""
        paths = sorted({p for view in self.views.values() for p in view} | set(self.base))
        rows = []
        for path in paths:
            values = [self.views.get(system, {}).get(path) for system in self.systems]
            differs = any(not same_at(path, values[0], other) for other in values[1:])
            rows.append((path, values, self.base.get(path), differs))
        return rows


def _ids(item: ReviewItem, flow: FlowBinding, store: Store) -> dict[str, str]:
    details = item.details
    ids: dict[str, str] = {}
    if details.get("origin_system") and details.get("origin_id"):
        ids[str(details["origin_system"])] = str(details["origin_id"])
    if item.canonical_id:
        linked = store.xrefs_by_canonical(flow.entity, [item.canonical_id]).get(
            item.canonical_id, {}
        )
        for system, xref in linked.items():
            ids.setdefault(system, xref.native_id)
    partner = flow.policy.other(details["origin_system"]) if details.get("origin_system") else None
    if partner and details.get("partner_id"):
        ids.setdefault(partner, str(details["partner_id"]))
    return ids


async def review_sides(flow: FlowBinding, store: Store, item: ReviewItem) -> SideBySide:
    """Both records of a review item as they are now, with the base."""
    ids = _ids(item, flow, store)
    systems = [s for s in (flow.source.system, flow.target.system) if s in ids]
    resolver = StoreResolver(store)
    views: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    for system in systems:
        side = flow.sides[system]
        found = await side.connector.read_by_ids(side.object_name, [ids[system]])
        record = found.get(ids[system])
        if record is None:
            problems[system] = f"{system} {ids[system]} no longer exists"
            continue
        try:
            views[system] = side.view(record.fields, resolver)
        except (MappingError, LookupUnresolved) as error:
            problems[system] = str(error)
    base = store.bases([item.canonical_id]).get(item.canonical_id) if item.canonical_id else None
    if not systems:
        raise IsthmusError(f"review item {item.id} names no record that can be read")
    return SideBySide(item, systems, ids, views, dict(base.fields) if base else {}, problems)
