"""Resilience under load, against the Salesforce sandbox.

- 20,000 records from a SQL table into Salesforce while the sandbox answers 10% of
  calls with 500/503/429, drops connections and stalls: the load ends complete, with no
  duplicate, and the run reports its retries.
- One invalid record in a batch of 200: 199 written, one dead letter naming the field,
  its limit from Salesforce's describe, and what to do; fixed at the source, its replay
  succeeds. (Errors Salesforce itself returns per record are covered in
  test_behaviour.py and the conformance suite.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.connectors.loadsource import (
    TEN_PERCENT_FAULTS,
    load_config_for,
    open_letters,
    run,
    until_settled,
)
from tests.connectors.salesforce.conftest import options, set_faults
from tests.sandbox.salesforce.conftest import RunningSandbox

TARGET = ("crm", "Account", {"name": "Name", "number": "AccountNumber"})


def _setup(directory: Path, sandbox_url: str, rows: list[dict[str, Any]]) -> Path:
    system = {"connector": "salesforce", "options": options(sandbox_url, timeout_seconds=2)}
    return load_config_for(directory, rows, TARGET, system)


def _accounts(org: RunningSandbox) -> list[str]:
    numbers: list[str] = []
    with org.http() as client:
        answer = client.get(
            "/services/data/v59.0/query",
            params={"q": "SELECT AccountNumber FROM Account"},
            headers={"Sforce-Query-Options": "batchSize=2000"},
        ).json()
        while True:
            numbers.extend(r["AccountNumber"] for r in answer["records"])
            if answer["done"]:
                return numbers
            answer = client.get(answer["nextRecordsUrl"]).json()


@pytest.mark.slow
def test_a_20000_record_load_under_10_percent_faults_ends_complete(
    tmp_path: Path, org: RunningSandbox
) -> None:
    rows = [
        {"id": f"C{n:06d}", "name": f"Customer {n}", "number": f"N{n:06d}"} for n in range(20_000)
    ]
    config = _setup(tmp_path, org.url, rows)
    set_faults(org, **TEN_PERCENT_FAULTS)
    retries = until_settled(config, run(config))
    set_faults(org, error_rate=0.0, drop_rate=0.0, timeout_rate=0.0)
    numbers = _accounts(org)
    assert len(numbers) == 20_000, "every record arrived"
    assert len(set(numbers)) == 20_000, "none twice"
    assert retries > 0, "the report shows the retries the faults caused"


def test_one_bad_record_of_200_is_a_dead_letter_and_its_replay_succeeds(
    tmp_path: Path, org: RunningSandbox
) -> None:
    rows = [{"id": f"C{n:06d}", "name": f"Customer {n}", "number": f"N{n:06d}"} for n in range(200)]
    rows[117]["name"] = "N" * 300  # Account.Name holds 255
    config = _setup(tmp_path, org.url, rows)
    (report,) = run(config)
    assert report.counts["created"] == 199
    (letter,) = open_letters(config)
    assert letter.native_id == "C000117"
    # Checked against Salesforce's describe before sending: the field, its limit, what to do.
    assert "Account.Name holds at most 255 characters, got 300" in letter.message
    assert "set truncate: true on its rule or shorten it at the source" in letter.message
    assert len(_accounts(org)) == 199

    source = create_engine(f"sqlite:///{tmp_path}/erp.db")
    with source.begin() as tx:
        tx.execute(text("UPDATE customers SET name = 'Customer 117' WHERE id = 'C000117'"))
    source.dispose()
    (replayed,) = run(config, "replay", [letter.id or 0])
    assert replayed.counts["created"] == 1
    assert open_letters(config) == []
    assert sorted(_accounts(org)) == sorted(row["number"] for row in rows)
