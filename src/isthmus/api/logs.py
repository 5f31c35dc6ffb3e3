"""Structured JSON logs of the control plane (structlog): one line per request and per
finished run, with flow, run and record ids.

Secrets never reach a log line: keys that name one (token, password, secret,
authorization, api key) are replaced before rendering, whatever the caller passed, and
so is every known secret value and credential-shaped text inside any field
(``isthmus.security.redact``); record values are never logged, only ids, so a sensitive
field cannot leak.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

import structlog
from fastapi import FastAPI, Request, Response

from isthmus.engine.report import RunReport
from isthmus.security.redact import REDACTED, SECRET_WORDS, redact_event

__all__ = ["REDACTED", "SECRET_WORDS", "configure_logging", "drop_secrets", "log_run"]

log = structlog.get_logger("isthmus")


def drop_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: redact secrets by key and by value (see ``redact_event``)."""
    return redact_event(_, __, event)


def configure_logging(stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stderr by default): for ``isthmus run``."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            drop_secrets,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def log_run(report: RunReport, actor: str | None = None) -> None:
    log.info(
        "run_finished",
        flow=report.flow,
        run_id=report.run_id,
        status=report.status,
        counts=dict(report.counts),
        actor=actor,
    )


def install_request_log(app: FastAPI) -> None:
    """One line per request: method, route, status, duration (no headers, no body)."""

    @app.middleware("http")
    async def request_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response
