"""Pacing calls to one system: a token bucket from its documented limit, and a pause
for everyone when the system says "retry after N seconds".

Vendors publish call rates (Business Central: 6,000 requests per 5 minutes; HubSpot:
per-second bursts) and answer 429 when they are exceeded. Staying under the rate is
cheaper than being throttled, and one 429 should slow every flow using that system,
not only the call that got it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from isthmus.errors import RateLimitedError


@dataclass
class RateLimiter:
    per_second: float | None = None  # sustained rate; None: no pacing, only pauses
    burst: int = 1  # calls allowed at once before pacing starts
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # A pause longer than this is not slept through in a call (see ``acquire``); the
    # same threshold as RetryPolicy.pause_above.
    hold_at_most: float = 120.0
    _tokens: float = field(default=0.0, init=False)
    _updated: float | None = field(default=None, init=False)
    _paused_until: float = field(default=0.0, init=False)

    def pause(self, seconds: float) -> None:
        """The system asked to wait: no call to it before then, from any flow."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def acquire(self) -> None:
        wait = self._paused_until - self.clock()
        if wait > self.hold_at_most:
            # Hours, not seconds (a spent daily budget): sleeping here would hold the
            # worker, and a run asked for now would hang instead of saying "paused".
            # Refuse at once; the run stops and its flow pauses until then.
            raise RateLimitedError(
                f"calls to this system are paused for {wait:.0f} s more (it asked to "
                "wait, e.g. its API budget is spent)",
                retry_after=wait,
            )
        if wait > 0:
            await self.sleep(wait)
        if not self.per_second:
            return
        now = self.clock()
        if self._updated is None:
            self._tokens, self._updated = float(self.burst), now
        self._tokens = min(
            float(self.burst), self._tokens + (now - self._updated) * self.per_second
        )
        self._updated = now
        if self._tokens < 1:
            await self.sleep((1 - self._tokens) / self.per_second)
            self._tokens, self._updated = 1.0, self.clock()
        self._tokens -= 1
