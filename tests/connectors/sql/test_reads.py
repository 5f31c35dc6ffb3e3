"""Reads of the SQL connector: keyset paging over (updated_at, key) that neither skips
nor repeats records sharing a timestamp, cursors that resume, and tombstones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text, update

from isthmus.connectors.base import ChangePage, Cursor, NativeRecord, WriteOp
from isthmus.connectors.sql.connector import SqlTableConnector
from isthmus.errors import IsthmusError
from tests.connectors.sql.conftest import Db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def read(connector: SqlTableConnector, cursor: Cursor | None, page_size: int) -> list[ChangePage]:
    async def go() -> list[ChangePage]:
        try:
            return [
                page async for page in connector.read_changes("items", cursor, page_size=page_size)
            ]
        finally:
            await connector.close()

    return asyncio.run(go())


def seed(db: Db, codes: list[str], when: datetime, **extra: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            insert(db.table),
            [
                {"code": code, "title": code, "removed": False, "modified": when} | extra
                for code in codes
            ],
        )


def codes(pages: list[ChangePage]) -> list[str]:
    return [record.fields["code"] for page in pages for record in page.records]


def test_records_sharing_a_timestamp_are_paged_without_loss_or_repeat(db: Db) -> None:
    seed(db, [f"A{n}" for n in range(7)], T0)  # seven rows, one timestamp
    seed(db, ["B0"], T0 + timedelta(seconds=1))
    pages = read(db.connector(), None, page_size=3)
    assert codes(pages) == [*(f"A{n}" for n in range(7)), "B0"]
    assert [len(page.records) for page in pages] == [3, 3, 2]
    assert all(page.full for page in pages)


def test_a_cursor_resumes_inside_a_timestamp_and_sees_later_rows(db: Db) -> None:
    seed(db, [f"A{n}" for n in range(4)], T0)
    first = read(db.connector(), None, page_size=2)[0]
    assert codes([first]) == ["A0", "A1"]
    # Rows added later at the cursor's own timestamp (a clock that did not move) have
    # higher keys: the closed lower bound still reads them.
    seed(db, ["A4"], T0)
    seed(db, ["Z"], T0 - timedelta(seconds=5))  # behind the cursor: not a change after it
    rest = read(db.connector(), first.cursor, page_size=2)
    assert codes(rest) == ["A2", "A3", "A4"]
    assert not any(page.full for page in rest)
    # Nothing new: one empty page that keeps the cursor where it was.
    final = rest[-1].cursor
    again = read(db.connector(), final, page_size=2)
    assert codes(again) == []
    assert again[0].cursor == final


def test_our_own_writes_come_back_in_the_order_they_were_written(db: Db) -> None:
    async def go(connector: SqlTableConnector) -> list[NativeRecord]:
        made = await connector.write(
            "items", [WriteOp(f"r{n}", "create", {"code": f"C{n}", "title": "t"}) for n in range(5)]
        )
        await connector.write("items", [WriteOp("u", "update", {"title": "again"}, id=made[1].id)])
        pages = [page async for page in connector.read_changes("items", None, page_size=2)]
        await connector.close()
        return [record for page in pages for record in page.records]

    records = asyncio.run(go(db.connector()))
    assert [r.fields["code"] for r in records] == ["C0", "C2", "C3", "C4", "C1"]
    stamps = [r.modified_at for r in records]
    assert all(s is not None and s.tzinfo is not None for s in stamps)
    assert stamps == sorted(stamps)  # type: ignore[type-var]


def test_a_soft_delete_is_read_as_a_tombstone_after_the_cursor(db: Db) -> None:
    seed(db, ["A", "B"], T0)
    cursor = read(db.connector(), None, page_size=10)[-1].cursor
    key = {row["code"]: str(row["no"]) for row in db.rows()}

    async def delete(connector: SqlTableConnector) -> None:
        await connector.write("items", [WriteOp("d", "delete", id=key["A"])])
        await connector.close()

    asyncio.run(delete(db.connector()))
    changes = read(db.connector(), cursor, page_size=10)
    records = [record for page in changes for record in page.records]
    assert [(r.id, r.deleted) for r in records] == [(key["A"], True)]

    async def by_ids(connector: SqlTableConnector) -> dict[str, NativeRecord]:
        found = await connector.read_by_ids("items", [key["A"], key["B"], "not-a-number"])
        await connector.close()
        return found

    assert set(asyncio.run(by_ids(db.connector()))) == {key["B"]}


def test_a_row_touched_by_someone_else_is_read_again(db: Db) -> None:
    seed(db, ["A", "B"], T0)
    cursor = read(db.connector(), None, page_size=10)[-1].cursor
    with db.engine.begin() as conn:
        conn.execute(
            update(db.table)
            .where(db.table.c.code == "A")
            .values(title="edited", modified=T0 + timedelta(minutes=1))
        )
    changes = read(db.connector(), cursor, page_size=10)
    assert [(r.fields["code"], r.fields["title"]) for p in changes for r in p.records] == [
        ("A", "edited")
    ]


def test_timestamps_stored_in_mixed_formats_fail_clearly_instead_of_looping(db: Db) -> None:
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL stores one timestamp format: nothing can be mixed
    # Another program wrote the stamps as text with a "+00:00" suffix; SQLAlchemy binds
    # them without it, so every row compares greater than any cursor: the keyset cannot
    # advance. The read must say so, not page forever.
    with db.engine.begin() as conn:
        for n in range(5):
            conn.execute(
                text(
                    f"INSERT INTO {db.table.name} (code, title, removed, modified) "
                    "VALUES (:c, :c, 0, '2026-03-01 12:00:00.000000+00:00')"
                ),
                {"c": f"M{n}"},
            )
    with pytest.raises(IsthmusError, match=r"did not move past.*mixed formats"):
        read(db.connector(), None, page_size=2)
