"""Pacing calls to one system: a token bucket from its documented limit, and a pause
for everyone when the system says "retry after N seconds".

Vendors publish call rates (Business Central: 6,000 requests per 5 minutes; HubSpot:
per-second bursts) and answer 429 when they are exceeded. Staying under the rate is
cheaper than being throttled, and one 429 should slow every flow using that system,
not only the call that got it.

A daily allowance (``daily``) is counted here too: once spent, a call raises a
``RateLimitedError`` that pauses the flow until midnight UTC. ``Pacer`` is the interface
the circuit breaker uses; ``isthmus.distributed.budget`` implements it in PostgreSQL so
that many workers share one rate and one daily allowance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from isthmus.errors import RateLimitedError


class Pacer(Protocol):
    def pause(self, seconds: float) -> None:
        """The system asked to wait: no call to it before then, from any flow."""
        ...

    async def acquire(self) -> None:
        """Wait for the right to make one call (raises when the daily allowance is spent)."""
        ...


def daily_spent(system: str, limit: int, now: datetime) -> RateLimitedError:
    """The error of a spent daily allowance: retry after the next midnight UTC."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return RateLimitedError(
        f"the daily allowance of {limit:,} calls to {system} is spent; its flows pause "
        f"until {midnight:%Y-%m-%d %H:%M} UTC. Raise systems.{system}.rate_limit.daily "
        "if the vendor allows more",
        retry_after=max(1.0, (midnight - now).total_seconds()),
    )


@dataclass
class RateLimiter:
    per_second: float | None = None  # sustained rate; None: no pacing, only pauses
    burst: int = 1  # calls allowed at once before pacing starts
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    daily: int | None = None  # calls per UTC day; None: no daily cap
    system: str = "the system"
    wall_clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _day: str = field(default="", init=False)
    _used_today: int = field(default=0, init=False)
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
        if self.daily is not None:
            wall = self.wall_clock()
            if wall.date().isoformat() != self._day:
                self._day, self._used_today = wall.date().isoformat(), 0
            if self._used_today >= self.daily:
                raise daily_spent(self.system, self.daily, wall)
            self._used_today += 1
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
