"""A circuit breaker per system: after several failed calls in a row, calls fail fast
for a cool-down, then one call probes whether the system is back.

Without it, a down ERP is retried record by record, page by page: every record of a run
ends as a dead letter and the API budget of the other system is spent for nothing. With
it, the run stops at the first fast failure, says the system is down and until when,
and nothing is recorded for the page it was on, so the next run resumes there.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from isthmus.connectors.base import (
    ChangePage,
    Connector,
    Cursor,
    NativeRecord,
    ObjectDescription,
    WebhookEvent,
    WriteOp,
    WriteResult,
)
from isthmus.engine.pacing import Pacer, RateLimiter
from isthmus.engine.retry import RetryPolicy, call_with_retry
from isthmus.errors import (
    AmbiguousWriteError,
    CircuitOpenError,
    RateLimitedError,
    TransientError,
)

T = TypeVar("T")


@dataclass
class CircuitBreaker:
    system: str
    threshold: int = 5  # consecutive transient failures that open the circuit
    cooldown: float = 30.0  # seconds before one probing call is let through
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = field(default=None)

    def before_call(self) -> None:
        if self.opened_at is None:
            return
        left = self.opened_at + self.cooldown - self.clock()
        if left > 0:
            raise CircuitOpenError(
                f"{self.system} failed {self.failures} calls in a row; calls to it pause "
                f"for {left:.0f} s more. Runs that need it stop and resume from where they "
                "were; check that the system is up",
                retry_after=left,
            )

    def succeeded(self) -> None:
        self.failures, self.opened_at = 0, None

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.clock()  # (re)open: the probe failed too

    async def guard(self, call: Callable[[], Awaitable[T]], limiter: Pacer | None = None) -> T:
        self.before_call()
        if limiter is not None:
            await limiter.acquire()
        try:
            result = await call()
        except RateLimitedError as error:
            # Throttled, not broken: every flow using the system waits, none counts a failure.
            if limiter is not None and error.retry_after:
                limiter.pause(error.retry_after)
            raise
        except AmbiguousWriteError:
            self.failed()  # the system did not answer: as unhealthy as a refusal
            raise
        except TransientError:
            self.failed()
            raise
        self.succeeded()
        return result


class GuardedConnector:
    """A connector whose every call goes through its system's circuit breaker; reads
    (which are safe to repeat) are also retried by ``read_retry``."""

    def __init__(
        self,
        inner: Connector,
        breaker: CircuitBreaker,
        read_retry: RetryPolicy | None = None,
        limiter: Pacer | None = None,
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self.read_retry = read_retry or RetryPolicy()
        self.limiter: Pacer = limiter or RateLimiter()
        self.name = inner.name
        self.capabilities = inner.capabilities

    async def _read(self, call: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(
            lambda: self.breaker.guard(call, self.limiter), self.read_retry
        )

    async def describe(self, object_name: str) -> ObjectDescription:
        return await self._read(lambda: self.inner.describe(object_name))

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        self.breaker.before_call()
        pages = self.inner.read_changes(object_name, cursor, page_size=page_size)
        while True:
            try:
                page = await pages.__anext__()
            except StopAsyncIteration:
                self.breaker.succeeded()
                return
            except TransientError:
                self.breaker.failed()
                raise
            self.breaker.succeeded()
            yield page

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        return await self._read(lambda: self.inner.read_by_ids(object_name, ids))

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        return await self._read(lambda: self.inner.lookup(object_name, field_name, values))

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        return await self.breaker.guard(lambda: self.inner.write(object_name, ops), self.limiter)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return self.inner.parse_webhook(headers, body)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Connector-specific extras (an API budget, a client) stay reachable.
        return getattr(self.inner, name)
