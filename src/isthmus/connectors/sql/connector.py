"""``SqlTableConnector``: a table (SQLite or PostgreSQL) as a system's object.

Reads are a keyset over (updated_at, key) with a closed lower bound, so records sharing
the cursor's timestamp are never lost; writes run one transaction per batch, in bulk
(``writes.write_bulk``: one look-up and one executemany per statement shape), and fall
back to one SAVEPOINT per record when the database refuses the bulk attempt, so one bad
row gives one error value, not a failed batch. The connector stamps ``updated_at``
itself on every write, strictly increasing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, select, tuple_
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError

from isthmus.connectors.base import (
    Capabilities,
    ChangePage,
    Cursor,
    FieldDescription,
    FieldType,
    NativeRecord,
    ObjectDescription,
    WebhookEvent,
    WriteOp,
    WriteResult,
)
from isthmus.connectors.sql.writes import BatchMismatchError, bulk_safe, write_bulk, write_rows
from isthmus.errors import ConfigError, IsthmusError, TransientError


@dataclass(frozen=True)
class SqlObject:
    table: str
    key: str
    updated_at: str
    external_key: str | None = None
    deleted: str | None = None  # a boolean soft-delete column
    # Re-read this many seconds before the cursor: for systems whose own writers stamp
    # updated_at coarsely (whole seconds) or late (a transaction committing after a
    # newer one). Re-read rows cost nothing downstream: unchanged content is skipped.
    lookback_seconds: float = 0.0


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _advanced(last: Any, spec: SqlObject, after_ts: Any, after_id: Any) -> bool:
    """Whether a page's last row sorts after the cursor it was read from."""
    stamp, before = _utc(last[spec.updated_at]), _utc(after_ts)
    if stamp is None or before is None:
        return True  # not datetimes: nothing to check against
    return (stamp, last[spec.key]) > (before, after_id)


def _type(column: Any) -> FieldType:
    name = type(column.type).__name__.lower()
    for word, kind in (
        ("bool", "boolean"),
        ("int", "integer"),
        ("numeric", "decimal"),
        ("decimal", "decimal"),
        ("datetime", "datetime"),
        ("timestamp", "datetime"),
        ("date", "date"),
        ("json", "json"),
    ):
        if word in name:
            return kind  # type: ignore[return-value]
    return "string"


class SqlTableConnector:
    def __init__(self, name: str, url: str, objects: Mapping[str, SqlObject]) -> None:
        self.name = name
        self.objects = dict(objects)
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            _real_sqlite_transactions(self.engine)
        self.capabilities = Capabilities(
            batch_size=500,
            upsert_by_external_id=True,
            delete_feed=any(o.deleted for o in objects.values()),
        )
        self._tables: dict[str, Table] = {}
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    def _table(self, object_name: str) -> tuple[Table, SqlObject]:
        spec = self.objects.get(object_name)
        if spec is None:
            raise ConfigError(
                f"system {self.name!r} has no object {object_name!r}; "
                f"configured: {', '.join(self.objects)}"
            )
        if object_name not in self._tables:
            try:
                self._tables[object_name] = Table(spec.table, MetaData(), autoload_with=self.engine)
            except SQLAlchemyError as error:
                raise ConfigError(
                    f"system {self.name!r}: cannot read table {spec.table!r}: {error}"
                ) from None
        return self._tables[object_name], spec

    def _stamp(self) -> datetime:
        # Strictly increasing within the process, so our writes keep their order.
        stamp = max(datetime.now(UTC), self._last_stamp + timedelta(microseconds=1))
        self._last_stamp = stamp
        return stamp

    async def describe(self, object_name: str) -> ObjectDescription:
        table, spec = self._table(object_name)
        fields = {}
        # Columns the connector fills itself are never required from a mapping.
        managed = {spec.updated_at, spec.deleted, spec.external_key}
        for column in table.columns:
            length = getattr(column.type, "length", None)
            fields[column.name] = FieldDescription(
                column.name,
                _type(column),
                length=length,
                required=not column.nullable
                and column.server_default is None
                and not column.primary_key
                and column.name not in managed,
                read_only=column.name in (spec.key, spec.updated_at) and column.primary_key,
                unique=bool(column.unique),
            )
        return ObjectDescription(object_name, spec.key, fields, external_key=spec.external_key)

    def _record(self, row: Any, spec: SqlObject) -> NativeRecord:
        values = dict(row._mapping)
        deleted = bool(values.get(spec.deleted)) if spec.deleted else False
        return NativeRecord(str(values[spec.key]), values, _utc(values[spec.updated_at]), deleted)

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        table, spec = self._table(object_name)
        stamp, key = table.c[spec.updated_at], table.c[spec.key]
        after_ts = datetime.fromisoformat(cursor["ts"]) if cursor else None
        after_id: Any = cursor["id"] if cursor else None
        window_start = (
            after_ts - timedelta(seconds=spec.lookback_seconds)
            if after_ts is not None and spec.lookback_seconds > 0
            else None
        )
        while True:
            query = select(table).order_by(stamp, key).limit(page_size)
            windowed = window_start is not None
            if window_start is not None:
                query = query.where(stamp >= window_start)  # first page only
                window_start = None
            elif after_ts is not None:
                # A row value, not "ts > a OR (ts = a AND key > b)": same rows, but an
                # index on (updated_at, key) is then a seek, not a scan from the start.
                query = query.where(tuple_(stamp, key) > tuple_(after_ts, after_id))
            try:
                with self.engine.connect() as conn:
                    rows = list(conn.execute(query))
            except OperationalError as error:
                raise TransientError(f"{self.name}: {error.orig}") from None
            records = [self._record(row, spec) for row in rows]
            if rows:
                last = rows[-1]._mapping
                if (
                    after_ts is not None
                    and not windowed
                    and not _advanced(last, spec, after_ts, after_id)
                ):
                    raise IsthmusError(
                        f"{self.name}: reading {object_name} by ({spec.updated_at}, {spec.key}) "
                        f"did not move past {after_ts!s} / {after_id!r}: the database compares "
                        f"{spec.updated_at} values inconsistently (stored in mixed formats, "
                        "e.g. with and without a time-zone suffix in SQLite). Store them in "
                        "one format, or use a native timestamp column"
                    )
                after_ts, after_id = last[spec.updated_at], last[spec.key]
            next_cursor = (
                {"ts": after_ts.isoformat(), "id": after_id}
                if after_ts is not None
                else (cursor or {})
            )
            yield ChangePage(records, next_cursor, full=cursor is None)
            if len(rows) < page_size:
                return
            await asyncio.sleep(0)  # queries are synchronous: let other tasks run

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        table, spec = self._table(object_name)
        return await self._where_in(table, spec, spec.key, ids, by_key=True)

    async def _where_in(
        self, table: Table, spec: SqlObject, field: str, values: Sequence[str], *, by_key: bool
    ) -> dict[str, NativeRecord]:
        column = table.c[field]
        python_type = getattr(column.type, "python_type", str)
        result: dict[str, NativeRecord] = {}
        if python_type is int:
            # An id that is not a number cannot exist in an integer column: it is absent.
            values = [v for v in values if str(v).strip().lstrip("-").isdigit()]
        for start in range(0, len(values), 500):
            chunk = [
                python_type(v) if python_type is int else v for v in values[start : start + 500]
            ]
            with self.engine.connect() as conn:
                for row in conn.execute(select(table).where(column.in_(chunk))):
                    record = self._record(row, spec)
                    if by_key and record.deleted:
                        continue
                    result[str(row._mapping[field])] = record
        return result

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        table, spec = self._table(object_name)
        column = table.c[field_name]
        grouped: dict[str, list[NativeRecord]] = {}
        for start in range(0, len(values), 500):
            with self.engine.connect() as conn:
                for row in conn.execute(
                    select(table).where(column.in_(values[start : start + 500]))
                ):
                    record = self._record(row, spec)
                    if not record.deleted:
                        grouped.setdefault(str(row._mapping[field_name]), []).append(record)
        return grouped

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        table, spec = self._table(object_name)
        try:
            # One transaction per batch: the bulk attempt inside a SAVEPOINT, and if the
            # database refuses any of it, the per-row replay in the same transaction.
            with self.engine.begin() as conn:
                if bulk_safe(table, spec, ops):
                    attempt = conn.begin_nested()
                    try:
                        results = write_bulk(conn, table, spec, ops, self._stamp)
                    except (IntegrityError, DataError, BatchMismatchError):
                        attempt.rollback()
                    else:
                        attempt.commit()
                        return results
                return write_rows(conn, table, spec, ops, self._stamp)
        except OperationalError as error:
            raise TransientError(f"{self.name}: {error.orig}") from None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        raise ValueError("the SQL connector has no webhooks; use a poll trigger")

    async def close(self) -> None:
        self.engine.dispose()


def _real_sqlite_transactions(engine: Engine) -> None:
    """Make SQLAlchemy's BEGIN and SAVEPOINT real on SQLite.

    pysqlite opens transactions itself, late (before the first INSERT/UPDATE) and never
    for a SAVEPOINT, so a batch's transaction did not exist: each row's SAVEPOINT opened
    and its RELEASE committed a transaction of its own (one disk sync per row). With the
    driver's own handling off and BEGIN emitted here, a batch is one transaction.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def from_config(name: str, options: dict[str, Any]) -> SqlTableConnector:
    url = options.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError(f"system {name!r}: options.url is required, e.g. sqlite:///erp.db")
    objects = options.get("objects")
    if not isinstance(objects, dict) or not objects:
        raise ConfigError(
            f"system {name!r}: options.objects must map object names to {{table, key, updated_at}}"
        )
    parsed = {}
    for object_name, spec in objects.items():
        try:
            parsed[object_name] = SqlObject(**spec)
        except TypeError as error:
            raise ConfigError(
                f"system {name!r}, object {object_name!r}: {error}; allowed: "
                "table, key, updated_at, external_key, deleted, lookback_seconds"
            ) from None
    return SqlTableConnector(name, url, parsed)
