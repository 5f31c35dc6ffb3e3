"""FastAPI app factory for the Business Central sandbox.

URL shape: ``/v2.0/{tenant}/{environment}/api/v2.0/companies({id})/{entitySet}``, plus
``$metadata``, ``$batch``, ``subscriptions`` and the token endpoint
``/{tenant}/oauth2/v2.0/token``. Every API call needs a bearer token and counts against
the client's rate limit. The factory returns a plain ASGI app so fault-injection or TLS
middleware can wrap it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from isthmus.protocols.odata import BatchError, BatchRequest, BatchResponse, run_batch
from isthmus.protocols.odata.batch import parse_batch
from isthmus.protocols.odata.envelope import error_body, to_json
from isthmus.sandbox.business_central.api import BusinessCentralApi
from isthmus.sandbox.business_central.auth import RateLimiter, TokenIssuer
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.business_central.entities import build_model
from isthmus.sandbox.business_central.messages import ApiRequest, ApiResponse
from isthmus.sandbox.business_central.seed import seed_store
from isthmus.sandbox.business_central.simulator import ActivitySimulator
from isthmus.sandbox.business_central.store import CompanyStore
from isthmus.sandbox.business_central.webhooks import WebhookHub
from isthmus.sandbox.common import FaultConfig, FaultInjector, FaultMiddleware

API_ROOT = "/v2.0/{tenant}/{environment}/api/v2.0"
ODATA_HEADERS = {"OData-Version": "4.0"}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers={**ODATA_HEADERS, **(headers or {})})
    return Response(
        to_json(body),
        status_code=status,
        media_type="application/json; odata.metadata=minimal",
        headers={**ODATA_HEADERS, **(headers or {})},
    )


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    """Build a sandbox app with its own store, token issuer, limiter and webhook hub."""
    config = config or SandboxConfig()
    store = CompanyStore(config.db_path)
    hub = WebhookHub(config)
    store.listeners.append(hub.record_change)
    company_id = seed_store(store, config)
    api = BusinessCentralApi(config, store, hub)
    tokens = TokenIssuer(config)
    limiter = RateLimiter(config.rate_limit, config.rate_window_seconds)
    simulator = ActivitySimulator(store, company_id, config)
    metadata = build_model().metadata_xml()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        hub.start()
        if config.simulate:
            simulator.start()
        yield
        simulator.stop()
        hub.stop()

    app = FastAPI(title="Business Central sandbox", lifespan=lifespan, openapi_url=None)
    app.state.store, app.state.hub, app.state.company_id = store, hub, company_id
    app.state.simulator = simulator

    def gate(request: Request, tenant: str, environment: str) -> Response | None:
        """401 without a valid token, 404 for another tenant, 429 past the rate limit."""
        client = tokens.client_of(request.headers.get("authorization"))
        if client is None:
            return _json(
                401,
                error_body(
                    "Authentication_InvalidCredentials",
                    "The credentials provided are incorrect: send "
                    "'Authorization: Bearer <token>' from the token endpoint.",
                ),
                {"WWW-Authenticate": 'Bearer realm="sandbox"'},
            )
        if tenant != config.tenant or environment != config.environment:
            return _json(
                404,
                error_body(
                    "NoEnvironment",
                    f"No environment {environment!r} in "
                    f"tenant {tenant!r}; this sandbox serves "
                    f"{config.tenant}/{config.environment}.",
                ),
            )
        wait = limiter.admit(client)
        if wait is not None:
            return _json(
                429,
                error_body(
                    "Application_TooManyRequests",
                    "Too many requests; the limit is "
                    f"{config.rate_limit} per {config.rate_window_seconds:g} s. "
                    "Wait for Retry-After seconds.",
                ),
                {"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        return None

    @app.post("/{tenant}/oauth2/v2.0/token")
    async def token(request: Request, tenant: str) -> JSONResponse:
        # The token request is application/x-www-form-urlencoded; parse it without extras.
        form = dict(parse_qsl((await request.body()).decode()))
        if tenant != config.tenant:
            return JSONResponse(
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
                400,
            )
        status, body = tokens.issue(form)
        return JSONResponse(body, status)

    @app.get(API_ROOT + "/$metadata")
    async def get_metadata(request: Request, tenant: str, environment: str) -> Response:
        refused = gate(request, tenant, environment)
        if refused is not None:
            return refused
        return Response(metadata, media_type="application/xml", headers=ODATA_HEADERS)

    @app.post(API_ROOT + "/$batch")
    async def batch(request: Request, tenant: str, environment: str) -> Response:
        refused = gate(request, tenant, environment)
        if refused is not None:
            return refused
        base = str(request.url).split("/$batch")[0]
        try:
            requests = parse_batch(await _body(request), config.batch_limit)
        except BatchError as exc:
            return _json(400, error_body("BadRequest_BatchLimit", str(exc)))

        def handle(item: BatchRequest) -> BatchResponse:
            path, _, query = _relative(item.url).partition("?")
            reply = api.dispatch(
                ApiRequest(
                    item.method,
                    path,
                    dict(parse_qsl(query)),
                    {k.lower(): v for k, v in item.headers.items()},
                    item.body,
                    base,
                )
            )
            body = json.loads(to_json(reply.body)) if reply.body is not None else None
            return BatchResponse(item.id, reply.status, body, reply.headers)

        responses = run_batch(requests, handle, store.snapshot, store.restore)
        return _json(200, {"responses": [r.to_json() for r in responses]})

    @app.api_route(API_ROOT + "/{path:path}", methods=["GET", "POST", "PATCH", "DELETE"])
    async def entity(request: Request, tenant: str, environment: str, path: str) -> Response:
        refused = gate(request, tenant, environment)
        if refused is not None:
            return refused
        if path.endswith("$metadata"):
            # Generic OData clients take the company URL as their service root and look
            # for $metadata below it; serve the same document there.
            return Response(metadata, media_type="application/xml", headers=ODATA_HEADERS)
        base = str(request.url).split("/api/v2.0/")[0] + "/api/v2.0"
        reply: ApiResponse = api.dispatch(
            ApiRequest(
                request.method,
                path,
                dict(request.query_params),
                {k.lower(): v for k, v in request.headers.items()},
                await _body(request),
                base,
            )
        )
        return _json(reply.status, reply.body, reply.headers)

    return app


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return {"@invalid": raw[:80].decode(errors="replace")}


def _relative(url: str) -> str:
    """A batch item's URL relative to ``/api/v2.0/`` (items may be absolute or relative)."""
    path = urlsplit(url).path if "://" in url else url
    query = urlsplit(url).query if "://" in url else ""
    if "/api/v2.0/" in path:
        path = path.split("/api/v2.0/", 1)[1]
    return path.lstrip("/") + (f"?{query}" if query else "")


def business_central_error_body(status: int) -> tuple[bytes, str]:
    """Injected faults answer in BC's error shape, so clients classify them as real ones."""
    codes = {429: "Application_TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
    body = error_body(codes.get(status, "InternalServerError"), f"Injected fault: HTTP {status}.")
    return to_json(body).encode(), "application/json"


def with_faults(app: FastAPI, faults: FaultConfig | None = None) -> FaultMiddleware:
    """Wrap the app in the shared fault-injection middleware (admin at /__sandbox/faults)."""
    injector = FaultInjector(faults or FaultConfig(), business_central_error_body)
    return FaultMiddleware(app, injector)
