"""No duplicate, no lost change: SIGKILL a real ``isthmus sync`` at random moments.

A subprocess syncs 3,000 products from one SQLite database to another, page by page.
It is killed with SIGKILL after a random delay, the source is edited, and the command
is started again, until a run completes. The target must then hold every product
exactly once (its external key column is not unique, so a duplicate would show), with
the source's *latest* values.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update

from tests.engine.sqlfixtures import source_products, target_products, write_setup

ROWS = 3000


def start_sync(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "isthmus.cli.main", "sync", "-c", str(config), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=config.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_sync_never_duplicates_or_loses(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    config = write_setup(tmp_path, ROWS, page_size=250)
    source = create_engine(f"sqlite:///{tmp_path}/source.db")
    target = create_engine(f"sqlite:///{tmp_path}/target.db")
    kills = 0
    edited: dict[str, str] = {}
    for attempt in range(40):
        process = start_sync(config)
        deadline = time.monotonic() + rng.uniform(0.4, 3.0)
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            # A person keeps working in the source while the sync is down.
            number = rng.randrange(ROWS)
            name = f"Renamed {number} after kill {kills}"
            with source.begin() as tx:
                tx.execute(
                    update(source_products)
                    .where(source_products.c.id == f"P{number:07d}")
                    .values(name=name, updated_at=datetime.now(UTC))
                )
            edited[f"SKU-{number:07d}"] = name
            continue
        stderr = process.stderr.read().decode() if process.stderr else ""
        assert process.returncode == 0, stderr
        if attempt > 0 and kills >= 3:
            break
    assert kills >= 3, "the sync finished too fast to be interrupted; raise ROWS"
    # One more run picks up any edit made after the last run started reading.
    final = start_sync(config)
    assert final.wait(timeout=300) == 0
    with target.connect() as conn:
        total = conn.execute(select(func.count()).select_from(target_products)).scalar_one()
        distinct_codes = conn.execute(
            select(func.count(func.distinct(target_products.c.item_code)))
        ).scalar_one()
        keys = conn.execute(
            select(func.count(func.distinct(target_products.c.isthmus_id)))
        ).scalar_one()
        names = {
            row.item_code: row.title
            for row in conn.execute(select(target_products.c.item_code, target_products.c.title))
        }
    assert total == ROWS, f"{total - ROWS} duplicate rows after {kills} kills"
    assert distinct_codes == ROWS
    assert keys == ROWS
    for code, name in edited.items():
        assert names[code] == name, f"the edit of {code} was lost"
    source.dispose()
    target.dispose()
