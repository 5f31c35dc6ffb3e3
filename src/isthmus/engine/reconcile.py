"""Reconciliation: compare both systems record by record, through the mappings.

Change capture can miss things: a webhook that never came, a feed gap, an edit made
behind the API's back, a restore from backup. Reconciliation reads both sides in full,
puts each record into its canonical view, and reports every way they disagree:

- ``missing``: a record that passes the flow's filters on one side has no partner;
- ``orphaned``: a link whose record no longer exists on one side;
- ``mismatch``: a linked pair whose values differ in a field both sides map, where
  writing either side's value to the other would change something (so a name cut to
  the ERP's 50 characters is not a mismatch: that is what the ERP can hold);
- ``unmappable``: a record the mapping cannot read (its message says why).

Repair sends the affected records through the normal pipeline (the same planner,
policies, audit and safety valves as any sync), so a repair is never a blind overwrite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from isthmus.connectors.base import NativeRecord
from isthmus.engine.filters import passes
from isthmus.engine.flows import FlowBinding
from isthmus.engine.merge import same_at
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.sides import SideBinding
from isthmus.errors import LookupUnresolved
from isthmus.mapping import MappingError
from isthmus.model.flat import Flat
from isthmus.store.base import Store

DriftKind = Literal["missing", "orphaned", "mismatch", "unmappable"]
SAMPLES_KEPT = 10


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    system: str  # where the problem shows: the side missing a partner, or lacking a record
    native_id: str | None
    canonical_id: str | None = None
    field: str | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)  # per system
    detail: str = ""
    # The (system, native id) pairs to send through the pipeline to repair this drift.
    repair: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "system": self.system,
            "native_id": self.native_id,
            "canonical_id": self.canonical_id,
            "field": self.field,
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "detail": self.detail,
        }


@dataclass
class ReconcileReport:
    flow: str
    compared: int = 0  # linked pairs compared field by field
    in_agreement: int = 0
    records: dict[str, int] = field(default_factory=dict)  # live records read, per system
    drifts: list[Drift] = field(default_factory=list)

    def count(self, kind: DriftKind) -> int:
        return sum(1 for drift in self.drifts if drift.kind == kind)

    def counts(self) -> dict[str, int]:
        return {
            kind: self.count(kind) for kind in ("missing", "orphaned", "mismatch", "unmappable")
        }

    @property
    def clean(self) -> bool:
        return not self.drifts

    def samples(self, kind: DriftKind) -> list[Drift]:
        return [drift for drift in self.drifts if drift.kind == kind][:SAMPLES_KEPT]

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "records": self.records,
            "compared": self.compared,
            "in_agreement": self.in_agreement,
            "counts": self.counts(),
            "drifts": [drift.as_dict() for drift in self.drifts],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass
class _Side:
    binding: SideBinding
    records: dict[str, NativeRecord]
    views: dict[str, Flat] = field(default_factory=dict)


async def _read_all(side: SideBinding, page_size: int) -> dict[str, NativeRecord]:
    records: dict[str, NativeRecord] = {}
    async for page in side.connector.read_changes(side.object_name, None, page_size=page_size):
        for record in page.records:
            if record.deleted:
                records.pop(record.id, None)
            else:
                records[record.id] = record
    return records


async def reconcile_flow(flow: FlowBinding, store: Store) -> ReconcileReport:
    """Read both sides of ``flow`` in full and report every disagreement."""
    report = ReconcileReport(flow.name)
    resolver = StoreResolver(store)
    sides = {}
    for binding in (flow.source, flow.target):
        records = await _read_all(binding, flow.config.page_size)
        report.records[binding.system] = len(records)
        side = _Side(binding, records)
        report.drifts.extend(_views(side, resolver))
        sides[binding.system] = side
    source, target = sides[flow.source.system], sides[flow.target.system]
    linked = _links(flow, store)
    for canonical_id, ids in linked.items():
        report.drifts.extend(
            _compare_pair(flow, canonical_id, ids, (source, target), report, resolver)
        )
    apart = _decoupled(flow, store)
    for origin, partner in ((source, target), (target, source)):
        if flow.config.direction == "one_way" and origin is target:
            continue  # a one-way target may hold records the source never had
        report.drifts.extend(_unlinked(flow, origin, partner, store, apart))
    return report


def _views(side: _Side, resolver: StoreResolver) -> Iterator[Drift]:
    for native_id, record in side.records.items():
        try:
            side.views[native_id] = side.binding.view(record.fields, resolver)
        except (MappingError, LookupUnresolved) as error:
            yield Drift(
                "unmappable",
                side.binding.system,
                native_id,
                detail=str(error),
                repair=((side.binding.system, native_id),),
            )


def _links(flow: FlowBinding, store: Store) -> dict[str, dict[str, str]]:
    """canonical id -> {system: native id} for every link of the flow's entity."""
    linked: dict[str, dict[str, str]] = {}
    for system in (flow.source.system, flow.target.system):
        for xref in store.iter_xrefs(flow.entity, system):
            linked.setdefault(xref.canonical_id, {})[system] = xref.native_id
    return linked


def _compare_pair(
    flow: FlowBinding,
    canonical_id: str,
    ids: dict[str, str],
    pair: tuple[_Side, _Side],
    report: ReconcileReport,
    resolver: StoreResolver,
) -> Iterator[Drift]:
    source, target = pair
    present = {
        side.binding.system: ids[side.binding.system]
        for side in (source, target)
        if side.binding.system in ids and ids[side.binding.system] in side.records
    }
    for side in (source, target):
        system = side.binding.system
        if system in ids and system not in present:
            yield Drift(
                "orphaned",
                system,
                ids[system],
                canonical_id,
                detail=f"linked {system} record {ids[system]} no longer exists in {system}",
                # Re-read, the vanished record is a delete the feed missed: the flow's
                # on_delete rule decides what happens to its partner.
                repair=((system, ids[system]),),
            )
    if len(present) < 2:
        return
    source_id, target_id = present[source.binding.system], present[target.binding.system]
    left, right = source.views.get(source_id), target.views.get(target_id)
    if left is None or right is None:
        return  # unmappable, already reported
    report.compared += 1
    differing = list(_differences(flow, left, right, resolver))
    if not differing:
        report.in_agreement += 1
        return
    repair: tuple[tuple[str, str], ...] = ((source.binding.system, source_id),)
    if flow.config.direction == "both":
        repair = (*repair, (target.binding.system, target_id))
    for path in differing:
        yield Drift(
            "mismatch",
            target.binding.system,
            target_id,
            canonical_id,
            field=path,
            values={source.binding.system: left.get(path), target.binding.system: right.get(path)},
            detail=f"{source.binding.system} {source_id} and {target.binding.system} "
            f"{target_id} disagree on {path}",
            repair=repair,
        )


def _differences(
    flow: FlowBinding, left: Flat, right: Flat, resolver: StoreResolver
) -> Iterator[str]:
    source, target = flow.source, flow.target
    shared = source.readable_paths() & target.readable_paths()
    travelling = source.writable_paths() | target.writable_paths()
    as_target = _project(target, left, resolver)
    as_source = _project(source, right, resolver)
    for path in sorted(shared & travelling):
        a, b = left.get(path), right.get(path)
        if same_at(path, a, b):
            continue
        # Agreement up to what each side can hold: writing one side's value to the
        # other would change nothing (truncation, rounding, normalisation).
        if as_target is not None and same_at(path, as_target.get(path, a), b):
            continue
        if as_source is not None and same_at(path, as_source.get(path, b), a):
            continue
        yield path


def _project(side: SideBinding, view: Flat, resolver: StoreResolver) -> Flat | None:
    try:
        return side.project(view, resolver)
    except (MappingError, LookupUnresolved):
        # The other side could not hold this record at all (a parent without a link, a
        # value its mapping refuses): compare values as they are.
        return None


def _decoupled(flow: FlowBinding, store: Store) -> set[tuple[str, str]]:
    """Records whose link the flow removed on purpose (on_delete: decouple)."""
    events = store.audit_events(flow=flow.name, action="unlink", limit=1_000_000)
    apart: set[tuple[str, str]] = set()
    for event in events:
        if event.system and event.native_id:
            apart.add((event.system, event.native_id))
        if event.system and event.other_value:
            apart.add((flow.policy.other(event.system), str(event.other_value)))
    return apart


def _unlinked(
    flow: FlowBinding, origin: _Side, partner: _Side, store: Store, apart: set[tuple[str, str]]
) -> Iterator[Drift]:
    system = origin.binding.system
    known = store.xrefs_by_native(flow.entity, system, list(origin.views))
    for native_id, view in origin.views.items():
        if native_id in known or not passes(view, flow.config.filter):
            continue
        if (system, native_id) in apart:
            continue  # its partner was deleted and the flow decouples: not a drift
        yield Drift(
            "missing",
            partner.binding.system,
            None,
            detail=f"{system} {native_id} has no partner in {partner.binding.system}",
            values={system: native_id},
            repair=((system, native_id),),
        )
