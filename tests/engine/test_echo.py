"""No echo and no ping-pong after 1,000 edits on both sides of a two-way flow.

Edits land at random on either database (names, descriptions, units, active flags);
every 50 edits the engine syncs. Right after each sync, a second sync must write
nothing at all: Isthmus recognises its own writes coming back. At the end both
databases agree field by field (no conflicts are possible to leave open: the rule is
``last_writer`` with no skew tolerance, and edits carry distinct timestamps).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from tests.engine.sqlfixtures import source_products, target_products, write_setup

RECORDS = 60
EDITS = 1000


def writes(reports) -> int:  # type: ignore[no-untyped-def]
    return sum(r.counts["created"] + r.counts["updated"] + r.counts["deleted"] for r in reports)


@pytest.mark.slow
def test_thousand_edits_on_both_sides_converge_without_echo(tmp_path: Path) -> None:
    config = write_setup(tmp_path, RECORDS, direction="both", conflict="last_writer")
    text = config.read_text().replace(
        "conflict: {default: last_writer}", "conflict: {default: last_writer, clock_skew: 0ms}"
    )
    config.write_text(text)
    source = create_engine(f"sqlite:///{tmp_path}/source.db")
    target = create_engine(f"sqlite:///{tmp_path}/target.db")
    rng = random.Random(1000)
    clock = datetime.now(UTC)

    async def scenario() -> None:
        nonlocal clock
        engine = Engine.from_config(load_config(config))
        try:
            await engine.sync()
            for edit in range(EDITS):
                # A person's edit happens now, after every earlier write.
                clock = max(clock + timedelta(milliseconds=1), datetime.now(UTC))
                number = rng.randrange(RECORDS)
                value = f"v{edit}"
                if rng.random() < 0.5:
                    field = rng.choice(["name", "description", "unit"])
                    with source.begin() as tx:
                        tx.execute(
                            update(source_products)
                            .where(source_products.c.code == f"SKU-{number:07d}")
                            .values(
                                {
                                    field: value[:10] if field == "unit" else value,
                                    "updated_at": clock,
                                }
                            )
                        )
                else:
                    column = rng.choice(["title", "notes", "uom"])
                    with target.begin() as tx:
                        tx.execute(
                            update(target_products)
                            .where(target_products.c.item_code == f"SKU-{number:07d}")
                            .values(
                                {
                                    column: value[:10] if column == "uom" else value,
                                    "modified": clock,
                                }
                            )
                        )
                if edit % 50 == 49:
                    await engine.sync()
                    quiet = await engine.sync()
                    assert writes(quiet) == 0, [r.counts for r in quiet]
            await engine.sync()
            assert writes(await engine.sync()) == 0
            assert engine.store.review_items(flow="products") == []
        finally:
            await engine.close()

    asyncio.run(scenario())
    with source.connect() as left, target.connect() as right:
        a = {
            row.code: (row.name, row.description, row.unit)
            for row in left.execute(select(source_products))
        }
        b = {
            row.item_code: (row.title, row.notes, row.uom)
            for row in right.execute(select(target_products))
        }
    assert len(b) == RECORDS
    assert a == b
    source.dispose()
    target.dispose()
