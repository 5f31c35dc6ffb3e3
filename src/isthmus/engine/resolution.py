"""Apply a person's decision on a review item: one value for one field, on both sides.

A resolution is planned like any other change (a ``RecordPlan`` with writes and a new
base) and goes through the same executor and the same commit, so it is audited, its
writes are idempotent, and a failure lands in dead letters like any other.
"""

from __future__ import annotations

from typing import Any

from isthmus.engine.gather import Gathered, Observed
from isthmus.engine.plan import Decision, RecordInput, RecordPlan, SideState, Write
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.runner import FlowRunner
from isthmus.errors import IsthmusError
from isthmus.model.flat import normalise_value
from isthmus.store.types import AuditEvent, ReviewItem


async def apply_resolution(
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
    uow.resolve_review_item(item.id, "resolved", {"value": chosen}, actor)
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
