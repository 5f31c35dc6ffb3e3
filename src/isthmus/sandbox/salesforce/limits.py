"""The org's API budget: ``Sforce-Limit-Info`` on every answer, 403 when it is spent.

Every call under ``/services/data/vXX.X/`` counts once (a composite request counts once,
as Salesforce documents), is refused with 403 ``REQUEST_LIMIT_EXCEEDED`` once the daily
budget is used up, and is refused the same way while too many calls are in flight. The
versions list ``/services/data/`` carries no header, as in Salesforce. The budget resets
at midnight UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isthmus.sandbox.salesforce.errors import SalesforceApiError

_COUNTED_PREFIX = "/services/data/v"


@dataclass
class ApiUsage:
    """Calls used today against the daily budget, and calls in flight against the cap."""

    daily_limit: int
    max_concurrent: int
    used: int = 0
    in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._day = dt.datetime.now(dt.UTC).date()

    def header(self) -> str:
        return f"api-usage={self.used}/{self.daily_limit}"

    def acquire(self) -> SalesforceApiError | None:
        """Count one call and mark it in flight, or say why it is refused."""
        with self._lock:
            today = dt.datetime.now(dt.UTC).date()
            if today != self._day:
                self._day, self.used = today, 0
            if self.used >= self.daily_limit:
                return SalesforceApiError(
                    403,
                    "REQUEST_LIMIT_EXCEEDED",
                    "TotalRequests Limit exceeded. The org's daily API budget "
                    f"({self.daily_limit}) is spent; wait for the reset at midnight UTC.",
                )
            if self.in_flight >= self.max_concurrent:
                return SalesforceApiError(
                    403,
                    "REQUEST_LIMIT_EXCEEDED",
                    "ConcurrentPerOrgLongTxn Limit exceeded. Too many requests in flight "
                    f"(cap {self.max_concurrent}); retry when earlier requests finish.",
                )
            self.used += 1
            self.in_flight += 1
            return None

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def configure(self, daily_limit: int | None = None, used: int | None = None) -> None:
        with self._lock:
            if daily_limit is not None:
                self.daily_limit = daily_limit
            if used is not None:
                self.used = used


class LimitsMiddleware:
    """Counts API calls, refuses over-budget ones and adds ``Sforce-Limit-Info``."""

    def __init__(self, app: ASGIApp, usage: ApiUsage) -> None:
        self.app = app
        self.usage = usage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_COUNTED_PREFIX):
            await self.app(scope, receive, send)
            return
        refusal = self.usage.acquire()
        if refusal is not None:
            body = json.dumps(refusal.rest_body()).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"sforce-limit-info", self.usage.header().encode()),
            ]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Sforce-Limit-Info"] = self.usage.header()
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            self.usage.release()
