"""``sync --dry-run``: read both sides, match and plan, and write nothing anywhere.

What it reports must be what a real sync then does: the same links (exact and fuzzy),
the same reviews, the same creates.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from isthmus.cli.main import app
from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector
from tests.match.twins import open_engine, seed_twins, sync, write_config

Systems = tuple[Engine, MemoryConnector, MemoryConnector]


@pytest.fixture
def systems(tmp_path: Path) -> Iterator[Systems]:
    engine, crm, erp = open_engine(write_config(tmp_path))
    yield engine, crm, erp
    asyncio.run(engine.close())


def _seed(crm: MemoryConnector, erp: MemoryConnector) -> None:
    seed_twins(crm, erp, 300, varied=0.5, seed=11)
    # One pair shares a customer number (exact key); two customers exist in one side only.
    crm.put("Account", {"Name": "Keyed One", "AccountNumber": "K-1", "Phone": "1"})
    erp.put("customers", {"name": "Keyed 1 (ERP spelling)", "customer_no": "K-1"})
    crm.put("Account", {"Name": "Only In The CRM", "BillingCity": "Kiel", "Phone": "+49 431 55"})
    erp.put("customers", {"name": "Nur Im ERP", "city": "Ulm", "phone": "0731 77"})
    # The ERP holds a firm twice; the CRM record links to the exact copy, so the other
    # copy, once its look-alike is taken, is a new record for the CRM.
    solo = {"Name": "Solo Werke GmbH", "Phone": "+49 621 300400", "BillingCity": "Mannheim"}
    crm.put("Account", solo)
    erp.put("customers", {"name": "Solo Werke GmbH", "phone": "0621 300400", "city": "Mannheim"})
    erp.put("customers", {"name": "Solo Werke", "phone": "0621 999888", "city": "Mannheim"})


def _state(engine: Engine, crm: MemoryConnector, erp: MemoryConnector) -> dict[str, Any]:
    store = engine.store
    return {
        "crm": crm.records("Account"),
        "erp": erp.records("customers"),
        "crm_writes": crm.calls.get("write", 0),
        "erp_writes": erp.calls.get("write", 0),
        "links": [list(store.iter_xrefs("customer", system)) for system in ("crm", "erp")],
        "cursors": [
            store.cursor("customers", "crm", "Account"),
            store.cursor("customers", "erp", "customers"),
        ],
        "review": store.review_items(status=None),
        "dead_letters": store.dead_letters(status=None),
        "audit": store.audit_events(),
        "pending": store.pending_writes(),
        "counters": store.counters(),
    }


def test_a_dry_run_writes_nothing_and_predicts_the_real_sync(systems: Systems) -> None:
    engine, crm, erp = systems
    _seed(crm, erp)
    before = _state(engine, crm, erp)
    preview_report = sync(engine, dry_run=True)
    assert _state(engine, crm, erp) == before
    preview = preview_report.preview
    assert preview is not None
    assert preview.counts["link_exact"] == 1
    assert preview.counts["link_fuzzy"] > 250
    assert preview.counts["create"] == 3
    assert {s["label"] for s in preview.samples["create"]} == {
        "Only In The CRM",
        "Nur Im ERP",
        "Solo Werke",
    }
    report = sync(engine)
    assert report.counts["linked_exact"] == preview.counts["link_exact"]
    assert report.counts["linked_fuzzy"] == preview.counts["link_fuzzy"]
    assert report.counts["created"] == preview.counts["create"]
    assert report.counts["review"] == preview.counts["review"]
    assert report.counts["held"] == preview.counts["held"]


def test_a_dry_run_after_the_first_sync_reports_nothing_new(systems: Systems) -> None:
    engine, crm, erp = systems
    _seed(crm, erp)
    sync(engine)
    preview = sync(engine, dry_run=True).preview
    assert preview is not None
    assert preview.counts["create"] == preview.counts["link_fuzzy"] == 0


def _cli_config(tmp_path: Path) -> Path:
    """A config whose memory systems are seeded from the file, for the CLI."""
    path = write_config(tmp_path)
    config = yaml.safe_load(path.read_text())
    config["systems"]["crm"]["options"]["records"] = {
        "Account": [
            {"Name": "Acme GmbH", "Phone": "+49 89 1234567", "BillingCity": "München"},
            {"Name": "Zeta Werke", "Phone": "+49 40 7654321", "BillingCity": "Hamburg"},
        ]
    }
    config["systems"]["erp"]["options"]["records"] = {
        "customers": [{"name": "ACME", "phone": "089/1234567", "city": "Munchen"}]
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_cli_dry_run_json(tmp_path: Path) -> None:
    config = _cli_config(tmp_path)
    result = CliRunner().invoke(app, ["sync", "-c", str(config), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    (flow,) = json.loads(result.output)["flows"]
    assert flow["dry_run"] is True
    counts = flow["preview"]["counts"]
    assert (counts["link_fuzzy"], counts["create"]) == (1, 1)
    assert flow["preview"]["samples"]["create"][0]["label"] == "Zeta Werke"


def test_cli_dry_run_table(tmp_path: Path) -> None:
    config = _cli_config(tmp_path)
    result = CliRunner().invoke(app, ["sync", "-c", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "nothing was written" in result.output
    assert "link (fuzzy score)" in result.output
    assert "Acme GmbH" in result.output
