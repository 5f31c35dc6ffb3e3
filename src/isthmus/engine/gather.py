"""Gather what the planner needs for a page of changes: views, links, bases, partners.

All reads happen here, in as few calls as possible: one store query per kind of state
and one ``read_by_ids`` per page for linked partners, so the API cost of a page does not
grow with the number of records in it beyond the batch calls. Partners for unlinked
records are found by ``matching`` (exact keys, then fuzzy scoring).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from isthmus.connectors.base import NativeRecord
from isthmus.engine.matching import MatchSession, match_unlinked
from isthmus.engine.observed import Gathered, Observed
from isthmus.engine.plan import RecordInput, SideState
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.sides import SideBinding
from isthmus.errors import LookupUnresolved, RecordError
from isthmus.mapping import MappingError
from isthmus.model.flat import Flat, content_hash
from isthmus.store.base import Store
from isthmus.store.types import Xref


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
        if record.error is not None:
            item.error = record.error  # unreadable at its source: a dead letter as it is
        elif not record.deleted:
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
    session: MatchSession,
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
    _drop_unchanged(ready, xrefs, session.pretend_linked[origin.system], result)
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
    matches = await match_unlinked(
        ready, xrefs, (origin, partner), store, resolver, session, result
    )
    for_review = result.waits_for_review
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
        elif native_id in for_review or native_id in result.kept_apart:
            continue
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


def _drop_unchanged(
    ready: dict[str, Observed], xrefs: dict[str, Xref], pretended: set[str], result: Gathered
) -> None:
    for native_id, item in list(ready.items()):
        known = xrefs.get(native_id)
        if known is not None and item.hash is not None and known.content_hash == item.hash:
            # Same content as we last wrote or read: an echo of our own write, or a
            # touched timestamp. Nothing to do, and no partner read spent on it.
            result.unchanged.append(native_id)
            del ready[native_id]
        elif known is None and native_id in pretended:
            # A dry run linked or created this record from the other side already.
            del ready[native_id]


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
