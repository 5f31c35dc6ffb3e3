"""``POST /webhooks/{system}``: where vendors deliver change notifications.

Answers 202 once the events are verified and queued (vendors retry on anything else,
so a slow sync must never hold the answer), 400 for a bad signature or body, 404 for
an unknown system. The body says what happened, for the admin reading the vendor's
delivery log.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from isthmus.engine.webhooks import WebhookIntake, WebhookRefused

# Change notifications name records; they never carry bulk data. Anything larger is
# refused before it is parsed.
MAX_BODY_BYTES = 1024 * 1024


def _too_large() -> JSONResponse:
    return JSONResponse(
        {"error": f"webhook body larger than {MAX_BODY_BYTES} bytes; refused, nothing stored"},
        status_code=413,
    )


def webhook_app(intake: WebhookIntake, on_queued: Callable[[], None] | None = None) -> FastAPI:
    app = FastAPI(title="Isthmus webhooks", docs_url=None, redoc_url=None)
    add_webhook_route(app, intake, on_queued)

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def add_webhook_route(
    app: FastAPI, intake: WebhookIntake, on_queued: Callable[[], None] | None = None
) -> None:
    """Mount ``POST /webhooks/{system}``. It stays out of the OpenAPI document: vendors
    call it, authenticated by their own scheme (signature, token, clientState), not with
    an Isthmus token."""

    @app.post("/webhooks/{system}", response_model=None, include_in_schema=False)
    async def receive(system: str, request: Request) -> JSONResponse | PlainTextResponse:
        validation = request.query_params.get("validationToken")
        if validation is not None:
            # A subscription handshake (Business Central): echo the token, store nothing.
            try:
                return PlainTextResponse(intake.validation_answer(system, validation))
            except WebhookRefused as error:
                return JSONResponse({"error": str(error)}, status_code=error.status)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _too_large()
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
        headers = dict(request.headers)
        token = request.query_params.get("token")
        if token is not None:
            # For vendors that cannot sign deliveries: a secret in the URL they call,
            # handed to the connector like a header.
            headers.setdefault("x-isthmus-token", token)
        try:
            receipt = await intake.receive(system, headers, body)
        except WebhookRefused as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        if receipt.queued and on_queued is not None:
            on_queued()
        return JSONResponse(
            {
                "events": receipt.events,
                "duplicates": receipt.duplicates,
                "ignored": receipt.ignored,
                "queued": receipt.queued,
            },
            status_code=202,
        )
