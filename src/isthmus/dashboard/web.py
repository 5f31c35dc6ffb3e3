"""Plumbing of the dashboard pages: templates, the signed-in session, forms, redirects.

Pages are plain HTML forms: an action is a POST that answers with a redirect back to
the page and a one-line message (so a reload never repeats it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from isthmus.api.context import ApiContext
from isthmus.dashboard.session import COOKIE, Session, SessionKeys
from isthmus.store import Role

templates = Environment(
    loader=PackageLoader("isthmus.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class SignInNeeded(Exception):
    """No valid session: the browser is sent to the login page."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


class RoleTooLow(Exception):
    """A signed-in user asked for an action above their role."""

    def __init__(self, needed: Role, back: str) -> None:
        super().__init__(needed)
        self.needed = needed
        self.back = back


def ctx_of(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.context
    return found


def keys_of(request: Request) -> SessionKeys:
    found: SessionKeys = request.app.state.dashboard_keys
    return found


def session_of(request: Request) -> Session:
    """The signed-in session of this request (dependency of every page)."""
    found = keys_of(request).session(ctx_of(request).engine.store, request.cookies.get(COOKIE))
    if found is None:
        raise SignInNeeded(str(request.url.path))
    return found


async def form_of(request: Request, session: Session | None = None) -> dict[str, str]:
    """The fields of a url-encoded form (first value each); checks the CSRF value of a
    signed-in session, which every form of the dashboard sends."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
    if session is not None and fields.get("csrf") != session.csrf:
        raise SignInNeeded(str(request.url.path))
    return fields


def must_be(session: Session, role: Role, back: str) -> None:
    if not session.principal.at_least(role):
        raise RoleTooLow(role, back)


def render(request: Request, name: str, session: Session | None, **values: Any) -> HTMLResponse:
    context = ctx_of(request)
    page = templates.get_template(name).render(
        session=session,
        user=session.principal.user if session else None,
        can_operate=session is not None and session.principal.at_least("operator"),
        can_admin=session is not None and session.principal.at_least("admin"),
        flows=list(context.engine.flows),
        message=request.query_params.get("msg"),
        message_kind=request.query_params.get("kind", "ok"),
        path=request.url.path,
        **values,
    )
    return HTMLResponse(page)


def back_to(path: str, message: str, kind: str = "ok") -> RedirectResponse:
    """A 303 to ``path`` showing ``message`` (``kind`` ok or error)."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(
        f"{path}{separator}{urlencode({'msg': message, 'kind': kind})}", status_code=303
    )
