"""Links (xrefs) on both backends: uniqueness both ways, idempotent re-insert, conflicts
that leave the transaction usable, paging, and a property test of the invariant
"one native record never gets two canonical ids"."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isthmus.store import LinkConflictError, SqlStore, Xref, open_store


def test_links_are_unique_both_ways_and_reinsert_is_a_no_op(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1", content_hash="h1"))
        uow.add_xref(Xref("c1", "customer", "erp", "10"))
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))  # identical pairing: no-op
    with (
        pytest.raises(LinkConflictError, match=r"customer 'A1' of crm is already linked to .* c1"),
        store.unit_of_work() as uow,
    ):
        uow.add_xref(Xref("c2", "customer", "crm", "A1"))
    with (
        pytest.raises(LinkConflictError, match=r"c1 is already linked to erp customer '10'"),
        store.unit_of_work() as uow,
    ):
        uow.add_xref(Xref("c1", "customer", "erp", "11"))
    assert set(store.xrefs_by_canonical("customer", ["c1"])["c1"]) == {"crm", "erp"}
    linked = store.xrefs_by_native("customer", "crm", ["A1", "nope"])
    assert list(linked) == ["A1"]
    assert linked["A1"] == Xref("c1", "customer", "crm", "A1", content_hash="h1")
    assert store.xrefs_by_native("customer", "erp", ["11"]) == {}


def test_a_conflict_leaves_the_unit_of_work_usable(store: SqlStore) -> None:
    # On PostgreSQL a failed statement would abort the whole transaction; the engine
    # catches LinkConflictError and carries on, so the block must still commit.
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        with pytest.raises(LinkConflictError):
            uow.add_xref(Xref("c2", "customer", "crm", "A1"))
        uow.add_xref(Xref("c2", "customer", "crm", "A2"))
        uow.set_cursor("f", "crm", "Account", {"page": 2})
    assert store.count_xrefs("customer", "crm") == 2
    assert store.cursor("f", "crm", "Account") == {"page": 2}


def test_entities_and_systems_are_separate_namespaces(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "1"))
        uow.add_xref(Xref("k1", "contact", "crm", "1"))
        uow.add_xref(Xref("c1", "customer", "erp", "1"))
    assert store.count_xrefs("customer", "crm") == 1
    assert store.count_xrefs("contact", "crm") == 1
    assert store.xrefs_by_native("contact", "crm", ["1"])["1"].canonical_id == "k1"
    assert store.xrefs_by_canonical("contact", ["c1"]) == {}


def test_unlink_then_relink_and_touch(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        uow.touch_xref("customer", "crm", "A1", "hash-1")
        uow.touch_xref("customer", "crm", "unknown", "ignored")
    touched = store.xrefs_by_native("customer", "crm", ["A1"])["A1"]
    assert touched.content_hash == "hash-1"
    assert touched.seen_at is not None
    with store.unit_of_work() as uow:
        uow.remove_xref("customer", "crm", "A1")
        uow.add_xref(Xref("c9", "customer", "crm", "A1"))
        uow.add_xref(Xref("c1", "customer", "crm", "B7"))
        uow.touch_xref("customer", "crm", "B7", None)
    after = store.xrefs_by_native("customer", "crm", ["A1", "B7"])
    assert (after["A1"].canonical_id, after["B7"].canonical_id) == ("c9", "c1")
    assert after["B7"].content_hash is None


def test_iter_xrefs_pages_and_lookups_chunk(store: SqlStore) -> None:
    ids = [f"N{i:05d}" for i in range(2100)]
    with store.unit_of_work() as uow:
        for native_id in ids:
            uow.add_xref(Xref(f"c-{native_id}", "customer", "crm", native_id))
    assert store.count_xrefs("customer", "crm") == 2100
    assert [x.native_id for x in store.iter_xrefs("customer", "crm", batch=700)] == ids
    assert len(list(store.iter_xrefs("customer", "crm", batch=1000))) == 2100
    assert list(store.iter_xrefs("customer", "erp")) == []
    found = store.xrefs_by_native("customer", "crm", [*ids, *ids[:5], "missing"])
    assert len(found) == 2100
    by_canonical = store.xrefs_by_canonical("customer", [f"c-{i}" for i in ids])
    assert len(by_canonical) == 2100


_native = st.sampled_from(["A", "B", "C", "D"])
_canonical = st.sampled_from(["c1", "c2", "c3"])
_system = st.sampled_from(["crm", "erp"])
_operations = st.lists(
    st.tuples(st.sampled_from(["add", "add", "add", "remove"]), _canonical, _system, _native),
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=_operations, commit_every=st.integers(min_value=1, max_value=6))
def test_no_native_record_ever_gets_two_canonical_ids(
    store: SqlStore, operations: list[tuple[str, str, str, str]], commit_every: int
) -> None:
    # A fresh namespace per example: canonical ids are unique across entities too.
    entity = f"e{uuid.uuid4().hex[:10]}"
    operations = [(kind, f"{entity}-{c}", s, n) for kind, c, s, n in operations]
    model: dict[tuple[str, str], str] = {}  # (system, native id) -> canonical id
    for start in range(0, len(operations), commit_every):
        with store.unit_of_work() as uow:
            for kind, canonical_id, system, native_id in operations[start : start + commit_every]:
                if kind == "remove":
                    uow.remove_xref(entity, system, native_id)
                    model.pop((system, native_id), None)
                    continue
                holder = model.get((system, native_id))
                taken = any(
                    c == canonical_id and s == system and n != native_id
                    for (s, n), c in model.items()
                )
                expect_conflict = (holder is not None and holder != canonical_id) or taken
                try:
                    uow.add_xref(Xref(canonical_id, entity, system, native_id))
                except LinkConflictError:
                    assert expect_conflict
                else:
                    assert not expect_conflict
                    model[(system, native_id)] = canonical_id
    stored = {
        (x.system, x.native_id): x.canonical_id
        for system in ("crm", "erp")
        for x in store.iter_xrefs(entity, system)
    }
    assert stored == model
    pairs = [(c, s) for (s, _), c in stored.items()]
    assert len(pairs) == len(set(pairs))


def test_two_workers_linking_one_record_cannot_both_win(store_url: str) -> None:
    # The second worker blocks on the first one's lock (SQLite: the write lock; PostgreSQL:
    # the unique index entry), then sees its link and gets a conflict, never a second id.
    first, second = open_store(store_url), open_store(store_url)
    linked, outcome = threading.Event(), []

    def late_worker() -> None:
        linked.wait(10)
        try:
            with second.unit_of_work() as uow:
                uow.add_xref(Xref("c2", "customer", "crm", "A1"))
        except LinkConflictError as error:
            outcome.append(error)

    worker = threading.Thread(target=late_worker)
    worker.start()
    with first.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        linked.set()
        time.sleep(0.2)  # the late worker is now waiting on us
    worker.join(timeout=30)
    assert len(outcome) == 1
    assert "already linked to canonical id c1" in str(outcome[0])
    assert first.xrefs_by_native("customer", "crm", ["A1"])["A1"].canonical_id == "c1"
    first.close()
    second.close()
