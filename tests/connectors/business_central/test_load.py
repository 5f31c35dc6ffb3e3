"""Resilience under load, against the Business Central sandbox.

- 20,000 records from a SQL table into Business Central while the sandbox answers 10%
  of calls with 500/503/429, drops connections and stalls past the client's timeout (the
  write lands, the answer is lost): the load ends complete, with no duplicate, and the
  run reports its retries.
- One record of 200 too long for BC's field: 199 written, one dead letter naming the
  field, its limit from BC's $metadata and what to do; fixed at the source, its replay
  succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.connectors.business_central.conftest import (
    all_customers,
    options,
    sandbox_with,
    set_faults,
)
from tests.connectors.loadsource import (
    TEN_PERCENT_FAULTS,
    load_config_for,
    open_letters,
    run,
    until_settled,
)
from tests.sandbox.business_central.conftest import Sandbox

TARGET = ("bc", "customers", {"name": "displayName", "number": "email"})


def _setup(directory: Path, erp: Sandbox, rows: list[dict[str, Any]]) -> Path:
    system = {
        "connector": "business_central",
        "options": options(
            erp, timeout_seconds=2, objects={"customers": {"external_key": "number"}}
        ),
    }
    return load_config_for(directory, rows, TARGET, system)


def _numbers(erp: Sandbox) -> list[str]:
    return [c["email"] for c in all_customers(erp) if c["email"].startswith("N")]


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"C{n:06d}", "name": f"Customer {n}", "number": f"N{n:06d}@example.com"}
        for n in range(count)
    ]


@pytest.fixture
def erp() -> Iterator[Sandbox]:
    yield from sandbox_with(customers=0, items=0, page_size=20_000, rate_limit=1_000_000)


@pytest.mark.slow
def test_a_20000_record_load_under_10_percent_faults_ends_complete(
    tmp_path: Path, erp: Sandbox
) -> None:
    config = _setup(tmp_path, erp, _rows(20_000))
    set_faults(erp, **TEN_PERCENT_FAULTS)
    retries = until_settled(config, run(config))
    set_faults(erp, error_rate=0.0, drop_rate=0.0, timeout_rate=0.0)
    numbers = _numbers(erp)
    assert len(numbers) == 20_000, "every record arrived"
    assert len(set(numbers)) == 20_000, "none twice"
    assert retries > 0, "the report shows the retries the faults caused"


def test_one_bad_record_of_200_is_a_dead_letter_and_its_replay_succeeds(
    tmp_path: Path, erp: Sandbox
) -> None:
    rows = _rows(200)
    rows[117]["name"] = "N" * 120  # BC's displayName holds 100
    config = _setup(tmp_path, erp, rows)
    (report,) = run(config)
    assert report.counts["created"] == 199
    (letter,) = open_letters(config)
    assert letter.native_id == "C000117"
    # Checked against BC's $metadata (MaxLength) before sending: field, limit, what to do.
    assert letter.field == "displayName"
    assert "customers.displayName holds at most 100 characters, got 120" in letter.message
    assert "set truncate: true on its rule or shorten it at the source" in letter.message
    assert len(_numbers(erp)) == 199

    source = create_engine(f"sqlite:///{tmp_path}/erp.db")
    with source.begin() as tx:
        tx.execute(text("UPDATE customers SET name = 'Customer 117' WHERE id = 'C000117'"))
    source.dispose()
    (replayed,) = run(config, "replay", [letter.id or 0])
    assert replayed.counts["created"] == 1
    assert open_letters(config) == []
    assert sorted(_numbers(erp)) == sorted(row["number"] for row in rows)
