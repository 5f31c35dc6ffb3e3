"""Gather what the planner needs for a page of changes: views, links, bases, partners.

All reads happen here, in as few calls as possible: one store query per kind of state
and one ``read_by_ids`` (and at most one ``lookup`` per match key) per page, so the API
cost of a page does not grow with the number of records in it beyond the batch calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from isthmus.connectors.base import NativeRecord
from isthmus.engine.plan import RecordInput, SideState
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.sides import SideBinding
from isthmus.errors import LookupUnresolved, RecordError
from isthmus.mapping import MappingError
from isthmus.match import ExactMatches, match_exact
from isthmus.model.flat import Flat, content_hash
from isthmus.store.base import Store
from isthmus.store.types import Xref


@dataclass
class Observed:
    """One record of the page after canonicalisation."""

    record: NativeRecord
    view: Flat | None = None
    hash: str | None = None
    error: RecordError | None = None
    waiting_on: LookupUnresolved | None = None


@dataclass
class Gathered:
    inputs: list[RecordInput] = field(default_factory=list)
    observed: dict[str, Observed] = field(default_factory=dict)
    # native records as each side holds them, keyed (system, native_id): the executor
    # diffs native fields against these so it only sends what really changes.
    natives: dict[tuple[str, str], NativeRecord] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    origin_xrefs: dict[str, Xref] = field(default_factory=dict)
    _partners: dict[str, SideState | None] | None = None

    def partner_of(self, key: str) -> SideState | None:
        """The partner state planned for a record key (an index, built once per page)."""
        if self._partners is None or len(self._partners) != len(self.inputs):
            self._partners = {item.key: item.partner for item in self.inputs}
        return self._partners.get(key)


def dedup_latest(records: Sequence[NativeRecord]) -> list[NativeRecord]:
    """Keep the last occurrence of each id (a lookback window can repeat records)."""
    latest: dict[str, NativeRecord] = {}
    for record in records:
        latest.pop(record.id, None)
        latest[record.id] = record
    return list(latest.values())


def canonicalise(
    records: Sequence[NativeRecord], side: SideBinding, resolver: StoreResolver
) -> dict[str, Observed]:
    observed: dict[str, Observed] = {}
    for record in records:
        item = Observed(record)
        if not record.deleted:
            try:
                item.view = side.view(record.fields, resolver)
                item.hash = content_hash(item.view)
            except MappingError as error:
                item.error = error.to_record_error()
            except LookupUnresolved as error:
                item.waiting_on = error
        observed[record.id] = item
    return observed


async def gather(
    observed: dict[str, Observed],
    origin: SideBinding,
    partner: SideBinding,
    store: Store,
    resolver: StoreResolver,
    match_keys: Sequence[str],
) -> Gathered:
    entity = origin.entity
    result = Gathered(observed=observed)
    ready = {
        nid: item
        for nid, item in observed.items()
        if item.error is None and item.waiting_on is None
    }
    xrefs = store.xrefs_by_native(entity, origin.system, list(ready))
    result.origin_xrefs = xrefs
    for native_id, item in list(ready.items()):
        known = xrefs.get(native_id)
        if known is not None and item.hash is not None and known.content_hash == item.hash:
            # Same content as we last wrote or read: an echo of our own write, or a
            # touched timestamp. Nothing to do, and no partner read spent on it.
            result.unchanged.append(native_id)
            del ready[native_id]
    canonical_ids = [xrefs[nid].canonical_id for nid in ready if nid in xrefs]
    partner_xrefs = store.xrefs_by_canonical(entity, canonical_ids)
    bases = store.bases(canonical_ids)
    partner_ids = {
        cid: sides[partner.system].native_id
        for cid, sides in partner_xrefs.items()
        if partner.system in sides
    }
    partner_records = (
        await partner.connector.read_by_ids(partner.object_name, sorted(set(partner_ids.values())))
        if partner_ids
        else {}
    )
    for record in partner_records.values():
        result.natives[(partner.system, record.id)] = record
    matches = await _match(ready, xrefs, partner, store, resolver, match_keys, result)
    for native_id, item in ready.items():
        result.natives[(origin.system, native_id)] = item.record
        link = xrefs.get(native_id)
        canonical_id = link.canonical_id if link else None
        known_base = bases.get(canonical_id) if canonical_id is not None else None
        base = known_base.fields if known_base is not None else None
        partner_state: SideState | None = None
        linked = False
        if canonical_id is not None and canonical_id in partner_ids:
            linked = True
            try:
                partner_state = _partner_state(
                    partner, partner_ids[canonical_id], partner_records, resolver, base
                )
            except MappingError as error:
                item.error = _partner_unreadable(partner, partner_ids[canonical_id], error)
                continue
        elif native_id in matches:
            partner_state = matches[native_id]
        if canonical_id is None:
            canonical_id = str(uuid.uuid4())
        origin_state = SideState(
            origin.system,
            native_id,
            item.view,
            base_view=origin.project(base, resolver) if base and item.view else None,
            modified_at=item.record.modified_at,
        )
        result.inputs.append(
            RecordInput(
                f"{origin.system}:{native_id}",
                origin_state,
                partner_state,
                canonical_id,
                base,
                linked,
            )
        )
    return result


def _partner_unreadable(partner: SideBinding, native_id: str, error: MappingError) -> RecordError:
    inner = error.to_record_error()
    return RecordError(
        "validation",
        f"the linked {partner.system} record {native_id} cannot be mapped: {inner.message}",
        field=inner.field,
    )


def _partner_state(
    partner: SideBinding,
    native_id: str,
    records: dict[str, NativeRecord],
    resolver: StoreResolver,
    base: Flat | None,
) -> SideState:
    record = records.get(native_id)
    if record is None or record.deleted:
        return SideState(partner.system, native_id, None)
    view = partner.view(record.fields, resolver)
    return SideState(
        partner.system,
        native_id,
        view,
        base_view=partner.project(base, resolver) if base else None,
        modified_at=record.modified_at,
    )


async def _match(
    ready: dict[str, Observed],
    xrefs: dict[str, Xref],
    partner: SideBinding,
    store: Store,
    resolver: StoreResolver,
    keys: Sequence[str],
    result: Gathered,
) -> dict[str, SideState]:
    """Exact-key matching of unlinked records against the partner, before any create."""
    unlinked = {
        nid: item for nid, item in ready.items() if nid not in xrefs and item.view is not None
    }
    claimed: set[str] = set()  # a partner record can be matched by one record only
    decided = ExactMatches()
    candidates: dict[str, NativeRecord] = {}
    entity = partner.entity
    for key in keys:
        native_field = partner.native_field_for(key)
        wanted = {
            nid: item.view[key]
            for nid, item in unlinked.items()
            if nid not in decided.matched and item.view and item.view.get(key) not in (None, "")
        }
        if native_field is None or not wanted:
            continue
        found = await partner.connector.lookup(
            partner.object_name, native_field, sorted({str(v) for v in wanted.values()})
        )
        candidates.update((rec.id, rec) for recs in found.values() for rec in recs)
        linked = store.xrefs_by_native(
            entity, partner.system, [rec.id for recs in found.values() for rec in recs]
        )
        found_ids = {value: [rec.id for rec in recs] for value, recs in found.items()}
        match_exact(wanted, found_ids, set(linked), claimed, decided)
    result.duplicates.update(decided.ambiguous)
    matches: dict[str, SideState] = {}
    for nid, partner_id in decided.matched.items():
        record = candidates[partner_id]
        result.natives[(partner.system, record.id)] = record
        matches[nid] = SideState(
            partner.system,
            record.id,
            partner.view(record.fields, resolver),
            modified_at=record.modified_at,
        )
    return matches
