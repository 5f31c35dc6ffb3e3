"""Per-record exclusivity across workers: PostgreSQL advisory locks, one per record.

A worker holds the locks of a work item's records from before it reads them until the
page's bookkeeping is committed, so the read -> plan -> write -> record sequence of one
record never interleaves with another worker's: changes to one record are applied in
the order they are read, and a link is never planned twice at once.

Keys: (entity, system, native id) of each origin record, plus (entity, canonical id)
when it is linked, so a change arriving from either side of a two-way flow excludes
its partner's. Keys are taken in sorted order in one statement, so two workers with
overlapping batches wait for each other instead of deadlocking. Locks are
session-level on a connection of this worker alone: a worker killed mid-batch loses its
session, and PostgreSQL frees its records for whoever gets the redelivered item.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

import psycopg

from isthmus.distributed.pg import connect, lock_key
from isthmus.store.base import Store


def record_keys(store: Store, entity: str, system: str, native_ids: Sequence[str]) -> list[int]:
    """The lock keys of these records of ``system`` (see the module docstring)."""
    keys = {lock_key("record", entity, system, native_id) for native_id in native_ids}
    linked = store.xrefs_by_native(entity, system, native_ids)
    keys |= {lock_key("canonical", entity, xref.canonical_id) for xref in linked.values()}
    return sorted(keys)


class RecordLocks:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def _session(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._connection is None or self._connection.closed:
            self._connection = await connect(self.dsn)
        return self._connection

    @asynccontextmanager
    async def hold(self, keys: Iterable[int]) -> AsyncIterator[None]:
        """Wait for every key (in sorted order), then hold them for the block."""
        ordered = sorted(set(keys))
        session = await self._session()
        await session.execute(
            "SELECT count(pg_advisory_lock(k)) FROM "
            "(SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS wanted",
            (ordered,),
        )
        try:
            yield
        finally:
            await self._release(session, ordered)

    @asynccontextmanager
    async def try_hold(self, key: int) -> AsyncIterator[bool]:
        """Hold ``key`` for the block if nobody does; yields whether it was taken."""
        session = await self._session()
        cursor = await session.execute("SELECT pg_try_advisory_lock(%s)", (key,))
        row = await cursor.fetchone()
        taken = bool(row and row[0])
        try:
            yield taken
        finally:
            if taken:
                await self._release(session, [key])

    async def _release(
        self, session: psycopg.AsyncConnection[tuple[object, ...]], keys: list[int]
    ) -> None:
        if session.closed:
            return  # the session ended: PostgreSQL released its locks with it
        await session.execute(
            "SELECT count(pg_advisory_unlock(k)) FROM unnest(%s::bigint[]) AS k", (keys,)
        )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
