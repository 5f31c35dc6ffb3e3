"""Flows: list, pause and enable (admin), run now and full resync (operator); runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, not_found
from isthmus.api.models import FlowOut, FlowRunOut, FlowStateOut, ReportOut, RunOut
from isthmus.engine.flows import FlowBinding
from isthmus.engine.runner import RunOptions
from isthmus.queue.base import WorkItem
from isthmus.store import AuditEvent, Run

router = APIRouter(tags=["flows"], responses=ERROR_RESPONSES)
Ctx = Annotated[ApiContext, Depends(context)]


def run_out(run: Run) -> RunOut:
    return RunOut(**{k: getattr(run, k) for k in RunOut.model_fields})


def _flow(ctx: ApiContext, name: str) -> FlowBinding:
    flow = ctx.engine.flows.get(name)
    if flow is None:
        raise not_found(f"no flow named {name!r}", f"Flows: {', '.join(ctx.engine.flows)}.")
    return flow


@router.get("/flows", response_model=list[FlowOut])
def list_flows(ctx: Ctx, _: Annotated[Principal, Depends(require("viewer"))]) -> list[FlowOut]:
    status = ctx.engine.status()
    return [
        FlowOut(
            name=flow.name,
            entity=flow.entity,
            source=flow.source.system,
            target=flow.target.system,
            direction=flow.config.direction,
            paused=flow.name in ctx.engine.paused,
            dead_letters=status[flow.name]["dead_letters"],
            waiting=status[flow.name]["waiting"],
            review=status[flow.name]["review"],
            links=status[flow.name]["links"],
            last_run=run_out(status[flow.name]["last_run"])
            if status[flow.name]["last_run"]
            else None,
        )
        for flow in ctx.engine.ordered()
    ]


def set_paused(ctx: ApiContext, name: str, paused: bool, who: Principal) -> FlowStateOut:
    """Pause or enable a flow as ``who``: stored, applied, audited (API and dashboard)."""
    flow = _flow(ctx, name)
    # Stored first, so the running engine never shows a state a restart would lose.
    ctx.engine.store.set_flow_paused(name, paused, who.actor)
    if paused:
        ctx.engine.paused.add(name)
    else:
        ctx.engine.paused.discard(name)
    state = "paused" if paused else "enabled"
    # A config change is audited like a write: who changed how Isthmus runs, and when.
    with ctx.engine.store.unit_of_work() as uow:
        uow.add_audit(
            [
                AuditEvent(
                    flow=name,
                    entity=flow.entity,
                    action="config",
                    actor=who.actor,
                    message=f"flow {name} {state}",
                )
            ]
        )
    return FlowStateOut(flow=name, paused=paused, state=state)


@router.post("/flows/{name}/pause", response_model=FlowStateOut)
def pause_flow(
    name: str, ctx: Ctx, who: Annotated[Principal, Depends(require("admin"))]
) -> FlowStateOut:
    return set_paused(ctx, name, True, who)


@router.post("/flows/{name}/enable", response_model=FlowStateOut)
def enable_flow(
    name: str, ctx: Ctx, who: Annotated[Principal, Depends(require("admin"))]
) -> FlowStateOut:
    return set_paused(ctx, name, False, who)


@router.post("/flows/{name}/run", response_model=FlowRunOut)
async def run_flow(
    name: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(require("operator"))],
    full: Annotated[bool, Query(description="Full resync: read everything.")] = False,
) -> FlowRunOut:
    flow = _flow(ctx, name)
    if ctx.scheduler is not None and not full:
        # The scheduler's single worker runs it, so it never overlaps a scheduled run.
        await ctx.scheduler.queue.put(WorkItem(name, "run", trigger="api"))
        ctx.scheduler.wake()
        return FlowRunOut(queued=True)
    options = RunOptions(full=full, actor=who.actor)
    async with ctx.writing:
        report = await ctx.engine.run_flow(flow, options, trigger="full" if full else "api")
    ctx.metrics.observe(report)
    return FlowRunOut(queued=False, report=ReportOut.of(report))


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    ctx: Ctx,
    _: Annotated[Principal, Depends(require("viewer"))],
    flow: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[RunOut]:
    if flow is not None:
        _flow(ctx, flow)
    return [run_out(run) for run in ctx.engine.store.runs(flow, limit)]
