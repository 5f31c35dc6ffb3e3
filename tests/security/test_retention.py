"""Retention: audit values and dead-letter payloads older than the configured days are
purged by `isthmus purge` and by the scheduler of `isthmus run`; newer ones stay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isthmus.cli.main import app
from isthmus.engine.config import RetentionConfig, load_config
from isthmus.engine.engine import Engine
from isthmus.engine.scheduler import Scheduler
from isthmus.security.retention import purge
from isthmus.store import AuditEvent, DeadLetter, Store, open_store
from tests.security.test_forget import demo  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=2)


def _fill(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.add_audit(
            [
                AuditEvent("f", "customer", "update", "c1", "crm", "1", "phone", "+1", "+2", at=at)
                for at in (OLD, RECENT)
            ]
        )
        for native_id, status, at in (
            ("1", "open", OLD),
            ("2", "resolved", OLD),
            ("3", "open", RECENT),
        ):
            uow.put_dead_letter(
                DeadLetter(
                    "f",
                    "customer",
                    "crm",
                    native_id,
                    "validation",
                    "refused",
                    vendor_message="said +1",
                    payload={"Phone": "+1"},
                    status=status,  # type: ignore[arg-type]
                    first_at=at,
                    last_at=at,
                )
            )


def test_purge_drops_old_values_and_keeps_the_trail(store_url: str) -> None:
    store = open_store(store_url)
    try:
        _fill(store)
        counts = purge(store, RetentionConfig(audit_payload_days=30, dead_letter_days=30), now=NOW)
        assert counts == {"audit_payloads": 1, "dead_letters_deleted": 1, "dead_letter_payloads": 1}
        events = {e.at: e for e in store.audit_events(flow="f")}
        assert (events[OLD].old_value, events[OLD].new_value) == (None, None)
        assert events[OLD].field == "phone", "what was done, and to which field, stays"
        assert (events[RECENT].old_value, events[RECENT].new_value) == ("+1", "+2")
        letters = {letter.native_id: letter for letter in store.dead_letters(status=None)}
        assert set(letters) == {"1", "3"}, "the old closed letter is gone"
        assert letters["1"].payload == {}
        assert letters["1"].message == "refused", "an open letter keeps its reason"
        assert letters["3"].payload == {"Phone": "+1"}
        (audited,) = store.audit_events(action="purge")
        assert audited.message is not None
        assert "1 audit payloads" in audited.message
        # A second purge finds nothing more, and says so by counting zero.
        again = purge(store, RetentionConfig(audit_payload_days=30, dead_letter_days=30), now=NOW)
        assert set(again.values()) == {0}, again
    finally:
        store.close()


def test_purge_cli_needs_a_period(demo: Path) -> None:  # noqa: F811
    result = CliRunner().invoke(app, ["purge", "-c", str(demo)])
    assert result.exit_code == 2
    assert "no retention period is set" in result.output
    store = open_store(load_config(demo).store_url())
    try:
        _fill(store)
    finally:
        store.close()
    result = CliRunner().invoke(app, ["purge", "-c", str(demo), "--audit-days", "1"])
    assert result.exit_code == 0, result.output
    assert "Purged: 2 audit event(s) lost their values" in result.output


def test_the_scheduler_purges_on_its_own(demo: Path) -> None:  # noqa: F811
    text = demo.read_text() + "retention:\n  audit_payload_days: 1\n  purge_every: 1h\n"
    demo.write_text(text)
    engine = Engine.from_config(load_config(demo))
    _fill(engine.store)
    scheduler = Scheduler(engine)
    assert scheduler.purge_due is not None

    asyncio.run(scheduler.tick(NOW + timedelta(days=1)))

    assert [e.new_value for e in engine.store.audit_events(flow="f")] == [None, None]
    assert scheduler.purge_due == NOW + timedelta(days=1, hours=1)
    asyncio.run(engine.close())


def test_retention_days_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        RetentionConfig(audit_payload_days=0)
