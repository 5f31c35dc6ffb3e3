"""Match-first: two systems that already hold the same customers sync without duplicates.

The ERP and the CRM are seeded with the same customers; a fifth of the ERP's copies
differ by a typo, case, spacing, a legal form or phone formatting (tests/match/twins.py).
The first sync must create nothing: twins are linked (by exact key where one exists,
else by fuzzy score), and pairs too uncertain to link wait in review, with suggestions,
until a person links or creates them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector
from tests.match.twins import (
    check_no_duplicates,
    open_engine,
    seed_twins,
    sync,
    write_config,
)

Systems = tuple[Engine, MemoryConnector, MemoryConnector]


@pytest.fixture
def systems(tmp_path: Path) -> Iterator[Systems]:
    engine, crm, erp = open_engine(write_config(tmp_path))
    yield engine, crm, erp
    asyncio.run(engine.close())


@pytest.mark.slow
def test_match_first_on_10000_shared_customers_creates_no_duplicate(systems: Systems) -> None:
    engine, crm, erp = systems
    twins = seed_twins(crm, erp, 10_000, varied=0.2)
    report = sync(engine)
    counts = check_no_duplicates(engine, crm, erp, twins)
    assert report.counts["created"] == 0
    assert report.counts["linked_fuzzy"] == counts["linked"] > 9_000
    assert report.counts["review"] == counts["review"] > 0
    # Most uncertain pairs offer the true twin among their suggestions.
    assert counts["suggested_twin"] >= 0.9 * counts["review"]
