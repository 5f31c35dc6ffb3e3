"""The store suite, run on both backends: transactions, cursors, bases, pending writes,
runs, audit, dead letters, review items, counters, datetimes and JSON fidelity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.runtime.migration import MigrationContext

from isthmus.model.flat import Flat
from isthmus.store import (
    AuditEvent,
    DeadLetter,
    PendingWrite,
    ReviewItem,
    SqlStore,
    Xref,
)
from isthmus.store.sql_migrate import head_revisions

HOSTILE = [
    "Robert'); DROP TABLE xrefs;--",
    '"quoted" \\backslash\\ \\u0000-not-a-nul $1 %s %(name)s ?',
    "ünïcødé 🚀 עברית 中文 \u200b zero-width \ufeff bom",
    "line\nbreak\ttab\r\n",
    "<script>alert(1)</script>",
    "x" * 10_000,
]
DECIMALS = ["12.50", "0.1", "-0", "1E+3", "123456789012345678901234567890.000000001"]


def test_migrate_is_idempotent_and_at_head(store: SqlStore) -> None:
    store.migrate()
    store.migrate()
    with store.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert set(current) == set(head_revisions()) == {"0005"}
    assert store.count_xrefs("customer", "crm") == 0


def test_a_failed_unit_of_work_leaves_nothing(store: SqlStore) -> None:
    letter = DeadLetter("f", "customer", "crm", "A1", "validation", "bad")
    with pytest.raises(RuntimeError, match="crash"), store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        uow.set_base("c1", "customer", {"name": "Acme"})
        uow.set_cursor("f", "crm", "Account", {"ts": "x"})
        uow.add_pending_write(PendingWrite("k", "f", "customer", "c1", "erp", "C", "crm", "A1"))
        uow.put_dead_letter(letter)
        uow.add_audit([AuditEvent("f", "customer", "create", canonical_id="c1")])
        uow.bump_counter("created", "f")
        raise RuntimeError("crash between writes")
    assert store.count_xrefs("customer", "crm") == 0
    assert store.bases(["c1"]) == {}
    assert store.cursor("f", "crm", "Account") is None
    assert store.pending_writes() == []
    assert store.dead_letters() == []
    assert store.audit_events() == []
    assert store.counters() == {}


def test_cursor_round_trip_and_replace(store: SqlStore) -> None:
    assert store.cursor("f", "crm", "Account") is None
    first = {"ts": "2026-01-01T00:00:00Z", "ids": ["a", "b"], "page": {"n": 7}, "done": False}
    with store.unit_of_work() as uow:
        uow.set_cursor("f", "crm", "Account", first)
        uow.set_cursor("f", "crm", "Contact", {"ts": "other"})
    assert store.cursor("f", "crm", "Account") == first
    with store.unit_of_work() as uow:
        uow.set_cursor("f", "crm", "Account", {"ts": "2026-02-01T00:00:00Z"})
    assert store.cursor("f", "crm", "Account") == {"ts": "2026-02-01T00:00:00Z"}
    assert store.cursor("f", "crm", "Contact") == {"ts": "other"}
    assert store.cursor("g", "crm", "Account") is None


def test_base_version_bumps_on_every_replace(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.set_base("c1", "customer", {"name": "A"})
    first = store.bases(["c1"])["c1"]
    assert (first.version, first.fields, first.entity) == (1, {"name": "A"}, "customer")
    with store.unit_of_work() as uow:
        uow.set_base("c1", "customer", {"name": "B"})
        uow.set_base("c1", "customer", {"name": "C", "city": None})
        uow.set_base("c2", "customer", {})
    bases = store.bases(["c1", "c2", "missing"])
    assert set(bases) == {"c1", "c2"}
    assert (bases["c1"].version, bases["c1"].fields) == (3, {"name": "C", "city": None})
    assert bases["c2"].fields == {}
    assert first.updated_at is not None
    assert bases["c1"].updated_at is not None
    assert bases["c1"].updated_at >= first.updated_at
    with store.unit_of_work() as uow:
        uow.delete_base("c1")
    assert set(store.bases(["c1", "c2"])) == {"c2"}


def test_pending_writes_are_kept_until_removed(store: SqlStore) -> None:
    first = PendingWrite("c1@erp", "f", "customer", "c1", "erp", "customers", "crm", "A1")
    other = PendingWrite("c2@erp", "g", "customer", "c2", "erp", "customers", "crm", "A2")
    with store.unit_of_work() as uow:
        uow.add_pending_write(first)
        uow.add_pending_write(other)
        uow.add_pending_write(first)  # a retried create re-announces itself
    assert [p.key for p in store.pending_writes()] == ["c1@erp", "c2@erp"]
    (kept,) = store.pending_writes("f")
    assert kept.source_id == "A1"
    assert kept.created_at is not None
    assert kept.created_at.tzinfo is not None
    # Scoped to some source records: those a re-sync is about to handle, nothing else.
    assert [p.key for p in store.pending_writes(source=("crm", ["A2", "A9"]))] == ["c2@erp"]
    assert store.pending_writes("f", source=("crm", ["A2"])) == []
    assert store.pending_writes(source=("erp", ["A1"])) == []
    with store.unit_of_work() as uow:
        uow.remove_pending_write("c1@erp")
        uow.remove_pending_write("never-there")
    assert [p.key for p in store.pending_writes()] == ["c2@erp"]


def test_runs_lifecycle_newest_first(store: SqlStore) -> None:
    first = store.start_run("f", "schedule")
    second = store.start_run("g", "manual")
    third = store.start_run("f", "webhook")
    assert first.status == "running"
    assert first.started_at is not None
    finished = store.finish_run(first.id, "partial", {"read": 3, "failed": 1}, "one dead letter")
    assert finished.status == "partial"
    assert finished.counts == {"read": 3, "failed": 1}
    assert finished.message == "one dead letter"
    assert finished.finished_at is not None
    assert finished.finished_at >= first.started_at
    assert [run.id for run in store.runs()] == [third.id, second.id, first.id]
    assert [run.id for run in store.runs("f")] == [third.id, first.id]
    assert [run.id for run in store.runs(limit=1)] == [third.id]
    assert store.runs("f")[1] == finished
    with pytest.raises(KeyError, match="no run"):
        store.finish_run("nope", "failed", {})


def _event(**changes: object) -> AuditEvent:
    values: dict[str, object] = {"flow": "f", "entity": "customer", "action": "update"}
    values.update(changes)
    return AuditEvent(**values)  # type: ignore[arg-type]


def test_audit_filters_and_newest_first(store: SqlStore) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        _event(canonical_id="c1", field="name", old_value="a", new_value="b", at=start),
        _event(canonical_id="c1", field="phone", system="crm", native_id="A1"),
        _event(canonical_id="c2", field="name", flow="g", action="create", run_id="r1"),
        _event(canonical_id="c2", action="conflict", base_value={"x": 1}, other_value=[1]),
    ]
    with store.unit_of_work() as uow:
        uow.add_audit(events[:2])
        uow.add_audit(iter(events[2:]))
    everything = store.audit_events()
    assert [(e.canonical_id, e.action) for e in everything] == [
        ("c2", "conflict"),
        ("c2", "create"),
        ("c1", "update"),
        ("c1", "update"),
    ]
    assert everything[-1].at == start
    assert everything[-1].id is not None
    assert all(e.at is not None and e.at.tzinfo is not None for e in everything)
    assert [e.field for e in store.audit_events(canonical_id="c1")] == ["phone", "name"]
    assert [e.canonical_id for e in store.audit_events(field="name")] == ["c2", "c1"]
    assert [e.flow for e in store.audit_events(flow="g")] == ["g"]
    assert [e.field for e in store.audit_events(system="crm", native_id="A1")] == ["phone"]
    assert store.audit_events(native_id="A2") == []
    assert [e.action for e in store.audit_events(action="conflict")] == ["conflict"]
    assert len(store.audit_events(since=start + timedelta(seconds=1))) == 3
    assert len(store.audit_events(limit=2)) == 2
    conflict = store.audit_events(action="conflict")[0]
    assert (conflict.base_value, conflict.other_value) == ({"x": 1}, [1])
    assert store.audit_events(field="name", flow="f")[0].new_value == "b"


def test_buffered_audit_keeps_the_values_it_was_given(store: SqlStore) -> None:
    value = {"street": "1 Main St"}
    with store.unit_of_work() as uow:
        uow.add_audit([_event(canonical_id="c1", new_value=value)])
        value["street"] = "changed before commit"
    assert store.audit_events()[0].new_value == {"street": "1 Main St"}


def test_dead_letter_upsert_bumps_attempts(store: SqlStore) -> None:
    letter = DeadLetter(
        "f", "customer", "crm", "A1", "validation", "bad terms", field="terms", payload={"a": 1}
    )
    with store.unit_of_work() as uow:
        first = uow.put_dead_letter(letter)
        other = uow.put_dead_letter(DeadLetter("f", "customer", "crm", "A2", "business", "hold"))
    with store.unit_of_work() as uow:
        again = uow.put_dead_letter(
            DeadLetter("f", "customer", "crm", "A1", "business", "credit hold", payload={"b": 2})
        )
    assert first == again != other
    kept = store.dead_letter(first)
    assert kept is not None
    assert (kept.attempts, kept.kind, kept.message) == (2, "business", "credit hold")
    assert kept.payload == {"b": 2}
    assert kept.field is None
    assert kept.first_at is not None
    assert kept.last_at is not None
    assert kept.last_at > kept.first_at
    assert store.dead_letter(9999) is None
    with store.unit_of_work() as uow:
        assert uow.set_dead_letter_status("f", "crm", "A1", "resolved") == 1
        assert uow.set_dead_letter_status("f", "crm", "A1", "resolved") == 0
    assert [d.native_id for d in store.dead_letters(flow="f", status="open")] == ["A2"]
    assert [d.status for d in store.dead_letters(flow="f")] == ["resolved", "open"]
    with store.unit_of_work() as uow:
        # A new failure after the letter was resolved is a new letter.
        fresh = uow.put_dead_letter(letter)
    assert fresh not in (first, other)
    assert store.dead_letters(status="resolved")[0].id == first
    assert len(store.dead_letters(limit=1)) == 1


def test_waiting_letter_is_the_same_letter(store: SqlStore) -> None:
    waiting = DeadLetter("f", "contact", "crm", "C1", "parent", "account not linked")
    with store.unit_of_work() as uow:
        first = uow.put_dead_letter(DeadLetter(**{**waiting.__dict__, "status": "waiting"}))
        again = uow.put_dead_letter(waiting)
    assert first == again
    (letter,) = store.dead_letters(flow="f")
    assert (letter.status, letter.attempts) == ("open", 2)
    with store.unit_of_work() as uow:
        assert uow.set_dead_letter_status("f", "crm", "C1", "discarded") == 1
    assert store.dead_letters(status="discarded")[0].id == first


def test_review_item_upsert_and_resolve(store: SqlStore) -> None:
    item = ReviewItem("f", "customer", "conflict", "c1:phone", {"crm": "1"}, "c1")
    with store.unit_of_work() as uow:
        first = uow.put_review_item(item)
        same = uow.put_review_item(ReviewItem(**{**item.__dict__, "details": {"crm": "2"}}))
        duplicate = uow.put_review_item(ReviewItem("f", "customer", "duplicate", "c1:phone", {}))
    assert first == same != duplicate
    refreshed = store.review_item(first)
    assert refreshed is not None
    assert refreshed.details == {"crm": "2"}
    assert refreshed.created_at is not None
    assert refreshed.created_at.tzinfo is not None
    with store.unit_of_work() as uow:
        uow.resolve_review_item(first, "resolved", {"value": "2", "winner": "crm"}, "ana")
    resolved = store.review_item(first)
    assert resolved is not None
    assert (resolved.status, resolved.resolved_by) == ("resolved", "ana")
    assert resolved.resolution == {"value": "2", "winner": "crm"}
    assert resolved.resolved_at is not None
    assert [i.id for i in store.review_items(flow="f")] == [duplicate]
    assert [i.id for i in store.review_items(status="resolved")] == [first]
    assert len(store.review_items(status=None)) == 2
    with store.unit_of_work() as uow:
        reopened = uow.put_review_item(item)
    assert reopened not in (first, duplicate)
    assert store.review_item(424242) is None


def test_counters_add_up_across_units_of_work(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.bump_counter("duplicates_prevented", "f")
        uow.bump_counter("duplicates_prevented", "f", 2)
        uow.bump_counter("writes", "erp", 10)
    with store.unit_of_work() as uow:
        uow.bump_counter("writes", "erp", -3)
        uow.bump_counter("writes", "crm", 2**40)
    assert store.counters("duplicates_prevented") == {("duplicates_prevented", "f"): 3}
    assert store.counters() == {
        ("duplicates_prevented", "f"): 3,
        ("writes", "crm"): 2**40,
        ("writes", "erp"): 7,
    }
    assert store.counters("nothing") == {}


def test_datetimes_come_back_aware_utc(store: SqlStore) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=paris)
    naive = datetime(2026, 6, 1, 12, 0, 0)  # taken as UTC
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1", seen_at=local))
        uow.add_xref(Xref("c2", "customer", "crm", "A2"))
        uow.touch_xref("customer", "crm", "A2", "h", seen_at=naive)
        uow.add_audit([_event(at=local)])
    links = store.xrefs_by_native("customer", "crm", ["A1", "A2"])
    assert links["A1"].seen_at == local
    assert links["A1"].seen_at is not None
    assert links["A1"].seen_at.utcoffset() == timedelta(0)
    assert links["A2"].seen_at == naive.replace(tzinfo=UTC)
    (event,) = store.audit_events()
    assert event.at == local
    assert event.at is not None
    assert event.at.tzinfo == UTC
    assert len(store.audit_events(since=local.replace(tzinfo=None))) == 0  # naive = UTC
    assert len(store.audit_events(since=local - timedelta(microseconds=1))) == 1


def test_json_values_round_trip_exactly(store: SqlStore) -> None:
    fields: Flat = {f"text.{i}": value for i, value in enumerate(HOSTILE)}
    fields.update({f"amount.{i}": value for i, value in enumerate(DECIMALS)})
    fields.update(
        {
            "nested": {"ü": ["a", 1, None, True, {"deep": "🚀"}]},
            "big": 2**62,
            "negative": -(2**53) - 1,
            "empty": "",
            "none": None,
            "key with 'quotes' and \"more\"": "v",
        }
    )
    with store.unit_of_work() as uow:
        uow.set_base("c1", "customer", fields)
        uow.set_cursor("f", HOSTILE[0], HOSTILE[2], {"ts": HOSTILE[1]})
        uow.add_audit([_event(field=HOSTILE[2], old_value=DECIMALS[0], new_value=fields)])
        uow.add_xref(Xref("c1", "customer", "crm", HOSTILE[2][:200]))
    assert store.bases(["c1"])["c1"].fields == fields
    assert store.cursor("f", HOSTILE[0], HOSTILE[2]) == {"ts": HOSTILE[1]}
    (event,) = store.audit_events(field=HOSTILE[2])
    assert (event.old_value, event.new_value) == (DECIMALS[0], fields)
    assert store.xrefs_by_native("customer", "crm", [HOSTILE[2][:200]])
