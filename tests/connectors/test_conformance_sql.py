"""The SQL table connector passes the conformance suite on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
)

from isthmus.connectors.base import NativeFields
from isthmus.connectors.sql.connector import SqlObject, SqlTableConnector
from isthmus.testing.conformance import ConformanceCase, ConformanceSubject, ConnectorConformance


def _table(name: str) -> tuple[MetaData, Table]:
    metadata = MetaData()
    table = Table(
        name,
        metadata,
        Column("no", Integer, primary_key=True, autoincrement=True),
        Column("code", String(20), nullable=False, unique=True),
        Column("title", String(60), nullable=False),
        Column("price", Numeric(12, 2)),
        Column("isthmus_id", String(64)),
        Column("removed", Boolean, nullable=False, default=False),
        Column("modified", DateTime(timezone=True), nullable=False),
    )
    return metadata, table


def make(n: int) -> NativeFields:
    return {"code": f"C-{n:05d}", "title": f"Item {n}", "price": f"{n}.50"}


def edit(fields: NativeFields) -> NativeFields:
    return {"title": f"{fields['title']} v2"}


SUBJECT = ConformanceSubject(
    object_name="items",
    make=make,
    edit=edit,
    compare=("code", "title"),
    lookup_field="code",
    # NOT NULL on title: the database refuses the row and names the column.
    invalid=({"code": "C-bad", "title": None}, "title"),
)


def _case(url: str, table_name: str) -> ConformanceCase:
    metadata, _ = _table(table_name)
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    spec = SqlObject(table_name, "no", "modified", external_key="isthmus_id", deleted="removed")
    return ConformanceCase(lambda: SqlTableConnector("erp", url, {"items": spec}), SUBJECT)


class TestSqlOnSqlite(ConnectorConformance):
    @pytest.fixture
    def conformance(self, tmp_path: Path) -> ConformanceCase:
        return _case(f"sqlite:///{tmp_path}/erp.db", "items")


@pytest.mark.postgres
class TestSqlOnPostgres(ConnectorConformance):
    @pytest.fixture
    def conformance(self, pg_url: str) -> Iterator[ConformanceCase]:
        url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
        table_name = f"items_{uuid.uuid4().hex[:8]}"
        case = _case(url, table_name)
        yield case
        engine = create_engine(url)
        _table(table_name)[0].drop_all(engine)
        engine.dispose()
