"""Leader lock, record locks and the shared API budget, on the machine's PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from isthmus.distributed.budget import SharedRateLimiter
from isthmus.distributed.leader import LeaderLock
from isthmus.distributed.locks import RecordLocks, record_keys
from isthmus.distributed.pg import lock_key, postgres_dsn
from isthmus.engine.config import RateLimitConfig
from isthmus.engine.pacing import RateLimiter
from isthmus.errors import ConfigError, RateLimitedError
from isthmus.store import Xref, open_store
from tests.distributed.services import fresh_database


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    with fresh_database("isthmus_coord") as url:
        yield postgres_dsn(url)


def test_distributed_mode_refuses_a_sqlite_store() -> None:
    with pytest.raises(ConfigError, match=r"needs a PostgreSQL store.*store: postgresql://"):
        postgres_dsn("sqlite:///state.db")


def test_lock_keys_are_stable_signed_64_bit_numbers() -> None:
    key = lock_key("record", "customer", "crm", "001")
    assert key == lock_key("record", "customer", "crm", "001")
    assert key != lock_key("record", "customer", "crm", "002")
    assert -(2**63) <= key < 2**63


def test_one_leader_at_a_time_and_a_standby_takes_over_when_it_goes(dsn: str) -> None:
    async def scenario() -> None:
        first = LeaderLock(dsn, "coord-test", retry_every=0.0)
        second = LeaderLock(dsn, "coord-test", retry_every=0.0)
        other_installation = LeaderLock(dsn, "another")
        try:
            assert await first.check()
            assert not await second.check()
            assert await first.check()  # still leading on the next tick
            assert await other_installation.check()  # its own lock
            await first.close()  # the leader steps down (a killed one: test_many_workers)
            assert await second.check()
        finally:
            for lock in (first, second, other_installation):
                await lock.close()

    asyncio.run(scenario())


def test_a_record_held_by_one_worker_waits_for_it(dsn: str) -> None:
    async def scenario() -> list[str]:
        order: list[str] = []
        one, two = RecordLocks(dsn), RecordLocks(dsn)
        keys = [lock_key("record", "customer", "crm", n) for n in ("a", "b")]

        async def second_worker() -> None:
            async with two.hold([keys[1]]):
                order.append("second applies")

        try:
            async with one.hold(keys):
                async with two.try_hold(keys[0]) as taken:
                    assert not taken
                waiting = asyncio.create_task(second_worker())
                await asyncio.sleep(0.3)
                order.append("first applies")
            await asyncio.wait_for(waiting, 10)
            async with two.try_hold(keys[0]) as taken:
                assert taken
        finally:
            await one.close()
            await two.close()
        return order

    assert asyncio.run(scenario()) == ["first applies", "second applies"]


def test_a_linked_record_is_also_locked_by_its_canonical_id(dsn: str) -> None:
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    store = open_store(url)
    try:
        with store.unit_of_work() as uow:
            uow.add_xref(Xref("C1", "customer", "crm", "001"))
            uow.add_xref(Xref("C1", "customer", "erp", "42"))
        from_crm = set(record_keys(store, "customer", "crm", ["001"]))
        from_erp = set(record_keys(store, "customer", "erp", ["42"]))
        unlinked = set(record_keys(store, "customer", "crm", ["999"]))
    finally:
        store.close()
    # Changes arriving from either side of one link exclude each other.
    assert from_crm & from_erp == {lock_key("canonical", "customer", "C1")}
    assert len(unlinked) == 1


def test_workers_share_one_daily_allowance(dsn: str) -> None:
    async def scenario() -> None:
        spec = RateLimitConfig(per_second=1000, burst=10, daily=3)
        workers = [SharedRateLimiter(dsn, "daily-crm", spec) for _ in range(2)]
        try:
            await workers[0].acquire()
            await workers[1].acquire()
            await workers[0].acquire()
            with pytest.raises(RateLimitedError, match=r"daily allowance of 3 calls to daily-crm"):
                await workers[1].acquire()
        finally:
            for limiter in workers:
                await limiter.close()

    asyncio.run(scenario())


def test_a_pause_asked_by_the_vendor_holds_every_worker(dsn: str) -> None:
    async def scenario() -> float:
        first = SharedRateLimiter(dsn, "paused-erp", None)
        second = SharedRateLimiter(dsn, "paused-erp", None)
        try:
            await first.acquire()
            first.pause(0.6)
            await first.close()  # the pause is written before the connection closes
            loop = asyncio.get_running_loop()
            started = loop.time()
            await second.acquire()
            return loop.time() - started
        finally:
            await second.close()

    # The second worker never saw the 429, yet it waited for the pause.
    assert asyncio.run(scenario()) >= 0.4


def test_the_shared_rate_spreads_calls_of_all_workers(dsn: str) -> None:
    async def scenario() -> float:
        spec = RateLimitConfig(per_second=20, burst=1)
        workers = [SharedRateLimiter(dsn, "rate-crm", spec) for _ in range(2)]
        try:
            await workers[0].acquire()  # the burst
            loop = asyncio.get_running_loop()
            started = loop.time()
            await asyncio.gather(*(w.acquire() for w in workers for _ in range(5)))
            return loop.time() - started
        finally:
            for limiter in workers:
                await limiter.close()

    # Ten calls at 20/s take about half a second however many workers make them.
    assert asyncio.run(scenario()) >= 0.4


def test_the_in_process_limiter_counts_the_daily_allowance_the_same_way() -> None:
    day = [datetime(2026, 11, 23, 23, 59, tzinfo=UTC)]
    limiter = RateLimiter(daily=2, system="crm", wall_clock=lambda: day[0])

    async def calls(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()

    asyncio.run(calls(2))
    with pytest.raises(RateLimitedError, match="daily allowance of 2 calls to crm") as spent:
        asyncio.run(calls(1))
    assert spent.value.retry_after == 60.0  # until midnight UTC
    day[0] = datetime(2026, 11, 24, 0, 0, 1, tzinfo=UTC)
    asyncio.run(calls(2))  # a new day, a new allowance


def test_a_standby_asks_for_the_lock_at_most_once_per_interval(dsn: str) -> None:
    async def scenario() -> float:
        leader = LeaderLock(dsn, "paced-test")
        standby = LeaderLock(dsn, "paced-test", retry_every=0.5)
        try:
            assert await leader.check()
            loop = asyncio.get_running_loop()
            started = loop.time()
            for _ in range(3):
                assert not await standby.check()
            return loop.time() - started
        finally:
            await leader.close()
            await standby.close()

    # Three asks in a row, the scheduler's loop spinning: paced to one per 0.5 s.
    assert asyncio.run(scenario()) >= 1.0
