"""One store suite, run on both backends: a SQLite file and the machine's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from isthmus.store import (
    AuditEvent,
    DeadLetter,
    LinkConflictError,
    PendingWrite,
    ReviewItem,
    Store,
    Xref,
    open_store,
)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path}/state.db")
        yield opened
        opened.close()
        return
    name = f"isthmus_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {error}")
    opened = open_store(f"postgresql://postgres@127.0.0.1:5432/{name}")
    yield opened
    opened.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrate_is_idempotent(store: Store) -> None:
    store.migrate()
    store.migrate()
    assert store.count_xrefs("customer", "crm") == 0


def test_links_are_unique_both_ways_and_reinsert_is_a_no_op(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        uow.add_xref(Xref("c1", "customer", "erp", "10"))
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
    with (
        pytest.raises(LinkConflictError, match="already linked to c1"),
        store.unit_of_work() as uow,
    ):
        uow.add_xref(Xref("c2", "customer", "crm", "A1"))
    with (
        pytest.raises(LinkConflictError, match="already linked to erp record '10'"),
        store.unit_of_work() as uow,
    ):
        uow.add_xref(Xref("c1", "customer", "erp", "11"))
    assert set(store.xrefs_by_canonical("customer", ["c1"])["c1"]) == {"crm", "erp"}
    assert store.xrefs_by_native("customer", "crm", ["A1", "nope"])["A1"].canonical_id == "c1"


def test_a_failed_unit_of_work_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        uow.set_cursor("f", "crm", "Account", {"ts": "x"})
        raise RuntimeError("crash between writes")
    assert store.count_xrefs("customer", "crm") == 0
    assert store.cursor("f", "crm", "Account") is None


def test_bases_cursors_hashes_and_pending_writes(store: Store) -> None:
    hostile = "Robert'); DROP TABLE x;-- <b>ünï</b> 🚀 עברית " + "x" * 5000
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        uow.touch_xref("customer", "crm", "A1", "hash1")
        uow.set_base("c1", "customer", {"name": hostile, "credit_limit.amount": "12.5"})
        uow.set_base("c1", "customer", {"name": hostile, "credit_limit.amount": "13"})
        uow.set_cursor("f", "crm", "Account", {"ts": "2026-01-01T00:00:00+00:00", "id": 7})
        uow.add_pending_write(
            PendingWrite("c1@erp", "f", "customer", "c1", "erp", "customers", "crm", "A1")
        )
    base = store.bases(["c1"])["c1"]
    assert base.fields == {"name": hostile, "credit_limit.amount": "13"}
    assert base.version == 2
    assert base.updated_at is not None
    assert base.updated_at.tzinfo is not None
    assert store.xrefs_by_native("customer", "crm", ["A1"])["A1"].content_hash == "hash1"
    assert store.cursor("f", "crm", "Account") == {"ts": "2026-01-01T00:00:00+00:00", "id": 7}
    assert [p.key for p in store.pending_writes("f")] == ["c1@erp"]
    with store.unit_of_work() as uow:
        uow.remove_pending_write("c1@erp")
    assert store.pending_writes() == []


def test_runs_audit_dead_letters_review_and_counters(store: Store) -> None:
    run = store.start_run("f", "manual")
    finished = store.finish_run(run.id, "partial", {"read": 3}, "one dead letter")
    assert finished.status == "partial"
    assert store.runs("f")[0].counts == {"read": 3}
    letter = DeadLetter("f", "customer", "crm", "A1", "validation", "bad terms", field="terms")
    with store.unit_of_work() as uow:
        first = uow.put_dead_letter(letter)
        again = uow.put_dead_letter(letter)
        uow.add_audit(
            [
                AuditEvent(
                    "f",
                    "customer",
                    "update",
                    canonical_id="c1",
                    field="name",
                    old_value="a",
                    new_value="b",
                ),
                AuditEvent("f", "customer", "conflict", canonical_id="c1", field="phone"),
            ]
        )
        item = ReviewItem("f", "customer", "conflict", "c1:phone", {"field": "phone"}, "c1")
        review_id = uow.put_review_item(item)
        assert uow.put_review_item(item) == review_id
        uow.bump_counter("duplicates_prevented", "f")
        uow.bump_counter("duplicates_prevented", "f", 2)
    assert first == again
    assert store.dead_letter(first).attempts == 2  # type: ignore[union-attr]
    assert [e.field for e in store.audit_events(canonical_id="c1")] == ["phone", "name"]
    assert store.audit_events(field="name")[0].new_value == "b"
    with store.unit_of_work() as uow:
        assert uow.set_dead_letter_status("f", "crm", "A1", "resolved") == 1
        uow.resolve_review_item(review_id, "resolved", {"value": "1"}, "tester")
    assert store.dead_letters(flow="f", status="open") == []
    assert store.review_items(flow="f") == []
    assert store.review_item(review_id).resolved_by == "tester"  # type: ignore[union-attr]
    assert store.counters("duplicates_prevented") == {("duplicates_prevented", "f"): 3}
