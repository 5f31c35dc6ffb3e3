"""``SqlTableConnector``: a table (SQLite or PostgreSQL) as a system's object.

Reads are a keyset over (updated_at, key) with a closed lower bound, so records sharing
the cursor's timestamp are never lost; writes run one transaction per batch and fall
back to one SAVEPOINT per record, so one bad row gives one error value, not a failed
batch. The connector stamps ``updated_at`` itself on every write, strictly increasing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, Table, and_, create_engine, or_, select
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
from isthmus.errors import ConfigError, RecordError, TransientError


@dataclass(frozen=True)
class SqlObject:
    table: str
    key: str
    updated_at: str
    external_key: str | None = None
    deleted: str | None = None  # a boolean soft-delete column


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
        while True:
            query = select(table).order_by(stamp, key).limit(page_size)
            if after_ts is not None:
                query = query.where(or_(stamp > after_ts, and_(stamp == after_ts, key > after_id)))
            try:
                with self.engine.connect() as conn:
                    rows = list(conn.execute(query))
            except OperationalError as error:
                raise TransientError(f"{self.name}: {error.orig}") from None
            records = [self._record(row, spec) for row in rows]
            if rows:
                last = rows[-1]._mapping
                after_ts, after_id = last[spec.updated_at], last[spec.key]
            next_cursor = (
                {"ts": after_ts.isoformat(), "id": after_id}
                if after_ts is not None
                else (cursor or {})
            )
            yield ChangePage(records, next_cursor, full=cursor is None)
            if len(rows) < page_size:
                return

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
        results: list[WriteResult] = []
        try:
            with self.engine.begin() as conn:
                for op in ops:
                    savepoint = conn.begin_nested()
                    try:
                        results.append(self._apply(conn, table, spec, op))
                        savepoint.commit()
                    except (IntegrityError, DataError) as error:
                        savepoint.rollback()
                        results.append(WriteResult(op.ref, "failed", error=_classify(error)))
        except OperationalError as error:
            raise TransientError(f"{self.name}: {error.orig}") from None
        return results

    def _apply(self, conn: Any, table: Table, spec: SqlObject, op: WriteOp) -> WriteResult:
        key = table.c[spec.key]
        values = {
            name: _to_column(table.c[name], value)
            for name, value in op.fields.items()
            if name in table.c
        }
        values[spec.updated_at] = stamp = self._stamp()
        if op.kind in ("create", "upsert"):
            if op.kind == "upsert" and op.external_key and spec.external_key:
                found = conn.execute(
                    select(key).where(table.c[spec.external_key] == op.external_key)
                ).first()
                if found is not None:
                    conn.execute(table.update().where(key == found[0]).values(values))
                    return WriteResult(op.ref, "updated", str(found[0]), modified_at=stamp)
            if op.external_key and spec.external_key:
                values[spec.external_key] = op.external_key
            if spec.deleted:
                values.setdefault(spec.deleted, False)
            inserted = conn.execute(table.insert().values(values))
            new_id = values.get(spec.key) or inserted.inserted_primary_key[0]
            return WriteResult(op.ref, "created", str(new_id), modified_at=stamp)
        target = int(op.id or 0) if getattr(key.type, "python_type", str) is int else op.id
        if op.kind == "delete":
            if spec.deleted:
                conn.execute(
                    table.update()
                    .where(key == target)
                    .values({spec.deleted: True, spec.updated_at: stamp})
                )
            else:
                conn.execute(table.delete().where(key == target))
            return WriteResult(op.ref, "deleted", op.id)
        live = key == target
        if spec.deleted:
            # A soft-deleted row is gone for its users; updating it would resurrect data
            # nobody sees.
            live = and_(live, table.c[spec.deleted].is_not(True))
        changed = conn.execute(table.update().where(live).values(values)).rowcount
        if not changed:
            return WriteResult(
                op.ref,
                "failed",
                op.id,
                error=RecordError(
                    "not_found", f"{spec.table} row {op.id} does not exist (deleted meanwhile?)"
                ),
            )
        return WriteResult(op.ref, "updated", op.id, modified_at=stamp)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        raise ValueError("the SQL connector has no webhooks; use a poll trigger")

    async def close(self) -> None:
        self.engine.dispose()


def _to_column(column: Any, value: Any) -> Any:
    """Ids arrive as strings; an integer column gets an int (PostgreSQL will not cast)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def _classify(error: SQLAlchemyError) -> RecordError:
    text = str(getattr(error, "orig", error))
    if "UNIQUE" in text.upper() or "duplicate key" in text:
        return RecordError(
            "conflict", f"a unique value is already taken: {text}", vendor_message=text
        )
    # PostgreSQL names the column in its diagnostics; SQLite in "...failed: table.column".
    diag = getattr(getattr(error, "orig", None), "diag", None)
    field = getattr(diag, "column_name", None)
    if field is None and "NOT NULL" in text.upper():
        field = text.rsplit(".", 1)[-1].strip()
    return RecordError(
        "validation", f"the database refused the row: {text}", field=field, vendor_message=text
    )


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
                "table, key, updated_at, external_key, deleted"
            ) from None
    return SqlTableConnector(name, url, parsed)
