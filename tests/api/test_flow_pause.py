"""A flow paused through the API stays paused for a new engine on the same store, and
scheduled runs of it are skipped until it is enabled."""

from __future__ import annotations

import asyncio

from isthmus.engine.engine import Engine
from tests.api.conftest import Api


def _reopened(api: Api) -> Engine:
    engine = Engine(api.engine.loaded, api.engine.store, api.engine.connectors, api.engine.mappers)
    return engine


def test_a_pause_survives_a_restart_and_the_scheduler_honours_it(api: Api) -> None:
    answer = api.client.post("/flows/customers/pause", headers=api.auth("admin"))
    assert answer.status_code == 200, answer.text
    restarted = _reopened(api)
    assert restarted.paused == {"customers"}

    api.crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1"})
    (report,) = asyncio.run(restarted.sync(["customers"], trigger="schedule"))
    assert report.status == "skipped"
    assert not api.erp.records("customers")
    flows = api.client.get("/flows", headers=api.auth("viewer")).json()
    assert next(f for f in flows if f["name"] == "customers")["paused"] is True

    assert api.client.post("/flows/customers/enable", headers=api.auth("admin")).status_code == 200
    again = _reopened(api)
    assert again.paused == set()
    (report,) = asyncio.run(again.sync(["customers"], trigger="schedule"))
    assert report.status == "succeeded"
    assert len(api.erp.records("customers")) == 1
