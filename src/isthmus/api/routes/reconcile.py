"""Reconciliation: run it (operator), see the latest reports (viewer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, not_found
from isthmus.api.masking import MASK, is_sensitive
from isthmus.api.models import ReconcileOut
from isthmus.engine.reconcile import ReconcileReport

router = APIRouter(tags=["reconciliation"], responses=ERROR_RESPONSES)
Ctx = Annotated[ApiContext, Depends(context)]


def reconcile_out(found: ReconcileReport, ctx: ApiContext, who: Principal) -> ReconcileOut:
    entity = ctx.engine.flows[found.flow].entity
    paths = ctx.sensitive.paths(entity)
    drifts = []
    for drift in found.drifts:
        shown = drift.as_dict()
        if not who.at_least("operator") and is_sensitive(drift.field, paths):
            shown["values"] = dict.fromkeys(drift.values, MASK)
        drifts.append(shown)
    return ReconcileOut(
        flow=found.flow,
        compared=found.compared,
        in_agreement=found.in_agreement,
        clean=found.clean,
        counts=found.counts(),
        records=dict(found.records),
        drifts=drifts,
    )


@router.post("/reconcile", response_model=list[ReconcileOut])
async def run_reconcile(
    ctx: Ctx,
    who: Annotated[Principal, Depends(require("operator"))],
    flow: str | None = None,
) -> list[ReconcileOut]:
    if flow is not None and flow not in ctx.engine.flows:
        raise not_found(f"no flow named {flow!r}", "GET /flows lists them.")
    async with ctx.writing:
        reports = await ctx.engine.reconcile([flow] if flow else None)
    for found in reports:
        ctx.reconciled[found.flow] = found
    return [reconcile_out(found, ctx, who) for found in reports]


@router.get("/reconcile/reports", response_model=list[ReconcileOut])
def latest_reports(
    ctx: Ctx, who: Annotated[Principal, Depends(require("viewer"))]
) -> list[ReconcileOut]:
    """The newest reconciliation of each flow run by this process (the run history,
    GET /runs, shows every reconciliation with its counts)."""
    return [reconcile_out(found, ctx, who) for found in ctx.reconciled.values()]
