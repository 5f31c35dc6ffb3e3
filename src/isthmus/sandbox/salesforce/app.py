"""Builds one Salesforce sandbox: state, routes, and the middleware around them.

Request path, outermost first: trailing-slash normaliser (clients send both
``/query/`` and ``/query``) -> API budget (:mod:`.limits`) -> fault injection
(:mod:`isthmus.sandbox.common`) -> FastAPI routes. Composite subrequests are dispatched
straight to the routes, so they neither count against the budget nor draw faults, as
Salesforce counts a composite call once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from isthmus.sandbox.common import FaultInjector, FaultMiddleware
from isthmus.sandbox.salesforce import admin, bulk, composite, rest_meta, rest_query, rest_records
from isthmus.sandbox.salesforce.auth import TokenRegistry, revoke_endpoint, token_endpoint
from isthmus.sandbox.salesforce.consent import authorize_endpoint
from isthmus.sandbox.salesforce.errors import SalesforceApiError, server_error_body
from isthmus.sandbox.salesforce.events import ChangeEventLog, run_pusher
from isthmus.sandbox.salesforce.ids import utc_now
from isthmus.sandbox.salesforce.limits import ApiUsage, LimitsMiddleware
from isthmus.sandbox.salesforce.objects import sandbox_schema
from isthmus.sandbox.salesforce.persistence import SqlitePersistence
from isthmus.sandbox.salesforce.seed import plan_for, seed_store
from isthmus.sandbox.salesforce.settings import SandboxSettings
from isthmus.sandbox.salesforce.state import SandboxState
from isthmus.sandbox.salesforce.store import RecordStore


@dataclass
class SalesforceSandbox:
    """A built sandbox: ``asgi`` is what to serve; ``state`` is there to inspect in tests."""

    api: FastAPI
    asgi: ASGIApp
    state: SandboxState


class _TrailingSlashes:
    """Drop a trailing slash so ``/sobjects/Account/`` and ``/sobjects/Account`` match."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope = {**scope, "path": scope["path"].rstrip("/")}
        await self.app(scope, receive, send)


def create_sandbox(
    settings: SandboxSettings | None = None,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    accounts: int | None = None,
) -> SalesforceSandbox:
    """Build a sandbox org from ``settings`` (seeded unless its SQLite file has data).

    Args:
        settings: credentials, seed, volume, limits, faults; defaults when omitted.
        clock: the org's notion of now (tests pass a fixed or stepping clock).
        accounts: seed exactly this many accounts instead of the volume's count.
    """
    settings = settings or SandboxSettings()
    schema = sandbox_schema()
    persistence = SqlitePersistence(settings.db_path) if settings.db_path else None
    store = RecordStore(schema, clock=clock, persistence=persistence)
    if store.count("Account") == 0 and not any(True for _ in store.records("Product2")):
        seed_store(store, settings.seed, plan_for(settings.volume, accounts))
    events = ChangeEventLog()
    store.listeners.append(events.record)
    if settings.event_callback_url:
        events.register(settings.event_callback_url)
    limits = settings.limits
    state = SandboxState(
        settings=settings,
        schema=schema,
        store=store,
        tokens=TokenRegistry(settings.credentials, limits.session_seconds),
        usage=ApiUsage(limits.daily_api_requests, limits.max_concurrent_requests),
        events=events,
        injector=FaultInjector(settings.faults, error_body=server_error_body),
    )
    api = _build_api(state, persistence)
    state.subrequest_app = _TrailingSlashes(api)
    wrapped = _TrailingSlashes(LimitsMiddleware(FaultMiddleware(api, state.injector), state.usage))
    return SalesforceSandbox(api=api, asgi=wrapped, state=state)


def create_app(settings: SandboxSettings | None = None) -> ASGIApp:
    """The ASGI app of a new sandbox (for ``uvicorn`` and :func:`running_server`)."""
    return create_sandbox(settings).asgi


def _build_api(state: SandboxState, persistence: SqlitePersistence | None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pusher = asyncio.create_task(run_pusher(state.events))
        try:
            yield
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
            if persistence is not None:
                persistence.close()

    api = FastAPI(
        title="Isthmus Salesforce sandbox",
        lifespan=lifespan,
        docs_url="/__sandbox/docs",
        redoc_url=None,
        openapi_url="/__sandbox/openapi.json",
        redirect_slashes=False,
    )
    api.state.sandbox = state
    api.add_api_route("/services/oauth2/token", token_endpoint, methods=["POST"])
    api.add_api_route("/services/oauth2/revoke", revoke_endpoint, methods=["POST"])
    api.add_api_route("/services/oauth2/authorize", authorize_endpoint, methods=["GET"])
    # Order matters: fixed paths (describe, updated, jobs) before {record_id} patterns.
    for module in (admin, rest_meta, rest_query, composite, bulk, rest_records):
        api.include_router(module.router)
    api.add_exception_handler(SalesforceApiError, _salesforce_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    return api


async def _salesforce_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SalesforceApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = f"HTTP Method '{request.method}' not allowed."
        return SalesforceApiError(405, "METHOD_NOT_ALLOWED", message).response()
    if exc.status_code == 404:
        return SalesforceApiError(
            404, "NOT_FOUND", "The requested resource does not exist"
        ).response()
    return JSONResponse(
        [{"message": str(exc.detail), "errorCode": "UNKNOWN_EXCEPTION"}],
        status_code=exc.status_code,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    return SalesforceApiError(400, "MALFORMED_REQUEST", f"Malformed request: {exc}").response()
