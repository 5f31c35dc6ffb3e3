"""The control plane's HTTP app: the API under ``/api``, webhooks, metrics, OpenAPI.

Served by ``isthmus run --port PORT`` (127.0.0.1 unless told otherwise). The API needs a
bearer token (``isthmus token new``); ``/metrics`` and ``/healthz`` do not, as scrapers
and load balancers expect, so bind to a trusted interface.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from isthmus.api.metrics import render
from isthmus.api.routes import router
from isthmus.api.webhooks import webhook_app
from isthmus.engine.engine import Engine
from isthmus.engine.webhooks import WebhookIntake
from isthmus.queue import InProcessQueue, WorkQueue


def create_app(
    engine: Engine,
    queue: WorkQueue | None = None,
    on_queued: Callable[[], None] | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Isthmus",
        version="0.1.0",
        description="Control API: status, runs, dead letters, review, reconciliation, audit.",
    )
    app.state.engine = engine
    app.state.tokens = list(engine.loaded.config.api.tokens)
    app.include_router(router)

    @app.exception_handler(HTTPException)
    async def explained(_: Request, error: HTTPException) -> JSONResponse:
        detail: object = error.detail
        if not isinstance(detail, dict):
            detail = {"error": str(detail)}
        return JSONResponse(detail, status_code=error.status_code, headers=error.headers)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(render(engine), media_type="text/plain; version=0.0.4")

    intake = WebhookIntake(engine, queue or InProcessQueue())
    app.mount("/", webhook_app(intake, on_queued))
    return app
