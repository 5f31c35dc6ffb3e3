"""Batch writes of the SQL connector: the bulk path, its per-row fallback, upserts by
external key and the ``updated_at`` stamps, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise

from sqlalchemy import insert

from isthmus.connectors.base import WriteOp, WriteResult
from isthmus.connectors.sql.connector import SqlTableConnector
from tests.connectors.sql.conftest import Db


def write(connector: SqlTableConnector, ops: Sequence[WriteOp]) -> list[WriteResult]:
    async def go() -> list[WriteResult]:
        try:
            return await connector.write("items", ops)
        finally:
            await connector.close()

    return asyncio.run(go())


def create(n: int, **fields: object) -> WriteOp:
    return WriteOp(f"r{n}", "create", {"code": f"C{n}", "title": f"Item {n}", **fields})


def test_a_batch_is_written_in_bulk_with_one_result_per_op_in_order(db: Db) -> None:
    ops = [create(n) for n in range(120)]
    results = write(db.connector(), ops)
    assert [r.ref for r in results] == [op.ref for op in ops]
    assert {r.outcome for r in results} == {"created"}
    rows = db.rows()
    assert len(rows) == 120
    by_no = {str(row["no"]): row for row in rows}
    for n, result in enumerate(results):
        assert result.id is not None
        assert by_no[result.id]["code"] == f"C{n}"  # each result names its own row
        assert by_no[result.id]["removed"] is False
    # The bulk path: no per-row SAVEPOINT, and a handful of statements, not one per row.
    assert db.savepoints() == 1
    assert len(db.writes()) == 1


def test_one_refused_row_fails_alone_and_names_its_field(db: Db) -> None:
    ops = [create(1), create(2, title=None), create(3)]
    results = write(db.connector(), ops)
    assert [r.outcome for r in results] == ["created", "failed", "created"]
    bad = results[1]
    assert bad.ref == "r2"
    assert bad.error is not None
    assert bad.error.kind == "validation"
    assert bad.error.field == "title"
    assert sorted(row["code"] for row in db.rows()) == ["C1", "C3"]
    # The bulk attempt was rolled back and the batch replayed row by row.
    assert db.savepoints() == 1 + len(ops)


def test_a_taken_unique_value_is_a_conflict_of_that_record_only(db: Db) -> None:
    write(db.connector(), [create(1)])
    results = write(db.connector(), [create(2), create(1), create(3)])
    assert [r.outcome for r in results] == ["created", "failed", "created"]
    assert results[1].error is not None
    assert results[1].error.kind == "conflict"
    assert sorted(row["code"] for row in db.rows()) == ["C1", "C2", "C3"]


def test_upsert_by_external_key_updates_the_row_that_holds_the_key(db: Db) -> None:
    first = write(
        db.connector(),
        [WriteOp("a", "upsert", {"code": "C1", "title": "One"}, external_key="k1")],
    )
    assert first[0].outcome == "created"
    results = write(
        db.connector(),
        [
            WriteOp("b", "upsert", {"code": "C2", "title": "Two"}, external_key="k2"),
            WriteOp("c", "upsert", {"code": "C1", "title": "One again"}, external_key="k1"),
        ],
    )
    assert [(r.ref, r.outcome) for r in results] == [("b", "created"), ("c", "updated")]
    assert results[1].id == first[0].id
    rows = db.rows()
    assert [(row["isthmus_id"], row["title"]) for row in rows] == [
        ("k1", "One again"),
        ("k2", "Two"),
    ]
    assert db.savepoints() == 1  # the second batch went in bulk too


def test_an_upsert_key_given_twice_in_one_batch_makes_one_row(db: Db) -> None:
    results = write(
        db.connector(),
        [
            WriteOp("a", "upsert", {"code": "C1", "title": "One"}, external_key="k1"),
            WriteOp("b", "upsert", {"code": "C1", "title": "One v2"}, external_key="k1"),
        ],
    )
    assert [r.outcome for r in results] == ["created", "updated"]
    assert results[0].id == results[1].id
    assert [(row["isthmus_id"], row["title"]) for row in db.rows()] == [("k1", "One v2")]


def test_a_create_stores_its_idempotency_key(db: Db) -> None:
    results = write(
        db.connector(),
        [WriteOp("a", "create", {"code": "C1", "title": "One"}, external_key="cid-1")],
    )
    assert results[0].outcome == "created"
    assert db.rows()[0]["isthmus_id"] == "cid-1"


def naive_utc(value: datetime) -> datetime:
    """SQLite gives stamps back naive (in UTC), PostgreSQL aware."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def test_stamps_strictly_increase_in_op_order_across_batches(db: Db) -> None:
    connector = db.connector()
    made = write(connector, [create(n) for n in range(50)])
    updates = [
        WriteOp(f"u{n}", "update", {"title": f"Item {n} v2"}, id=made[n].id)
        for n in range(0, 50, 5)
    ]
    later = write(connector, updates)
    stamps = [r.modified_at for r in [*made, *later]]
    assert all(a is not None and b is not None and a < b for a, b in pairwise(stamps))
    # Each result's stamp is the one its row holds.
    stored = {str(row["no"]): naive_utc(row["modified"]) for row in db.rows()}
    final = {r.id: r.modified_at for r in [*made, *later]}  # updates come later: they win
    assert {row_id: naive_utc(stamp) for row_id, stamp in final.items() if stamp} == stored


def test_a_mixed_batch_keeps_each_op_in_place(db: Db) -> None:
    made = write(db.connector(), [create(n) for n in range(3)])
    ids = [r.id for r in made]
    results = write(
        db.connector(),
        [
            WriteOp("u", "update", {"title": "changed"}, id=ids[0]),
            create(9),
            WriteOp("d", "delete", id=ids[1]),
            WriteOp("missing", "update", {"title": "x"}, id="99999"),
            WriteOp("k", "upsert", {"code": "C7", "title": "Seven"}, external_key="k7"),
        ],
    )
    assert [(r.ref, r.outcome) for r in results] == [
        ("u", "updated"),
        ("r9", "created"),
        ("d", "deleted"),
        ("missing", "failed"),
        ("k", "created"),
    ]
    assert results[3].error is not None
    assert results[3].error.kind == "not_found"
    rows = {row["code"]: row for row in db.rows()}
    assert rows["C0"]["title"] == "changed"
    assert rows["C1"]["removed"] is True
    assert set(rows) == {"C0", "C1", "C2", "C9", "C7"}


def test_an_update_never_resurrects_a_soft_deleted_row(db: Db) -> None:
    made = write(db.connector(), [create(1), create(2)])
    write(db.connector(), [WriteOp("d", "delete", id=made[0].id)])
    results = write(
        db.connector(),
        [
            WriteOp("u1", "update", {"title": "back?"}, id=made[0].id),
            WriteOp("u2", "update", {"title": "fine"}, id=made[1].id),
        ],
    )
    assert [r.outcome for r in results] == ["failed", "updated"]
    assert [row["title"] for row in db.rows()] == ["Item 1", "fine"]


def test_a_hard_delete_removes_the_row(db: Db) -> None:
    # Without a soft-delete column the connector leaves ``removed`` to the mapping.
    made = write(
        db.connector(soft_delete=False), [create(1, removed=False), create(2, removed=False)]
    )
    assert [r.outcome for r in made] == ["created", "created"]
    results = write(db.connector(soft_delete=False), [WriteOp("d", "delete", id=made[0].id)])
    assert results[0].outcome == "deleted"
    assert [row["code"] for row in db.rows()] == ["C2"]


def test_the_bulk_path_leaves_what_the_per_row_path_leaves(db: Db) -> None:
    # Seed rows written by someone else, then one batch of every kind; the same batch
    # forced through the per-row path (a refused row in it) must give the same rows.
    with db.engine.begin() as conn:
        conn.execute(
            insert(db.table),
            [
                {
                    "code": f"S{n}",
                    "title": f"Seed {n}",
                    "isthmus_id": f"k{n}",
                    "removed": False,
                    "modified": datetime(2026, 1, 1, tzinfo=UTC),
                }
                for n in range(4)
            ],
        )
    seeded = {row["code"]: str(row["no"]) for row in db.rows()}
    batch = [
        WriteOp("u", "update", {"title": "U"}, id=seeded["S0"]),
        WriteOp("k", "upsert", {"title": "K"}, external_key="k1"),
        WriteOp("n", "upsert", {"code": "N", "title": "New"}, external_key="k9"),
        WriteOp("d", "delete", id=seeded["S2"]),
    ]
    bad = create(5, title=None)
    bulk = write(db.connector(), batch)
    after_bulk = [
        (row["code"], row["title"], row["isthmus_id"], row["removed"]) for row in db.rows()
    ]
    assert [r.outcome for r in bulk] == ["updated", "updated", "created", "deleted"]
    assert bulk[1].id == seeded["S1"]
    assert ("S1", "K", "k1", False) in after_bulk
    assert ("N", "New", "k9", False) in after_bulk
    assert ("S2", "Seed 2", "k2", True) in after_bulk
    # The same ops again through the per-row path give the same outcomes, bar the
    # "create" of k9, which now exists and is updated.
    per_row = write(db.connector(), [bad, *batch])
    assert [r.outcome for r in per_row] == ["failed", "updated", "updated", "updated", "deleted"]
    assert per_row[3].id == bulk[2].id


def test_a_create_and_an_upsert_of_one_key_in_one_batch_make_one_row(db: Db) -> None:
    results = write(
        db.connector(),
        [
            WriteOp("a", "create", {"code": "C1", "title": "One"}, external_key="k1"),
            WriteOp("b", "upsert", {"code": "C1", "title": "One v2"}, external_key="k1"),
        ],
    )
    assert [r.outcome for r in results] == ["created", "updated"]
    assert results[0].id == results[1].id
    assert [(row["isthmus_id"], row["title"]) for row in db.rows()] == [("k1", "One v2")]
    assert db.savepoints() == 2  # look-ups made before the batch would be stale: row by row


def test_a_unique_value_freed_earlier_in_a_batch_can_be_taken_later(db: Db) -> None:
    made = write(db.connector(), [create(1), create(2)])
    results = write(
        db.connector(),
        [
            WriteOp("free", "update", {"code": "C1-old"}, id=made[0].id),
            create(1),  # takes "C1", freed by the op before it
            WriteOp("t", "update", {"title": "two"}, id=made[1].id),
        ],
    )
    assert [r.outcome for r in results] == ["updated", "created", "updated"]
    assert sorted(row["code"] for row in db.rows()) == ["C1", "C1-old", "C2"]
    assert db.savepoints() == 1  # statements in op order: the bulk path got it right
