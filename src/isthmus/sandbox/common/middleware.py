"""ASGI middleware that injects faults and serves the fault admin endpoint.

Wrap any sandbox app: ``FaultMiddleware(app, injector)``. Each HTTP request draws its
fate from the injector (see :mod:`isthmus.sandbox.common.faults`):

- ``error``: answer the drawn status at once with the vendor's error body (and
  ``Retry-After`` on 429/503), without calling the app;
- ``timeout``: wait ``timeout_seconds`` and only then call the app, so a client with a
  shorter timeout gives up;
- ``drop``: start an answer and close the connection before its body is complete;
- ``slow``: wait ``slow_seconds``, then answer normally.

``GET /__sandbox/faults`` shows the live config; ``POST`` with a JSON object of settings
(e.g. ``{"error_rate": 0.05, "seed": 7}``) changes it at run time and answers the result.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isthmus.sandbox.common.faults import FaultConfigError, FaultInjector

FAULTS_ADMIN_PATH = "/__sandbox/faults"


class FaultMiddleware:
    """Decide per request whether to fail, delay or drop it; expose the admin endpoint."""

    def __init__(
        self, app: ASGIApp, injector: FaultInjector, admin_path: str = FAULTS_ADMIN_PATH
    ) -> None:
        self.app = app
        self.injector = injector
        self.admin_path = admin_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.rstrip("/") == self.admin_path:
            await self._serve_admin(scope, receive, send)
            return
        decision = self.injector.decide(path)
        if decision.kind == "error":
            await self._send_error(send, decision.status)
        elif decision.kind == "drop":
            await self._drop(send)
        else:
            if decision.delay_seconds > 0:
                await asyncio.sleep(decision.delay_seconds)
            await self.app(scope, receive, send)

    async def _send_error(self, send: Send, status: int) -> None:
        body, content_type = self.injector.error_body(status)
        headers = [(b"content-type", content_type.encode()), (b"x-sandbox-fault", b"error")]
        if status in (429, 503):
            retry_after = str(self.injector.config.retry_after_seconds).encode()
            headers.append((b"retry-after", retry_after))
        await _send_response(send, status, body, headers)

    async def _drop(self, send: Send) -> None:
        # Promise a body, send part of it, then return: the server closes the socket (it
        # logs one line, no traceback) and the client sees an incomplete read, the way a
        # proxy or load balancer reset looks.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"dropped', "more_body": True})

    async def _serve_admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        json_type = [(b"content-type", b"application/json")]
        method = scope["method"]
        if method == "GET":
            shown = {**self.injector.config.as_json(), "injected": dict(self.injector.injected)}
            body = json.dumps(shown).encode()
            await _send_response(send, 200, body, json_type)
            return
        if method not in ("POST", "PUT", "PATCH"):
            await _send_response(send, 405, b'{"error": "use GET or POST"}', json_type)
            return
        raw = await _read_body(receive)
        try:
            changes: Any = json.loads(raw or b"{}")
            if not isinstance(changes, dict):
                raise FaultConfigError("send a JSON object of fault settings")
            self.injector.configure(self.injector.config.updated(changes))
        except (ValueError, FaultConfigError) as exc:
            body = json.dumps({"error": "invalid_fault_config", "message": str(exc)}).encode()
            await _send_response(send, 400, body, json_type)
            return
        body = json.dumps(self.injector.config.as_json()).encode()
        await _send_response(send, 200, body, json_type)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_response(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    all_headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})
