"""A fresh table per test for the SQL connector, on SQLite and on PostgreSQL.

PostgreSQL tests use the store suite's per-session database (``pg_url``, re-exported by
``tests/connectors/conftest.py``): they skip when the server is unreachable, except
under CI, where they fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)

from isthmus.connectors.sql.connector import SqlObject, SqlTableConnector


def items_table(name: str) -> Table:
    """A vendor-like table: integer key chosen by the database, a unique code, a NOT NULL
    title, a non-unique external key column (a duplicate would show), a soft-delete
    flag and a modification timestamp."""
    return Table(
        name,
        MetaData(),
        Column("no", Integer, primary_key=True, autoincrement=True),
        Column("code", String(20), nullable=False, unique=True),
        Column("title", String(60), nullable=False),
        Column("isthmus_id", String(64)),
        Column("removed", Boolean, nullable=False, default=False),
        Column("modified", DateTime(timezone=True), nullable=False),
    )


@dataclass
class Db:
    """A table in a database, the connector on it, and the statements it sent."""

    url: str
    table: Table
    engine: Engine
    statements: list[str]

    def connector(self, *, soft_delete: bool = True) -> SqlTableConnector:
        """A new connector; ``statements`` then holds what it alone sends."""
        self.statements.clear()
        spec = SqlObject(
            self.table.name,
            "no",
            "modified",
            external_key="isthmus_id",
            deleted="removed" if soft_delete else None,
        )
        connector = SqlTableConnector("erp", self.url, {"items": spec})

        @event.listens_for(connector.engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            self.statements.append(statement)

        return connector

    def writes(self) -> list[str]:
        return [s for s in self.statements if s.split(None, 1)[0] in ("INSERT", "UPDATE", "DELETE")]

    def savepoints(self) -> int:
        return sum(1 for s in self.statements if s.startswith("SAVEPOINT"))

    def rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = self.table.select().order_by(self.table.c.no)
            return [dict(row._mapping) for row in conn.execute(query)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/erp.db"
    else:
        pg_url: str = request.getfixturevalue("pg_url")
        url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    table = items_table(f"items_{uuid.uuid4().hex[:8]}")
    engine = create_engine(url)
    table.metadata.create_all(engine)
    yield Db(url, table, engine, [])
    table.metadata.drop_all(engine)
    engine.dispose()
