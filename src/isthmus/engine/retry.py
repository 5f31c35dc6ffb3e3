"""One retry policy value and one explicit retry loop (the shape of Temporal's RetryPolicy).

Backoff is computed here and nowhere else; what is retryable is decided by the error's
class (``TransientError`` and subclasses), never by its text. A ``Retry-After`` from the
vendor wins over our own backoff when it is longer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from isthmus.errors import AmbiguousWriteError, CircuitOpenError, TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    initial_interval: float = 0.5
    coefficient: float = 2.0
    maximum_interval: float = 30.0
    maximum_attempts: int = 5
    jitter: float = 0.2  # +/- this fraction, so many workers do not retry in lockstep
    # A Retry-After longer than this is not waited out in the call: the flow pauses.
    pause_above: float = 120.0

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        base = min(self.initial_interval * self.coefficient ** (attempt - 1), self.maximum_interval)
        spread = (rng or random).uniform(-self.jitter, self.jitter) * base
        delay = max(0.0, base + spread)
        return max(delay, retry_after or 0.0)


NO_RETRY = RetryPolicy(maximum_attempts=1)


async def call_with_retry(
    action: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, TransientError], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``action``, retrying transient failures by ``policy``.

    ``AmbiguousWriteError`` is *not* retried here: repeating a write whose outcome is
    unknown could duplicate it; the caller recovers by looking the records up first.
    """
    attempt = 1
    while True:
        try:
            return await action()
        except (AmbiguousWriteError, CircuitOpenError):
            raise
        except TransientError as error:
            if attempt >= policy.maximum_attempts:
                raise
            if (error.retry_after or 0) > policy.pause_above:
                # Hours, not seconds (a spent daily API budget): waiting here would hold
                # the worker; the run stops and the flow is paused until then instead.
                raise
            if on_retry is not None:
                on_retry(attempt, error)
            await sleep(policy.delay(attempt, error.retry_after))
            attempt += 1
