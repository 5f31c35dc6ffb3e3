"""Records by either system's native id (link, base, history) and audit search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, ApiError, not_found
from isthmus.api.masking import MASK, is_sensitive, mask_fields
from isthmus.api.models import AuditOut, RecordOut, XrefOut
from isthmus.store import AuditEvent

router = APIRouter(tags=["records"], responses=ERROR_RESPONSES)
Ctx = Annotated[ApiContext, Depends(context)]
Viewer = Annotated[Principal, Depends(require("viewer"))]
VALUE_FIELDS = ("old_value", "new_value", "base_value", "other_value")


def audit_out(event: AuditEvent, ctx: ApiContext, who: Principal) -> AuditOut:
    answer = AuditOut(**{k: getattr(event, k) for k in AuditOut.model_fields})
    paths = ctx.sensitive.paths(event.entity)
    if who.at_least("operator") or not paths:
        return answer
    if is_sensitive(event.field, paths):
        return answer.model_copy(update=dict.fromkeys(VALUE_FIELDS, MASK))
    # A create or delete carries the whole record as one value: mask inside it.
    masked = {
        name: mask_fields(value, paths)
        for name in VALUE_FIELDS
        if isinstance(value := getattr(event, name), dict)
    }
    return answer.model_copy(update=masked)


@router.get("/records/{system}/{native_id}", response_model=RecordOut)
def show_record(
    system: str,
    native_id: str,
    ctx: Ctx,
    who: Viewer,
    entity: Annotated[str | None, Query(description="Only this entity.")] = None,
    history: Annotated[int, Query(ge=0, le=1000)] = 100,
) -> RecordOut:
    engine = ctx.engine
    if system not in engine.connectors:
        raise not_found(f"no system named {system!r}", f"Systems: {', '.join(engine.connectors)}.")
    entities = sorted({f.entity for f in engine.flows.values() if system in f.sides})
    if entity is not None:
        entities = [e for e in entities if e == entity]
    for name in entities:
        xref = engine.store.xrefs_by_native(name, system, [native_id]).get(native_id)
        if xref is None:
            continue
        sides = engine.store.xrefs_by_canonical(name, [xref.canonical_id]).get(
            xref.canonical_id, {}
        )
        base = engine.store.bases([xref.canonical_id]).get(xref.canonical_id)
        fields = dict(base.fields) if base is not None else None
        if fields is not None and not who.at_least("operator"):
            fields = mask_fields(fields, ctx.sensitive.paths(name))
        events = engine.store.audit_events(canonical_id=xref.canonical_id, limit=history)
        return RecordOut(
            entity=name,
            canonical_id=xref.canonical_id,
            links=[XrefOut(system=s, native_id=x.native_id) for s, x in sorted(sides.items())],
            base=fields,
            history=[audit_out(event, ctx, who) for event in events],
        )
    raise not_found(
        f"record {native_id!r} of {system} is not linked",
        "Check the id; a record is linked once a flow has synced it.",
    )


@router.get("/audit", response_model=list[AuditOut])
def search_audit(
    ctx: Ctx,
    who: Viewer,
    canonical_id: str | None = None,
    flow: str | None = None,
    field: str | None = None,
    system: str | None = None,
    native_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    if since is not None and until is not None and since > until:
        raise ApiError(422, "since is after until", "Give a time range that starts before it ends.")
    # The store filters all but actor and until; fetch more and filter those here.
    fetch = limit if actor is None and until is None else 5000
    events = ctx.engine.store.audit_events(
        canonical_id=canonical_id,
        flow=flow,
        field=field,
        system=system,
        native_id=native_id,
        since=since,
        limit=fetch,
    )
    chosen = [
        event
        for event in events
        if (actor is None or event.actor == actor)
        and (until is None or (event.at is not None and _aware(event.at) <= _aware(until)))
    ]
    return [audit_out(event, ctx, who) for event in chosen[:limit]]


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
