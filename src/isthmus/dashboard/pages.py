"""Dashboard pages that show: overview, flows, dead letters, review, records,
reconciliation. Values pass through the API's own output functions, so a viewer sees
sensitive fields masked exactly as in the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from isthmus.api.errors import ApiError
from isthmus.api.routes.flows import run_out
from isthmus.api.routes.letters import letter_out
from isthmus.api.routes.reconcile import reconcile_out
from isthmus.api.routes.records import show_record
from isthmus.api.routes.review import review_out, show_review
from isthmus.dashboard.charts import bar_chart
from isthmus.dashboard.kpis import kpis_of
from isthmus.dashboard.session import Session
from isthmus.dashboard.web import ctx_of, render, session_of

router = APIRouter(prefix="/dashboard", include_in_schema=False)
Signed = Annotated[Session, Depends(session_of)]


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: Signed) -> HTMLResponse:
    ctx = ctx_of(request)
    kpis = kpis_of(ctx)
    charts = {
        "per_min": bar_chart(
            kpis.records_per_min.values,
            kpis.records_per_min.starts,
            unit="records/min",
            label="records per minute",
        ),
        "success": bar_chart(
            kpis.success_series.values,
            kpis.success_series.starts,
            unit="% succeeded",
            ceiling=100,
            label="success rate",
        ),
        "p95": bar_chart(
            kpis.p95_series.values, kpis.p95_series.starts, unit="s", label="p95 run latency"
        ),
        "errors": bar_chart(
            kpis.errors_series.values,
            kpis.errors_series.starts,
            unit="dead letters",
            label="errors",
        ),
    }
    status = ctx.engine.status()
    flows = [
        {
            "name": flow.name,
            "entity": flow.entity,
            "source": flow.source.system,
            "target": flow.target.system,
            "paused": flow.name in ctx.engine.paused,
            **status[flow.name],
        }
        for flow in ctx.engine.ordered()
    ]
    return render(request, "overview.html", session, kpis=kpis, charts=charts, flow_rows=flows)


@router.get("/flows/{name}", response_class=HTMLResponse)
def flow_page(name: str, request: Request, session: Signed) -> HTMLResponse:
    ctx = ctx_of(request)
    flow = ctx.engine.flows.get(name)
    if flow is None:
        return render(request, "missing.html", session, what=f"no flow named {name!r}")
    runs = [run_out(run) for run in ctx.engine.store.runs(name, 50)]
    return render(
        request,
        "flow.html",
        session,
        flow=flow,
        paused=name in ctx.engine.paused,
        status=ctx.engine.status()[name],
        runs=runs,
    )


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letters(
    request: Request, session: Signed, flow: str | None = None, status: str = "open"
) -> HTMLResponse:
    ctx = ctx_of(request)
    chosen = status if status in ("open", "waiting", "resolved", "discarded") else "open"
    letters = ctx.engine.store.dead_letters(flow=flow or None, status=chosen, limit=500)  # type: ignore[arg-type]
    shown = [letter_out(letter, ctx, session.principal) for letter in letters]
    return render(request, "letters.html", session, letters=shown, flow=flow or "", status=chosen)


@router.get("/review", response_class=HTMLResponse)
def review_list(request: Request, session: Signed, flow: str | None = None) -> HTMLResponse:
    ctx = ctx_of(request)
    items = ctx.engine.store.review_items(flow=flow or None, status="open", limit=500)
    shown = [review_out(item, ctx, session.principal) for item in items]
    return render(request, "review_list.html", session, items=shown, flow=flow or "")


@router.get("/review/{item_id}", response_class=HTMLResponse)
async def review_item(item_id: int, request: Request, session: Signed) -> HTMLResponse:
    ctx = ctx_of(request)
    if ctx.engine.store.review_item(item_id) is None:
        return render(request, "missing.html", session, what=f"no review item with id {item_id}")
    sides = await show_review(item_id, ctx, session.principal)
    return render(request, "review_item.html", session, sides=sides)


@router.get("/records", response_class=HTMLResponse)
def record_page(
    request: Request, session: Signed, system: str = "", native_id: str = ""
) -> HTMLResponse:
    ctx = ctx_of(request)
    record, problem = None, None
    if system and native_id:
        try:
            record = show_record(system, native_id, ctx, session.principal, None, 100)
        except ApiError as error:
            problem = f"{error.error}. {error.what_to_do}"
    return render(
        request,
        "record.html",
        session,
        record=record,
        problem=problem,
        system=system,
        native_id=native_id,
        systems=list(ctx.engine.connectors),
    )


@router.get("/reconcile", response_class=HTMLResponse)
def reconcile_page(request: Request, session: Signed) -> HTMLResponse:
    ctx = ctx_of(request)
    reports = [reconcile_out(found, ctx, session.principal) for found in ctx.reconciled.values()]
    history = [
        run_out(run) for run in ctx.engine.store.runs(None, 200) if run.trigger == "reconcile"
    ][:20]
    return render(request, "reconcile.html", session, reports=reports, history=history)
