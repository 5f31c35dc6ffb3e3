"""The control API's routes: status, runs, dead letters, review, reconciliation, audit.

Everything the CLI offers, over HTTP, with the same engine calls underneath; every
action records the caller's token name as the actor, so the audit trail says who.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from isthmus.api.auth import Caller, require
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.errors import IsthmusError

router = APIRouter(prefix="/api")
Viewer = Annotated[Caller, Depends(require("viewer"))]
Operator = Annotated[Caller, Depends(require("operator"))]


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _plain(value: Any) -> Any:
    """Dataclasses and datetimes as JSON-ready values."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _report(report: RunReport) -> dict[str, Any]:
    return {
        "flow": report.flow,
        "run_id": report.run_id,
        "status": report.status,
        "counts": dict(report.counts),
        "messages": report.messages,
    }


def _not_found(what: str, hint: str) -> HTTPException:
    return HTTPException(404, {"error": f"no {what}", "what_to_do": hint})


@router.get("/status")
def status(request: Request, _: Viewer) -> dict[str, Any]:
    return {"flows": _plain(_engine(request).status())}


@router.get("/runs")
def runs(request: Request, _: Viewer, flow: str | None = None, limit: int = 50) -> list[Any]:
    return [_plain(run) for run in _engine(request).store.runs(flow, limit=min(limit, 500))]


@router.get("/dead-letters")
def dead_letters(
    request: Request,
    _: Viewer,
    flow: str | None = None,
    status: Literal["open", "waiting", "resolved", "discarded"] | None = "open",
    limit: int = 200,
) -> list[Any]:
    store = _engine(request).store
    return [_plain(d) for d in store.dead_letters(flow=flow, status=status, limit=min(limit, 5000))]


@router.get("/dead-letters/{letter_id}")
def dead_letter(request: Request, _: Viewer, letter_id: int) -> Any:
    letter = _engine(request).store.dead_letter(letter_id)
    if letter is None:
        raise _not_found(f"dead letter {letter_id}", "list them at /api/dead-letters")
    return _plain(letter)


class ReplayRequest(BaseModel):
    ids: list[int] = Field(default_factory=list)
    flow: str | None = None  # every open letter of this flow


@router.post("/dead-letters/replay")
async def replay(request: Request, caller: Operator, body: ReplayRequest) -> list[Any]:
    engine = _engine(request)
    ids = list(body.ids)
    if body.flow:
        ids += [d.id for d in engine.store.dead_letters(flow=body.flow, status="open") if d.id]
    if not ids:
        raise HTTPException(
            422, {"error": "nothing to replay", "what_to_do": "give ids, or a flow"}
        )
    try:
        reports = await engine.replay(ids, actor=f"api:{caller.name}")
    except IsthmusError as error:
        raise HTTPException(404, {"error": str(error), "what_to_do": "check the ids"}) from None
    return [_report(r) for r in reports]


@router.get("/review")
def review(
    request: Request,
    _: Viewer,
    flow: str | None = None,
    status: Literal["open", "resolved"] | None = "open",
) -> list[Any]:
    items = _engine(request).store.review_items(flow=flow, status=status)
    return [_plain(item) for item in items]


@router.get("/review/{item_id}")
async def review_item(request: Request, _: Viewer, item_id: int) -> dict[str, Any]:
    try:
        sides = await _engine(request).review_sides(item_id)
    except IsthmusError as error:
        raise _not_found(f"review item {item_id}", str(error)) from None
    return {
        "item": _plain(sides.item),
        "systems": sides.systems,
        "native_ids": sides.native_ids,
        "fields": [
            {
                "path": path,
                "values": dict(zip(sides.systems, values, strict=True)),
                "base": base,
                "differs": differs,
            }
            for path, values, base, differs in sides.rows()
        ],
        "problems": sides.problems,
    }


class Resolution(BaseModel):
    take: str | None = None  # a conflict: take this system's value
    value: Any = None  # a conflict: this value
    link: str | None = None  # a duplicate: link to this candidate
    create: bool = False  # a duplicate: not the same, create


@router.post("/review/{item_id}/resolve")
async def resolve(request: Request, caller: Operator, item_id: int, body: Resolution) -> Any:
    engine = _engine(request)
    item = engine.store.review_item(item_id)
    if item is None:
        raise _not_found(f"review item {item_id}", "list them at /api/review")
    if item.status != "open":
        raise HTTPException(
            409,
            {
                "error": f"review item {item_id} is already {item.status}",
                "what_to_do": "nothing: it was decided",
            },
        )
    actor = f"api:{caller.name}"
    try:
        if item.kind == "duplicate":
            from isthmus.engine.resolution import DuplicateChoice

            if (body.link is None) == (not body.create):
                raise HTTPException(
                    422,
                    {
                        "error": "give exactly one of link or create",
                        "what_to_do": "link: a candidate id; or create: true",
                    },
                )
            choice = DuplicateChoice(link=body.link) if body.link else DuplicateChoice(create=True)
            report = await engine.resolve_review(item_id, value=choice, actor=actor)
        else:
            if (body.take is None) == (body.value is None):
                raise HTTPException(
                    422,
                    {
                        "error": "give exactly one of take or value",
                        "what_to_do": "take: a system name; or value",
                    },
                )
            report = await engine.resolve_review(
                item_id, take=body.take, value=body.value, actor=actor
            )
    except IsthmusError as error:
        raise HTTPException(422, {"error": str(error), "what_to_do": "check the choice"}) from None
    return _report(report)


class ReconcileRequest(BaseModel):
    flows: list[str] | None = None
    repair: bool = False


@router.post("/reconcile")
async def reconcile(request: Request, caller: Operator, body: ReconcileRequest) -> list[Any]:
    engine = _engine(request)
    unknown = [name for name in body.flows or [] if name not in engine.flows]
    if unknown:
        raise _not_found(f"flow {unknown[0]!r}", f"flows: {', '.join(engine.flows)}")
    found = await engine.reconcile(body.flows)
    if body.repair:
        for report in found:
            if not report.clean:
                await engine.repair(report, actor=f"api:{caller.name}")
        found = await engine.reconcile(body.flows)
    return [report.as_dict() for report in found]


@router.post("/flows/{name}/run")
async def run_flow(request: Request, caller: Operator, name: str) -> Any:
    engine = _engine(request)
    if name not in engine.flows:
        raise _not_found(f"flow {name!r}", f"flows: {', '.join(engine.flows)}")
    (report,) = await engine.sync([name])
    return _report(report)


@router.get("/audit")
def audit(
    request: Request,
    _: Viewer,
    flow: str | None = None,
    field: str | None = None,
    native_id: str | None = None,
    canonical_id: str | None = None,
    actor: str | None = None,
    limit: int = 200,
) -> list[Any]:
    events = _engine(request).store.audit_events(
        flow=flow,
        field=field,
        native_id=native_id,
        canonical_id=canonical_id,
        limit=min(limit, 5000),
    )
    return [_plain(e) for e in events if actor is None or e.actor == actor]
