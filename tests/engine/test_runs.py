"""Run bookkeeping: every run ends recorded as what it was, even when it raises."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from tests.engine.sqlfixtures import write_setup


def test_a_targeted_sync_that_raises_is_recorded_as_failed(tmp_path: Path) -> None:
    engine = Engine.from_config(load_config(write_setup(tmp_path, 3)))

    async def scenario() -> None:
        try:
            with pytest.raises(KeyError):
                await engine.sync_ids("products", "no-such-system", ["P0000001"])
        finally:
            await engine.close()

    asyncio.run(scenario())
    (run,) = engine.store.runs("products")
    assert run.status == "failed"
    assert "no-such-system" in (run.message or "")
    assert run.finished_at is not None


def test_a_replay_run_is_recorded_with_its_counts(tmp_path: Path) -> None:
    engine = Engine.from_config(load_config(write_setup(tmp_path, 3)))

    async def scenario() -> None:
        try:
            report = await engine.sync_ids("products", "src", ["P0000001", "P0000002"])
            assert report.status == "succeeded"
            assert report.counts["created"] == 2
        finally:
            await engine.close()

    asyncio.run(scenario())
    (run,) = engine.store.runs("products")
    assert run.status == "succeeded"
    assert run.trigger == "replay"
    assert run.counts["created"] == 2
