"""The one retry loop: backoff, Retry-After, attempts, and no blind retry of ambiguity."""

from __future__ import annotations

import asyncio
import random

import pytest

from isthmus.engine.retry import RetryPolicy, call_with_retry
from isthmus.errors import AmbiguousWriteError, RateLimitedError, TransientError


def test_delay_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(initial_interval=1, coefficient=2, maximum_interval=5, jitter=0)
    assert [policy.delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy(initial_interval=10, jitter=0.2)
    rng = random.Random(1)
    delays = [policy.delay(1, rng=rng) for _ in range(200)]
    assert min(delays) >= 8
    assert max(delays) <= 12
    assert len(set(delays)) > 100


def test_retry_after_wins_when_longer() -> None:
    policy = RetryPolicy(initial_interval=1, jitter=0)
    assert policy.delay(1, retry_after=30) == 30
    assert policy.delay(1, retry_after=0.1) == 1


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_transient_errors_are_retried_until_success() -> None:
    calls, sleeps = [], []

    async def action() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RateLimitedError("slow down", retry_after=7)
        return "ok"

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    assert run(call_with_retry(action, RetryPolicy(jitter=0), sleep=sleep)) == "ok"
    assert len(calls) == 3
    assert sleeps == [7, 7]


def test_gives_up_after_the_last_attempt() -> None:
    async def action() -> None:
        raise TransientError("down")

    async def sleep(_: float) -> None:
        return None

    with pytest.raises(TransientError, match="down"):
        run(call_with_retry(action, RetryPolicy(maximum_attempts=3), sleep=sleep))


def test_ambiguous_writes_are_never_retried_blindly() -> None:
    calls = []

    async def action() -> None:
        calls.append(1)
        raise AmbiguousWriteError("timeout after send")

    with pytest.raises(AmbiguousWriteError):
        run(call_with_retry(action, RetryPolicy()))
    assert len(calls) == 1


def test_other_errors_pass_through_at_once() -> None:
    calls = []

    async def action() -> None:
        calls.append(1)
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        run(call_with_retry(action, RetryPolicy()))
    assert len(calls) == 1
