"""Dashboard actions: login and logout, run/pause/enable a flow, replay a dead letter,
resolve a review item, reconcile, preview a mapping. Each calls the code of the API
route that does the same, with the same role, so the API and the pages cannot drift.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from isthmus.api.errors import ApiError
from isthmus.api.mapping_preview import PreviewInputError, preview_mapping
from isthmus.api.models import ResolveIn
from isthmus.api.routes import flows, letters, reconcile, review
from isthmus.dashboard.session import COOKIE, LIFETIME_SECONDS, Session
from isthmus.dashboard.web import back_to, ctx_of, form_of, keys_of, must_be, render, session_of

router = APIRouter(prefix="/dashboard", include_in_schema=False)
Signed = Annotated[Session, Depends(session_of)]


def _failed(error: ApiError) -> str:
    return f"{error.error}. {error.what_to_do}"


def _safe_next(target: str) -> str:
    # Only paths of the dashboard: a login link must not send anyone to another site.
    return target if target.startswith("/dashboard") and "//" not in target else "/dashboard"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
    return render(request, "login.html", None, next=_safe_next(next), problem=None)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    fields = await form_of(request)
    target = _safe_next(fields.get("next", "/dashboard"))
    cookie = keys_of(request).login(ctx_of(request).engine.store, fields.get("token", "").strip())
    if cookie is None:
        page = render(
            request,
            "login.html",
            None,
            next=target,
            problem="That token is unknown, revoked or mistyped. Create one with "
            "`isthmus tokens create -c CONFIG USER` and paste it whole (ist_...).",
        )
        page.status_code = 401
        return page
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(
        COOKIE,
        cookie,
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/dashboard",
    )
    return answer


@router.post("/logout")
async def logout(request: Request, session: Signed) -> RedirectResponse:
    await form_of(request, session)
    answer = RedirectResponse("/dashboard/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/dashboard")
    return answer


@router.post("/flows/{name}/{action}")
async def flow_action(name: str, action: str, request: Request, session: Signed) -> Response:
    await form_of(request, session)
    ctx, back = ctx_of(request), f"/dashboard/flows/{name}"
    try:
        if action == "run":
            must_be(session, "operator", back)
            answer = await flows.run_flow(name, ctx, session.principal, full=False)
            if answer.queued or answer.report is None:
                return back_to(back, f"Run of {name} queued")
            return back_to(back, f"Run of {name} {answer.report.status}: {answer.report.counts}")
        if action in ("pause", "enable"):
            must_be(session, "admin", back)
            flows.set_paused(ctx, name, action == "pause", session.principal)
            return back_to(back, f"Flow {name} {'paused' if action == 'pause' else 'enabled'}")
    except ApiError as error:
        return back_to(back, _failed(error), "error")
    return back_to(back, f"unknown action {action!r}", "error")


@router.post("/dead-letters/{letter_id}/replay")
async def replay(letter_id: int, request: Request, session: Signed) -> Response:
    fields = await form_of(request, session)
    back = _safe_next(fields.get("back", "/dashboard/dead-letters"))
    must_be(session, "operator", back)
    try:
        answer = await letters.replay_ids(ctx_of(request), [letter_id], session.principal)
    except ApiError as error:
        return back_to(back, _failed(error), "error")
    statuses = ", ".join(f"{r.flow} {r.status}" for r in answer.reports) or "nothing to do"
    return back_to(back, f"Dead letter {letter_id} replayed: {statuses}")


@router.post("/review/{item_id}/resolve")
async def resolve(item_id: int, request: Request, session: Signed) -> Response:
    fields = await form_of(request, session)
    back = f"/dashboard/review/{item_id}"
    must_be(session, "operator", back)
    if fields.get("take"):
        body = ResolveIn(take=fields["take"])
    elif fields.get("link"):
        body = ResolveIn(link=fields["link"])
    elif fields.get("create"):
        body = ResolveIn(create=True)
    else:
        return back_to(back, "Choose which side to keep.", "error")
    try:
        report = await review.resolve_review(item_id, body, ctx_of(request), session.principal)
    except ApiError as error:
        return back_to(back, _failed(error), "error")
    return back_to("/dashboard/review", f"Review item {item_id} resolved ({report.status})")


@router.post("/reconcile")
async def reconcile_now(request: Request, session: Signed) -> Response:
    fields = await form_of(request, session)
    back = "/dashboard/reconcile"
    must_be(session, "operator", back)
    try:
        found = await reconcile.run_reconcile(
            ctx_of(request), session.principal, fields.get("flow") or None
        )
    except ApiError as error:
        return back_to(back, _failed(error), "error")
    return back_to(back, f"Reconciled {len(found)} flow{'s' * (len(found) != 1)}")


@router.get("/preview", response_class=HTMLResponse)
def preview_page(request: Request, session: Signed) -> HTMLResponse:
    return render(request, "preview.html", session, preview=None, text="", problem=None, flow="")


@router.post("/preview", response_class=HTMLResponse)
async def preview(request: Request, session: Signed) -> HTMLResponse:
    fields = await form_of(request, session)
    must_be(session, "operator", "/dashboard/preview")
    text, flow = fields.get("mapping", ""), fields.get("flow") or None
    found, problem = None, None
    try:
        found = await preview_mapping(ctx_of(request).engine, text, flow, limit=50)
    except PreviewInputError as error:
        problem = str(error)
    return render(
        request, "preview.html", session, preview=found, text=text, problem=problem, flow=flow
    )
