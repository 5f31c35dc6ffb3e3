"""Apply a person's decision on a review item: one value for one field, on both sides;
or, for a possible duplicate, link it to the candidate the person picked or create it.

A resolution is planned like any other change (a ``RecordPlan`` with writes and a new
base) and goes through the same executor and the same commit, so it is audited, its
writes are idempotent, and a failure lands in dead letters like any other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from isthmus.connectors.base import NativeRecord
from isthmus.engine.observed import Gathered, Observed
from isthmus.engine.plan import Decision, RecordInput, RecordPlan, SideState, Write, plan_record
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.runner import FlowRunner
from isthmus.engine.sides import SideBinding
from isthmus.errors import IsthmusError
from isthmus.model.flat import normalise_value
from isthmus.store.types import AuditEvent, ReviewItem


@dataclass(frozen=True)
class DuplicateChoice:
    """A person's decision on a possible duplicate: link to ``link``, or create anew."""

    link: str | None = None
    create: bool = False


async def apply_resolution(
    runner: FlowRunner, item: ReviewItem, take: str | None, value: Any, actor: str
) -> None:
    if item.kind == "duplicate":
        if not isinstance(value, DuplicateChoice) or (value.link is None) == (not value.create):
            raise IsthmusError(
                f"review item {item.id} is a possible duplicate: resolve it with "
                "--link ID (one of its candidates) or --create"
            )
        await _resolve_duplicate(runner, item, value, actor)
        return
    if isinstance(value, DuplicateChoice):
        raise IsthmusError(
            f"review item {item.id} is a {item.kind}; --link and --create are for duplicates, "
            "resolve it with --take SYSTEM or --value VALUE"
        )
    await _resolve_conflict(runner, item, take, value, actor)


async def _resolve_conflict(
    runner: FlowRunner, item: ReviewItem, take: str | None, value: Any, actor: str
) -> None:
    flow = runner.flow
    field = item.details.get("field")
    cid = item.canonical_id
    if item.kind != "conflict" or not field or cid is None or field == "*":
        raise IsthmusError(
            f"review item {item.id} is a {item.kind}; only field conflicts can "
            "be resolved with --take/--value for now"
        )
    sides = runner.store.xrefs_by_canonical(flow.entity, [cid]).get(cid, {})
    missing = [name for name in flow.sides if name not in sides]
    if missing:
        raise IsthmusError(f"record {cid} is no longer linked in {', '.join(missing)}")
    if take is not None and take not in flow.sides:
        raise IsthmusError(f"--take must name one of {', '.join(flow.sides)}, not {take!r}")
    resolver = StoreResolver(runner.store)
    gathered = Gathered()
    views: dict[str, dict[str, Any]] = {}
    for system, side in flow.sides.items():
        native_id = sides[system].native_id
        found = await side.connector.read_by_ids(side.object_name, [native_id])
        if native_id not in found:
            raise IsthmusError(f"{system} record {native_id} no longer exists")
        gathered.natives[(system, native_id)] = found[native_id]
        views[system] = side.view(found[native_id].fields, resolver)
    chosen = views[take].get(field) if take is not None else normalise_value(value)
    base_row = runner.store.bases([cid]).get(cid)
    new_base = dict(base_row.fields if base_row else {})
    new_base[field] = chosen
    writes = tuple(
        Write(
            system, "update", sides[system].native_id, {**view, field: chosen}, frozenset({field})
        )
        for system, view in views.items()
        if view.get(field) != chosen
    )
    origin, partner = flow.source, flow.target
    decision = Decision(
        field,
        chosen,
        views[origin.system].get(field),
        views[partner.system].get(field),
        (base_row.fields if base_row else {}).get(field),
        f"resolved by {actor}",
        f"review item {item.id} resolved by {actor}",
        conflict=False,
    )
    plan = RecordPlan(
        f"{origin.system}:{sides[origin.system].native_id}",
        "update",
        cid,
        decision.reason,
        writes=writes,
        new_base=new_base,
        decisions=(decision,),
    )
    observed = Observed(
        gathered.natives[(origin.system, sides[origin.system].native_id)], view=views[origin.system]
    )
    gathered.observed[observed.record.id] = observed
    gathered.inputs.append(
        RecordInput(
            plan.key,
            SideState(origin.system, observed.record.id, views[origin.system]),
            SideState(partner.system, sides[partner.system].native_id, views[partner.system]),
            cid,
            new_base,
            linked=True,
        )
    )
    await runner.execute_and_record(
        [(plan, observed)],
        origin,
        partner,
        gathered,
        resolver,
        after=lambda uow: _close(uow, item, chosen, actor),
    )


def _close(uow: Any, item: ReviewItem, chosen: Any, actor: str) -> None:
    assert item.id is not None
    resolution = chosen if item.kind == "duplicate" else {"value": chosen}
    uow.resolve_review_item(item.id, "resolved", resolution, actor)
    uow.add_audit(
        [
            AuditEvent(
                flow=item.flow,
                entity=item.entity,
                action="resolve",
                canonical_id=item.canonical_id,
                field=item.details.get("field"),
                new_value=chosen,
                actor=actor,
                message=f"review item {item.id} resolved",
            )
        ]
    )


async def _resolve_duplicate(
    runner: FlowRunner, item: ReviewItem, choice: DuplicateChoice, actor: str
) -> None:
    """Plan the record as matched to the chosen partner, or as new, and execute it like
    any sync: a link merges both records (first meeting), a create writes the record."""
    flow, store, details = runner.flow, runner.store, item.details
    origin = flow.sides[details["origin_system"]]
    partner = flow.sides[details["partner_system"]]
    origin_id = details["origin_id"]
    if store.xrefs_by_native(flow.entity, origin.system, [origin_id]):
        assert item.id is not None
        with store.unit_of_work() as uow:
            uow.resolve_review_item(item.id, "dismissed", {"moot": "linked meanwhile"}, actor)
        raise IsthmusError(
            f"{origin.system} record {origin_id} was linked meanwhile, so review item "
            f"{item.id} has nothing left to decide; it is closed"
        )
    resolver = StoreResolver(store)
    gathered = Gathered()
    record = await _read_one(origin, origin_id, gathered)
    view = origin.view(record.fields, resolver)
    partner_state = (
        await _chosen_partner(runner, partner, choice.link, gathered)
        if choice.link is not None
        else None
    )
    state = SideState(origin.system, origin_id, view, modified_at=record.modified_at)
    record_input = RecordInput(
        f"{origin.system}:{origin_id}", state, partner_state, str(uuid.uuid4()), None, False
    )
    plan = plan_record(record_input, flow.policy)
    if plan.action == "skip":
        raise IsthmusError(f"cannot resolve review item {item.id}: {plan.reason}")
    observed = Observed(record, view=view)
    gathered.observed[origin_id] = observed
    gathered.inputs.append(record_input)
    resolution = {"link": choice.link} if choice.link else {"create": True}

    def close(uow: Any) -> None:
        if choice.link is not None:
            # The chosen partner may wait as a held record: it is linked now.
            uow.set_dead_letter_status(flow.name, partner.system, choice.link, "resolved")
        _close(uow, item, resolution, actor)

    await runner.execute_and_record(
        [(plan, observed)], origin, partner, gathered, resolver, after=close
    )


async def _chosen_partner(
    runner: FlowRunner, partner: SideBinding, native_id: str, gathered: Gathered
) -> SideState:
    if runner.store.xrefs_by_native(runner.flow.entity, partner.system, [native_id]):
        raise IsthmusError(
            f"{partner.system} record {native_id} is already linked to another record; "
            "pick another candidate or --create"
        )
    chosen = await _read_one(partner, native_id, gathered)
    view = partner.view(chosen.fields, StoreResolver(runner.store))
    return SideState(partner.system, chosen.id, view, modified_at=chosen.modified_at)


async def _read_one(side: SideBinding, native_id: str, gathered: Gathered) -> NativeRecord:
    found = await side.connector.read_by_ids(side.object_name, [native_id])
    if native_id not in found:
        raise IsthmusError(f"{side.system} record {native_id} no longer exists")
    gathered.natives[(side.system, native_id)] = found[native_id]
    return found[native_id]
