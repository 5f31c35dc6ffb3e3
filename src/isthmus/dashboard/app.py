"""``mount``: the dashboard on the API's FastAPI app (same process, port and engine)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from isthmus.dashboard import actions, pages
from isthmus.dashboard.session import SessionKeys
from isthmus.dashboard.web import RoleTooLow, SignInNeeded, back_to

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI, keys: SessionKeys | None = None) -> None:
    """Add the dashboard pages under ``/dashboard`` (``/`` leads there)."""
    app.state.dashboard_keys = keys or SessionKeys()
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(actions.router)
    app.include_router(pages.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=303)

    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, error: SignInNeeded) -> Response:
        if request.method == "GET":
            return RedirectResponse(f"/dashboard/login?next={error.back}", status_code=303)
        # A POST without a valid session or form value: never act, say why.
        return HTMLResponse(
            "Your session ended or the form is stale. <a href='/dashboard/login'>Sign in</a> "
            "and try again.",
            status_code=403,
        )

    @app.exception_handler(RoleTooLow)
    async def too_low(request: Request, error: RoleTooLow) -> Response:
        return back_to(
            error.back,
            f"This needs the {error.needed} role; ask an admin "
            "(`isthmus users add NAME --role ROLE`).",
            "error",
        )
