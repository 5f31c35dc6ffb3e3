"""Pacing: a system's documented rate is kept, and a 429 slows every caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isthmus.engine.pacing import RateLimiter
from tests.engine.memoryfixtures import open_engine, write_config


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_the_bucket_allows_a_burst_then_paces() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_second=10, burst=3, clock=time.clock, sleep=time.sleep)

    async def calls(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()

    asyncio.run(calls(6))
    assert time.slept == [0.1, 0.1, 0.1], "three at once, then one every 100 ms"


def test_a_pause_holds_every_caller() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    limiter.pause(30)
    asyncio.run(limiter.acquire())
    assert time.slept == [30]
    asyncio.run(limiter.acquire())
    assert time.slept == [30], "after the pause, calls go at once"


def test_a_system_rate_limit_comes_from_the_config(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    text = config.read_text().replace(
        "  erp:\n    connector: memory",
        "  erp:\n    rate_limit: {per_second: 5, burst: 2}\n    connector: memory",
    )
    config.write_text(text)
    engine, _, _ = open_engine(config)
    limiter = engine.guarded["erp"].limiter
    assert (limiter.per_second, limiter.burst) == (5, 2)
    assert engine.guarded["crm"].limiter.per_second is None
    asyncio.run(engine.close())
