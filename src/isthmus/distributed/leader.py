"""Leader election for schedulers: whoever holds one PostgreSQL advisory lock polls.

Any number of ``isthmus run`` processes may run (for the API, webhooks, or as standby
schedulers); only the holder of the lock queues scheduled polls, so each poll runs once.
The lock is session-level on a connection of its own: when the leader dies, or its
connection breaks, PostgreSQL ends the session and releases the lock, and the next
standby to ask (every tick) takes over. No lease times, no clock agreement needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import psycopg
import structlog

from isthmus.distributed.pg import connect, lock_key

log = structlog.get_logger(__name__)
# A standby asks for the lock at most this often. The scheduler's loop asks on every
# tick, and a standby's flows are always due (it never queues them), so without this
# it would ask in a tight loop.
RETRY_EVERY = 1.0


class LeaderLock:
    def __init__(
        self, dsn: str, installation: str = "default", retry_every: float = RETRY_EVERY
    ) -> None:
        self.dsn = dsn
        self.key = lock_key("isthmus-scheduler-leader", installation)
        self.leading = False
        self.retry_every = retry_every
        self._asked_at: float | None = None
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def check(self) -> bool:
        """True when this process leads now (asks for the lock when it does not)."""
        try:
            if self._connection is None or self._connection.closed:
                self.leading = False
                self._connection = await connect(self.dsn)
            if self.leading:
                # The lock lives as long as the session: proving the session is alive
                # proves we still hold it.
                await self._connection.execute("SELECT 1")
                return True
            await self._pace()
            cursor = await self._connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            row = await cursor.fetchone()
            self.leading = bool(row and row[0])
            if self.leading:
                log.info("scheduler leader: this process queues the polls now")
        except psycopg.Error as error:
            if self.leading:
                log.warning("scheduler leader: lost the store connection", error=str(error))
            self.leading = False
            await self._drop()
        return self.leading

    async def _pace(self) -> None:
        now = time.monotonic()
        if self._asked_at is not None:
            wait = self._asked_at + self.retry_every - now
            if wait > 0:
                await asyncio.sleep(wait)
        self._asked_at = time.monotonic()

    async def close(self) -> None:
        """Step down: the lock is released now, so a standby takes over on its next ask
        (a dead leader's lock goes when PostgreSQL notices its session is gone)."""
        if self.leading and self._connection is not None and not self._connection.closed:
            with contextlib.suppress(psycopg.Error):
                await self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self.leading = False
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
