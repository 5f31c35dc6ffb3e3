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
import yaml
from typer.testing import CliRunner, Result

from isthmus.cli.main import app
from isthmus.engine.engine import Engine
from isthmus.engine.resolution import DuplicateChoice
from isthmus.errors import IsthmusError
from isthmus.store.types import Xref
from isthmus.testing import MemoryConnector
from tests.match.twins import (
    check_no_duplicates,
    links,
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


def _uncertain_pair(crm: MemoryConnector, erp: MemoryConnector) -> tuple[str, str]:
    """Same name, city and postal code, another phone: alike, but not surely one firm."""
    account = crm.put(
        "Account",
        {
            "Name": "Acme GmbH",
            "Phone": "+49 89 1234567",
            "BillingCity": "München",
            "BillingPostalCode": "80331",
        },
    )
    customer = erp.put(
        "customers",
        {"name": "ACME AG", "phone": "030 9999999", "city": "Munchen", "postal_code": "80331"},
    )
    return account, customer


def _open_duplicate(engine: Engine) -> int:
    (item,) = engine.store.review_items(flow="customers")
    assert item.kind == "duplicate"
    assert item.id is not None
    return item.id


def _resolve(engine: Engine, item_id: int, choice: DuplicateChoice) -> None:
    report = asyncio.run(engine.resolve_review(item_id, value=choice, actor="tester"))
    assert report.status == "succeeded", report.messages


def test_an_uncertain_pair_waits_in_review_with_a_suggestion(systems: Systems) -> None:
    engine, crm, erp = systems
    account, customer = _uncertain_pair(crm, erp)
    report = sync(engine)
    assert (report.counts["created"], report.counts["review"], report.counts["held"]) == (0, 1, 1)
    assert len(crm.records("Account")) == len(erp.records("customers")) == 1
    (item,) = engine.store.review_items(flow="customers")
    assert item.subject_key == f"crm:{account}"
    (suggestion,) = item.details["suggestions"]
    assert suggestion["id"] == customer
    assert 0.75 <= suggestion["score"] < 0.92
    assert suggestion["fields"]["billing_address.city"] == 1.0
    assert suggestion["values"]["name"] == "ACME AG"
    assert item.details["origin_values"]["name"] == "Acme GmbH"
    # The ERP twin waits too (it would otherwise be created in the CRM), and is retried.
    (letter,) = engine.store.dead_letters(flow="customers", status="waiting")
    assert (letter.system, letter.native_id, letter.kind) == ("erp", customer, "waiting_for_review")
    again = sync(engine)
    assert again.counts["created"] == 0
    assert len(engine.store.review_items(flow="customers")) == 1


def test_link_resolution_links_the_pair_and_frees_the_held_record(systems: Systems) -> None:
    engine, crm, erp = systems
    account, customer = _uncertain_pair(crm, erp)
    sync(engine)
    _resolve(engine, _open_duplicate(engine), DuplicateChoice(link=customer))
    assert links(engine) == {account: customer}
    assert engine.store.review_items(flow="customers") == []
    assert engine.store.dead_letters(flow="customers", status="waiting") == []
    # The CRM is the source: its name wins when the two first meet.
    assert erp.records("customers")[customer]["name"] == "Acme GmbH"
    report = sync(engine)
    assert report.counts["created"] == 0
    assert len(crm.records("Account")) == len(erp.records("customers")) == 1


def test_create_resolution_creates_and_the_held_record_syncs_next(systems: Systems) -> None:
    engine, crm, erp = systems
    account, _ = _uncertain_pair(crm, erp)
    sync(engine)
    _resolve(engine, _open_duplicate(engine), DuplicateChoice(create=True))
    assert len(erp.records("customers")) == 2
    assert account in links(engine)
    # The held ERP record is not the same firm either: the next run sends it to the CRM.
    report = sync(engine)
    assert report.counts["created"] == 1
    assert len(crm.records("Account")) == 2
    assert engine.store.dead_letters(flow="customers", status="waiting") == []


def test_a_duplicate_needs_link_or_create(systems: Systems) -> None:
    engine, crm, erp = systems
    _, customer = _uncertain_pair(crm, erp)
    other = erp.put("customers", {"name": "Other", "phone": "1"})
    sync(engine)
    item_id = _open_duplicate(engine)
    with pytest.raises(IsthmusError, match="--link ID"):
        asyncio.run(engine.resolve_review(item_id, take="crm"))
    with pytest.raises(IsthmusError, match="already linked"):
        # "Other" was sent to the CRM by the sync, so it is linked.
        _resolve(engine, item_id, DuplicateChoice(link=other))
    assert customer not in links(engine).values()


@pytest.mark.parametrize(
    ("erp_city", "full_reads"),
    [
        # The city is spelled the same on both sides: a lookup by city finds the twin.
        ("München", 0),
        # No raw value is equal: lookups find nothing, so the partner is read before
        # anything is created, and the twin is still found.
        ("Munich", 1),
    ],
)
def test_an_incremental_run_looks_candidates_up_before_reading_everything(
    systems: Systems, erp_city: str, full_reads: int
) -> None:
    engine, crm, erp = systems
    crm.put("Account", {"Name": "Linked One", "AccountNumber": "N-1"})
    erp.put("customers", {"name": "Linked One", "customer_no": "N-1"})
    sync(engine)
    newcomer = erp.put("customers", {"name": "Nordic Druck", "phone": "089 4440123"})
    erp.put("customers", {"city": erp_city}, newcomer)
    account = crm.put(
        "Account", {"Name": "NORDIC  DRUCK", "Phone": "+49 89 4440123", "BillingCity": "München"}
    )
    reads = erp.calls["read_changes"]
    report = sync(engine)
    assert links(engine)[account] == newcomer
    assert report.counts["linked_fuzzy"] == 1
    assert report.counts["created"] == 0
    # One read of the ERP's own changes, plus the full reads for the index.
    assert erp.calls["read_changes"] == reads + 1 + full_reads


def test_cli_lists_and_resolves_a_possible_duplicate(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    config = yaml.safe_load(path.read_text())
    config["systems"]["crm"]["options"]["records"] = {
        "Account": [
            {
                "Name": "Acme GmbH",
                "Phone": "+49 89 1234567",
                "BillingCity": "München",
                "BillingPostalCode": "80331",
            }
        ]
    }
    config["systems"]["erp"]["options"]["records"] = {
        "customers": [
            {"name": "ACME AG", "phone": "030 9999999", "city": "Munchen", "postal_code": "80331"}
        ]
    }
    path.write_text(yaml.safe_dump(config))
    cli = CliRunner()

    def run(*args: str) -> Result:
        return cli.invoke(app, [args[0], *args[1:2], "-c", str(path), *args[2:]])

    synced = run("sync")
    assert synced.exit_code == 0, synced.output
    assert "created 0; 1 sent to review and 1 held" in " ".join(synced.output.split())
    listed = run("review", "list")
    assert "duplicate" in listed.output
    assert "ACME AG" in listed.output
    engine, _, _ = open_engine(path)
    (item,) = engine.store.review_items(flow="customers")
    (candidate,) = item.details["candidates"]
    asyncio.run(engine.close())
    wrong = run("review", "resolve", str(item.id), "--take", "crm")
    assert wrong.exit_code == 1
    assert "--link ID" in wrong.output
    both = run("review", "resolve", str(item.id), "--link", candidate, "--create")
    assert both.exit_code == 2
    linked = run("review", "resolve", str(item.id), "--link", candidate)
    assert linked.exit_code == 0, linked.output
    engine, _, _ = open_engine(path)
    assert engine.store.review_items(flow="customers") == []
    assert list(links(engine).values()) == [candidate]
    asyncio.run(engine.close())


def test_a_record_the_filter_leaves_out_is_not_matched_or_reviewed(tmp_path: Path) -> None:
    # Only customers with a number are synced; the look-alike pair has none.
    config = write_config(tmp_path, filter=[{"field": "number", "not_empty": True}])
    engine, crm, erp = open_engine(config)
    try:
        _uncertain_pair(crm, erp)
        report = sync(engine)
        assert report.counts["filtered"] == 2
        assert report.counts["review"] == report.counts["held"] == 0
        assert engine.store.review_items(flow="customers") == []
    finally:
        asyncio.run(engine.close())


def test_a_sync_that_links_a_reviewed_record_closes_its_review(systems: Systems) -> None:
    engine, crm, erp = systems
    account, customer = _uncertain_pair(crm, erp)
    sync(engine)
    _open_duplicate(engine)
    # Someone keys the same customer number on both sides: the exact key settles it.
    crm.put("Account", {"AccountNumber": "C-77"}, account)
    erp.put("customers", {"customer_no": "C-77"}, customer)
    sync(engine)
    assert links(engine) == {account: customer}
    assert engine.store.review_items(flow="customers") == []
    assert engine.store.dead_letters(flow="customers", status="waiting") == []
    assert len(erp.records("customers")) == 1


def test_resolving_a_review_whose_record_was_linked_meanwhile_closes_it(
    systems: Systems,
) -> None:
    engine, crm, erp = systems
    account, _ = _uncertain_pair(crm, erp)
    sync(engine)
    item_id = _open_duplicate(engine)
    with engine.store.unit_of_work() as uow:  # linked by some other way than this flow
        uow.add_xref(Xref("elsewhere", "customer", "crm", account))
    with pytest.raises(IsthmusError, match="linked meanwhile"):
        _resolve(engine, item_id, DuplicateChoice(create=True))
    assert engine.store.review_items(flow="customers") == []
    assert len(erp.records("customers")) == 1


def test_a_webhook_sync_that_links_a_held_record_frees_it(systems: Systems) -> None:
    engine, crm, erp = systems
    account, customer = _uncertain_pair(crm, erp)
    erp.put("customers", {"customer_no": "C-77"}, customer)
    sync(engine)
    assert [letter.native_id for letter in engine.store.dead_letters(status="waiting")] == [
        customer
    ]
    crm.put("Account", {"AccountNumber": "C-77"}, account)
    # A webhook syncs just this record: no retry of waiting records runs first.
    asyncio.run(engine.sync_ids("customers", "crm", [account], trigger="webhook"))
    assert links(engine) == {account: customer}
    assert engine.store.dead_letters(status="waiting") == []
    assert engine.store.review_items(flow="customers") == []


def test_a_fuzzy_field_no_side_maps_is_reported(tmp_path: Path) -> None:
    fuzzy = {"fields": {"name": 0.8, "website": 0.2}}
    engine, _, _ = open_engine(write_config(tmp_path, match={"fuzzy": fuzzy}))
    try:
        report = sync(engine)
        (message,) = report.messages
        assert "'website' is not mapped for crm, erp" in message
    finally:
        asyncio.run(engine.close())
