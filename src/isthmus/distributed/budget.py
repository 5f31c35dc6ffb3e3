"""Each system's API budget shared by every worker: a token bucket and a daily count in
PostgreSQL, behind the same ``Pacer`` interface as the in-process ``RateLimiter``.

A vendor's limit is per org, not per process: three workers each pacing themselves to
the documented rate would together spend three times it. Here one row per system holds
the bucket (tokens, last refill), a pause asked for by the vendor (429 Retry-After),
and the calls made today; one atomic UPDATE per call takes a token and says how long
to wait. Times come from the database's clock, so workers on machines whose clocks
disagree still share one budget.

A token is taken even when the answer is "wait": the balance goes negative and the
next callers wait longer, which keeps the total rate right without a second round trip.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import psycopg

from isthmus.distributed.pg import connect, lock_key
from isthmus.engine.config import RateLimitConfig
from isthmus.engine.pacing import daily_spent

TABLE = "isthmus_shared_budget"
CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    system text PRIMARY KEY,
    tokens double precision NOT NULL,
    refilled_at double precision NOT NULL,
    paused_until double precision NOT NULL DEFAULT 0,
    day date NOT NULL,
    used bigint NOT NULL DEFAULT 0
)
"""
NOW = "extract(epoch FROM clock_timestamp())::float8"
TODAY = "(clock_timestamp() AT TIME ZONE 'UTC')::date"
TAKE = f"""
UPDATE {TABLE} SET
    tokens = CASE WHEN %(rate)s::float8 IS NULL THEN 0
        ELSE LEAST(%(burst)s::float8, tokens + ({NOW} - refilled_at) * %(rate)s::float8) - 1
        END,
    refilled_at = {NOW},
    used = CASE WHEN day = {TODAY} THEN used + 1 ELSE 1 END,
    day = {TODAY}
WHERE system = %(system)s
RETURNING tokens, paused_until - {NOW}, used
"""
PAUSE = f"""
UPDATE {TABLE} SET paused_until = GREATEST(paused_until, {NOW} + %(seconds)s::float8)
WHERE system = %(system)s
"""


class SharedRateLimiter:
    """``Pacer`` for one system, shared through the PostgreSQL store."""

    def __init__(self, dsn: str, system: str, spec: RateLimitConfig | None) -> None:
        self.dsn = dsn
        self.system = system
        self.per_second = spec.per_second if spec else None
        self.burst = spec.burst if spec else 1
        self.daily = spec.daily if spec else None
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._pausing: set[asyncio.Task[None]] = set()

    async def _session(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._connection is None or self._connection.closed:
            connection = await connect(self.dsn)
            # Concurrent first starts: the advisory lock makes CREATE IF NOT EXISTS safe.
            async with connection.transaction():
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(%s)", (lock_key("isthmus-budget-table"),)
                )
                await connection.execute(CREATE)
                await connection.execute(
                    f"INSERT INTO {TABLE} (system, tokens, refilled_at, day) "
                    f"VALUES (%s, %s, {NOW}, {TODAY}) ON CONFLICT (system) DO NOTHING",
                    (self.system, float(self.burst)),
                )
            self._connection = connection
        return self._connection

    async def acquire(self) -> None:
        session = await self._session()
        cursor = await session.execute(
            TAKE, {"rate": self.per_second, "burst": float(self.burst), "system": self.system}
        )
        row = await cursor.fetchone()
        assert row is not None
        tokens, paused_for, used = cast(tuple[float, float, int], row)
        if self.daily is not None and used > self.daily:
            raise daily_spent(self.system, self.daily, datetime.now(UTC))
        wait = max(paused_for, 0.0)
        if self.per_second and tokens < 0:
            wait = max(wait, -tokens / self.per_second)
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Every worker waits: written to the shared row in the background."""
        task = asyncio.get_running_loop().create_task(self._pause(seconds))
        self._pausing.add(task)
        task.add_done_callback(self._pausing.discard)

    async def _pause(self, seconds: float) -> None:
        session = await self._session()
        await session.execute(PAUSE, {"seconds": seconds, "system": self.system})

    async def close(self) -> None:
        if self._pausing:
            await asyncio.gather(*self._pausing, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
