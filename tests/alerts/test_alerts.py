"""Alerts fire to a real webhook receiver and a real SMTP server after a scheduled run,
once per condition, and re-arm when the condition clears."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from isthmus.alerts.monitor import AlertMonitor
from isthmus.alerts.rules import evaluate
from isthmus.engine.config import AlertRulesConfig
from isthmus.engine.engine import Engine
from isthmus.engine.scheduler import Scheduler
from isthmus.queue import WorkItem
from isthmus.testing import MemoryConnector
from tests.alerts.receivers import smtp_server, webhook_receiver
from tests.engine.memoryfixtures import open_engine, write_config

QUIET: dict[str, Any] = {
    "failure_rate": None,
    "success_drop": None,
    "latency_factor": None,
    "budget_below": None,
    "drift_above": None,
}


def _engine(tmp_path: Path, alerts: dict[str, Any]) -> tuple[Engine, MemoryConnector]:
    config = write_config(tmp_path)
    document = yaml.safe_load(config.read_text())
    document["alerts"] = alerts
    config.write_text(yaml.safe_dump(document))
    engine, crm, _ = open_engine(config)
    return engine, crm


async def _scheduled_run(scheduler: Scheduler) -> None:
    await scheduler.queue.put(WorkItem("customers", "run", trigger="schedule"))
    await scheduler.work_once()


def test_a_dead_letter_alert_reaches_the_webhook_and_the_mailbox_once(tmp_path: Path) -> None:
    with webhook_receiver() as (url, posted), smtp_server() as (port, mails):
        engine, crm = _engine(
            tmp_path,
            {
                "dashboard_url": "https://isthmus.example:8642",
                "rules": {**QUIET, "dead_letters_new": 1},
                "webhooks": [{"url": url}],
                "email": {
                    "host": "127.0.0.1",
                    "port": port,
                    "sender": "isthmus@example.com",
                    "to": ["ops@example.com"],
                },
            },
        )
        alerts = engine.loaded.config.alerts
        assert alerts is not None
        scheduler = Scheduler(engine)
        monitor = AlertMonitor(engine, alerts)
        scheduler.after_run.append(monitor.after_run)
        bad = crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})  # ERP holds 50

        asyncio.run(_scheduled_run(scheduler))
        assert [body["text"] for body in posted] == [
            ":rotating_light: Isthmus alert: 1 new dead letter in customers in the last 1 h "
            "(1 open in all). See https://isthmus.example:8642/dashboard/dead-letters?flow=customers"
        ]
        (mail,) = mails
        assert mail["Subject"] == "[Isthmus alert] dead_letter_growth on customers"
        assert mail["To"] == "ops@example.com"
        assert "/dashboard/dead-letters?flow=customers" in mail.get_payload(decode=True).decode()

        asyncio.run(_scheduled_run(scheduler))  # still true: nothing new is sent
        assert len(posted) == 1
        assert len(mails) == 1

        crm.put("Account", {"Name": "Bold"}, bad)
        (letter,) = engine.store.dead_letters(flow="customers")
        assert letter.id is not None
        asyncio.run(engine.replay([letter.id]))
        asyncio.run(_scheduled_run(scheduler))
        assert posted[-1]["text"].startswith(":white_check_mark: Isthmus resolved")
        assert mails[-1]["Subject"] == "[Isthmus resolved] dead_letter_growth on customers"

        crm.put("Account", {"Name": "C" * 60, "AccountNumber": "C-3"})  # re-armed: fires again
        asyncio.run(_scheduled_run(scheduler))
        assert posted[-1]["text"].startswith(":rotating_light:")
        assert len(posted) == 3


def _runs(engine: Engine, statuses: list[str]) -> None:
    for status in statuses:
        run = engine.store.start_run("customers", "schedule")
        engine.store.finish_run(run.id, status, {"created": 1})  # type: ignore[arg-type]


def test_failure_rate_and_success_drop_compare_recent_runs(tmp_path: Path) -> None:
    engine, _ = _engine(tmp_path, {"rules": QUIET})
    rules = AlertRulesConfig(window=4, min_runs=3, failure_rate=0.5, success_drop=0.4)
    _runs(engine, ["succeeded"] * 4)
    assert evaluate(engine, rules) == []
    _runs(engine, ["succeeded", "failed", "failed", "succeeded"])  # newest last
    found = {(a.rule, a.subject): a for a in evaluate(engine, rules)}
    assert set(found) == {("failure_rate", "customers"), ("success_drop", "customers")}
    assert found[("failure_rate", "customers")].page == "/dashboard/flows/customers"
    assert "fell to 50%" in found[("success_drop", "customers")].text


def test_drift_in_the_latest_reconciliation_alerts(tmp_path: Path) -> None:
    engine, crm = _engine(tmp_path, {"rules": QUIET})
    rules = AlertRulesConfig(**{**QUIET, "drift_above": 0})
    crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1", "Phone": "1"})
    asyncio.run(engine.sync(["customers"]))
    asyncio.run(engine.reconcile(["customers"]))
    assert evaluate(engine, rules) == []
    erp = engine.connectors["erp"]
    assert isinstance(erp, MemoryConnector)
    erp.put("customers", {"phone": "9"}, next(iter(erp.records("customers"))))
    asyncio.run(engine.reconcile(["customers"]))
    (alert,) = evaluate(engine, rules)
    assert (alert.rule, alert.page) == ("reconcile_drift", "/dashboard/reconcile")
    assert "1 mismatch" in alert.text


def test_an_unreachable_webhook_is_logged_not_raised(tmp_path: Path) -> None:
    engine, crm = _engine(
        tmp_path,
        {"rules": {**QUIET, "dead_letters_new": 1}, "webhooks": [{"url": "http://127.0.0.1:9/x"}]},
    )
    alerts = engine.loaded.config.alerts
    assert alerts is not None
    crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})
    asyncio.run(engine.sync(["customers"]))
    (notice,) = asyncio.run(AlertMonitor(engine, alerts).check())
    assert notice.alert.rule == "dead_letter_growth"


@pytest.mark.parametrize("bad", [{"rules": {"failure_rate": 2}}, {"webhooks": [{"url": "x"}]}])
def test_bad_alert_config_is_refused(tmp_path: Path, bad: dict[str, Any]) -> None:
    from isthmus.errors import ConfigError

    with pytest.raises(ConfigError):
        _engine(tmp_path, bad)


def test_a_run_far_slower_than_usual_is_a_latency_spike(tmp_path: Path) -> None:
    from sqlalchemy import update

    from isthmus.store import SqlStore
    from isthmus.store import tables as t

    engine, _ = _engine(tmp_path, {"rules": QUIET})
    rules = AlertRulesConfig(**{**QUIET, "latency_factor": 3.0, "latency_min_seconds": 5})
    _runs(engine, ["succeeded"] * 4)
    assert evaluate(engine, rules) == []
    store = engine.store
    assert isinstance(store, SqlStore)
    (newest,) = store.runs("customers", 1)
    assert newest.started_at is not None
    # The newest run finished a minute after it started: 60 s against a usual ~0 s.
    with store.engine.begin() as connection:
        connection.execute(
            update(t.runs)
            .where(t.runs.c.id == newest.id)
            .values(finished_at=newest.started_at + timedelta(seconds=60))
        )
    (alert,) = evaluate(engine, rules)
    assert (alert.rule, alert.subject) == ("latency_spike", "customers")
    assert "took 60.0 s" in alert.text


def test_a_spent_api_budget_alerts_with_the_system(tmp_path: Path) -> None:
    engine, crm = _engine(tmp_path, {"rules": QUIET})
    rules = AlertRulesConfig(**{**QUIET, "budget_below": 0.1})
    # A connector that tracks its vendor's quota offers api_budget() (systems_budget.py).
    crm.api_budget = lambda: {"remaining": 50, "limit": 1000}  # type: ignore[attr-defined]
    (alert,) = evaluate(engine, rules)
    assert (alert.rule, alert.subject, alert.page) == ("budget", "crm", "/dashboard#systems")
    crm.api_budget = lambda: {"remaining": 500, "limit": 1000}  # type: ignore[attr-defined]
    assert evaluate(engine, rules) == []
