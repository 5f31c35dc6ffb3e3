"""``create_app``: the control-plane API of one installation, as a FastAPI app.

Every route but the vendor webhook receivers needs a Bearer token of a role that may
use it (``isthmus.api.auth``); webhooks are checked by the vendor's signature instead
and only queue a fetch. The OpenAPI document is served at ``/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext
from isthmus.api.errors import ERROR_RESPONSES, install_error_handlers
from isthmus.api.logs import install_request_log
from isthmus.api.masking import Sensitive
from isthmus.api.metrics import Metrics
from isthmus.api.routes import (
    access,
    flows,
    letters,
    mappings,
    reconcile,
    records,
    review,
    systems,
)
from isthmus.api.webhooks import add_webhook_route
from isthmus.dashboard.app import mount as mount_dashboard
from isthmus.engine.engine import Engine
from isthmus.engine.scheduler import Scheduler
from isthmus.engine.webhooks import WebhookIntake


def create_app(
    engine: Engine,
    scheduler: Scheduler | None = None,
    *,
    metrics: Metrics | None = None,
    webhooks: bool = True,
) -> FastAPI:
    """The API over ``engine``; runs asked for go through ``scheduler``'s queue when given.

    Args:
        metrics: share one with the scheduler's report hook so scheduled runs count too.
        webhooks: mount ``POST /webhooks/{system}`` (needs a scheduler's queue).
    """
    app = FastAPI(
        title="Isthmus control plane",
        version="1",
        description="Flows, runs, records, dead letters, review, reconciliation and audit.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.context = ApiContext(
        engine=engine,
        scheduler=scheduler,
        metrics=metrics or Metrics(engine, scheduler),
        sensitive=Sensitive.of(engine),
    )
    install_error_handlers(app)
    install_request_log(app)
    for module in (systems, flows, records, letters, review, reconcile, mappings, access):
        app.include_router(module.router)

    @app.get("/metrics", tags=["metrics"], response_class=Response, responses=ERROR_RESPONSES)
    def prometheus(
        request: Request, _: Annotated[Principal, Depends(require("viewer"))]
    ) -> Response:
        """Prometheus text format (scrape with a viewer token as bearer)."""
        context: ApiContext = request.app.state.context
        return Response(context.metrics.render(), media_type="text/plain; version=0.0.4")

    # The dashboard's pages use a signed session cookie, not a bearer token, and are
    # left out of the OpenAPI document (they answer HTML, not the API's JSON).
    mount_dashboard(app)
    if webhooks and scheduler is not None:
        add_webhook_route(app, WebhookIntake(engine, scheduler.queue), scheduler.wake)
    return app
