"""Bulk and at-commit link writes on both backends: the same uniqueness rules and the
same end state as one call after the other, in a few statements per block."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from isthmus.store import LinkConflictError, SqlStore, Xref, XrefTouch
from isthmus.store.types import DeadLetter, PendingWrite


@pytest.fixture
def statements(store: SqlStore) -> Iterator[list[str]]:
    """The statements the store sends on xrefs from now on."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "xrefs" in statement:
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    yield sent
    event.remove(store.engine, "before_cursor_execute", count)


def test_many_links_take_a_few_statements(store: SqlStore, statements: list[str]) -> None:
    links = [
        Xref(f"c{n}", "product", system, f"{system}-{n}")
        for n in range(300)
        for system in ("src", "dst")
    ]
    with store.unit_of_work() as uow:
        uow.add_xrefs(links)
        uow.touch_xrefs([XrefTouch("product", "src", f"src-{n}", f"h{n}") for n in range(300)])
    # Per system: one insert and two look-ups (one per uniqueness rule); one touch.
    assert len(statements) == 2 * 3 + 1
    assert store.count_xrefs("product", "src") == store.count_xrefs("product", "dst") == 300
    touched = store.xrefs_by_native("product", "src", ["src-7"])["src-7"]
    assert (touched.canonical_id, touched.content_hash) == ("c7", "h7")
    assert touched.seen_at is not None


def test_every_free_link_is_written_then_the_first_conflict_raised(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.add_xrefs([Xref("c1", "customer", "crm", "A1"), Xref("c1", "customer", "erp", "10")])
    with store.unit_of_work() as uow:
        with pytest.raises(LinkConflictError) as raised:
            uow.add_xrefs(
                [
                    Xref("c2", "customer", "crm", "A2"),
                    Xref("c9", "customer", "crm", "A1"),  # A1 is c1's
                    Xref("c1", "customer", "crm", "A1"),  # the same pairing: a no-op
                    Xref("c1", "customer", "erp", "11"),  # c1 has its erp record
                    Xref("c3", "customer", "erp", "12"),
                ]
            )
        # The block is still usable (no failed statement on PostgreSQL).
        uow.set_cursor("f", "crm", "Account", {"page": 1})
    assert "customer 'A1' of crm is already linked to canonical id c1" in str(raised.value)
    assert set(store.xrefs_by_native("customer", "crm", ["A1", "A2"])) == {"A1", "A2"}
    assert store.xrefs_by_native("customer", "crm", ["A1"])["A1"].canonical_id == "c1"
    assert set(store.xrefs_by_native("customer", "erp", ["10", "11", "12"])) == {"10", "12"}
    assert store.cursor("f", "crm", "Account") == {"page": 1}


def test_a_second_claim_on_a_canonical_id_is_a_conflict(store: SqlStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(LinkConflictError, match="c1 is already"):
        # Within one call too: the first claim wins, as one call after the other.
        uow.add_xrefs([Xref("c1", "customer", "erp", "10"), Xref("c1", "customer", "erp", "11")])
    assert set(store.xrefs_by_native("customer", "erp", ["10", "11"])) == {"10"}


def test_touches_set_hashes_and_the_last_one_wins(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.add_xrefs([Xref("c1", "customer", "crm", "A1", content_hash="old")])
        uow.touch_xrefs(
            [
                XrefTouch("customer", "crm", "A1", "h1"),
                XrefTouch("customer", "crm", "A1", "h2"),
                XrefTouch("customer", "crm", "nobody", "ignored"),
            ]
        )
    assert store.xrefs_by_native("customer", "crm", ["A1"])["A1"].content_hash == "h2"
    assert store.count_xrefs("customer", "crm") == 1


def test_links_at_commit_are_written_with_their_hashes(
    store: SqlStore, statements: list[str]
) -> None:
    with store.unit_of_work() as uow:
        for n in range(50):
            uow.add_xref_at_commit(Xref(f"c{n}", "product", "src", f"P{n}"))
            uow.touch_xref_at_commit(XrefTouch("product", "src", f"P{n}", f"h{n}"))
        assert statements == []  # nothing sent before commit
    assert len(statements) == 4  # insert, two look-ups, one touch
    linked = store.xrefs_by_native("product", "src", [f"P{n}" for n in range(50)])
    assert {x.native_id: x.content_hash for x in linked.values()} == {
        f"P{n}": f"h{n}" for n in range(50)
    }
    assert all(x.seen_at is not None for x in linked.values())


def test_a_link_conflict_at_commit_rolls_the_whole_block_back(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
    with pytest.raises(LinkConflictError), store.unit_of_work() as uow:
        uow.add_xref_at_commit(Xref("c2", "customer", "crm", "A2"))
        uow.add_xref_at_commit(Xref("c3", "customer", "crm", "A1"))
        uow.set_base("c2", "customer", {"name": "B"})
        uow.set_cursor("f", "crm", "Account", {"page": 2})
    assert store.count_xrefs("customer", "crm") == 1
    assert store.bases(["c2"]) == {}
    assert store.cursor("f", "crm", "Account") is None


def test_buffered_writes_keep_their_order_per_record(store: SqlStore) -> None:
    pending = PendingWrite("c1@erp", "f", "customer", "c1", "erp", "customers", "crm", "A1")
    with store.unit_of_work() as uow:
        uow.add_pending_write(pending)
        uow.add_xrefs([Xref("c5", "customer", "crm", "A5")])
        uow.put_dead_letter(DeadLetter("f", "customer", "crm", "A5", "validation", "bad"))
    with store.unit_of_work() as uow:
        # Each pair below ends differently if its two calls swap.
        uow.add_xref_at_commit(Xref("c1", "customer", "crm", "A1"))
        uow.remove_xref("customer", "crm", "A1")
        uow.set_base("c1", "customer", {"name": "A"})
        uow.delete_base("c1")
        uow.set_base("c2", "customer", {"name": "B"})
        uow.set_base("c2", "customer", {"name": "C"})
        uow.remove_pending_write("c1@erp")
        uow.add_pending_write(pending)
        uow.add_pending_write(
            PendingWrite("c2@erp", "f", "customer", "c2", "erp", "c", "crm", "A2")
        )
        uow.remove_pending_write("c2@erp")
        uow.close_dead_letter_at_commit("f", "crm", "A5", "resolved")
        uow.put_dead_letter(DeadLetter("f", "customer", "crm", "A5", "validation", "again"))
    assert store.xrefs_by_native("customer", "crm", ["A1"]) == {}
    bases = store.bases(["c1", "c2"])
    assert set(bases) == {"c2"}
    assert (bases["c2"].version, bases["c2"].fields) == (2, {"name": "C"})
    assert [p.key for p in store.pending_writes()] == ["c1@erp"]
    letters = store.dead_letters(flow="f")
    assert sorted((d.status, d.message) for d in letters) == [
        ("open", "again"),
        ("resolved", "bad"),
    ]


def test_letters_close_in_bulk(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        for native_id in ("A1", "A2", "A3"):
            uow.put_dead_letter(DeadLetter("f", "customer", "crm", native_id, "business", "hold"))
        uow.put_dead_letter(DeadLetter("g", "customer", "crm", "A1", "business", "hold"))
    with store.unit_of_work() as uow:
        assert uow.close_dead_letters("f", "crm", ["A1", "A3", "A9", "A1"], "discarded") == 2
        uow.close_dead_letter_at_commit("f", "crm", "A2", "resolved")
        uow.close_dead_letter_at_commit("f", "crm", "A2", "discarded")  # the first one decides
    statuses = {(d.flow, d.native_id): d.status for d in store.dead_letters()}
    assert statuses == {
        ("f", "A1"): "discarded",
        ("f", "A2"): "resolved",
        ("f", "A3"): "discarded",
        ("g", "A1"): "open",
    }


_link = st.tuples(
    st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(["crm", "erp"]), st.sampled_from("ABCD")
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(blocks=st.lists(st.lists(_link, max_size=8), max_size=5), at_commit=st.booleans())
def test_bulk_links_end_as_one_call_after_the_other(
    store: SqlStore, blocks: list[list[tuple[str, str, str]]], at_commit: bool
) -> None:
    entity = f"e{uuid.uuid4().hex[:10]}"
    model: dict[tuple[str, str], str] = {}  # (system, native id) -> canonical id
    for block in blocks:
        links = [Xref(f"{entity}-{c}", entity, s, n) for c, s, n in block]
        expected = dict(model)
        conflict = False
        for link in links:  # the model: one add_xref after the other, conflicts skipped
            holder = expected.get((link.system, link.native_id))
            taken = any(
                c == link.canonical_id and s == link.system and n != link.native_id
                for (s, n), c in expected.items()
            )
            if (holder is not None and holder != link.canonical_id) or taken:
                conflict = True
            else:
                expected[(link.system, link.native_id)] = link.canonical_id
        raised = False
        try:
            with store.unit_of_work() as uow:
                if at_commit:
                    for link in links:
                        uow.add_xref_at_commit(link)
                else:
                    try:
                        uow.add_xrefs(links)
                    except LinkConflictError:
                        raised = True  # caught: the block carries on and commits
        except LinkConflictError:
            raised = True
        assert raised == conflict
        if not (conflict and at_commit):  # a conflict at commit rolls the block back
            model = expected
    stored = {
        (x.system, x.native_id): x.canonical_id
        for system in ("crm", "erp")
        for x in store.iter_xrefs(entity, system)
    }
    assert stored == model
