"""Writing a batch of ops to one table: a bulk path, and the per-row path it falls back to.

Invariants (the connector's write contract, see ``connectors.base``):
- exactly one ``WriteResult`` per op, in the order of the ops, whichever path ran;
- the bulk path gives the same results and leaves the same rows as applying the ops one
  by one in order would; where it cannot promise that (two ops on the same row, an
  upsert key given twice), the batch takes the per-row path from the start;
- a statement the database refuses fails the whole bulk attempt (its SAVEPOINT is rolled
  back, nothing of it stays) and the batch is replayed row by row, each row in its own
  SAVEPOINT, so one bad row gives one error value and the others are written;
- every written row gets its own ``updated_at`` stamp from ``stamp()``, taken in op order
  (the stamps are strictly increasing, so our own writes keep their order for readers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, and_, bindparam, select
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from isthmus.connectors.base import WriteOp, WriteResult
from isthmus.errors import RecordError

if TYPE_CHECKING:
    from isthmus.connectors.sql.connector import SqlObject

Stamp = Callable[[], datetime]
# Values per IN (...) list: below SQLite's bound-variable limit, few round trips.
IN_CHUNK = 500
# Bind parameter names that cannot clash with a column name of the vendor's table.
WHERE_KEY = "isthmus_w_key"


class BatchMismatchError(Exception):
    """The bulk path saw a row count it did not expect (a concurrent change); the batch
    is replayed row by row, which reports each row's own outcome."""


def write_rows(
    conn: Connection, table: Table, spec: SqlObject, ops: Sequence[WriteOp], stamp: Stamp
) -> list[WriteResult]:
    """Apply ops one by one, each in its own SAVEPOINT: a refused row is an error value."""
    results: list[WriteResult] = []
    for op in ops:
        savepoint = conn.begin_nested()
        try:
            results.append(apply_one(conn, table, spec, op, stamp))
            savepoint.commit()
        except (IntegrityError, DataError) as error:
            savepoint.rollback()
            results.append(WriteResult(op.ref, "failed", error=classify(error)))
    return results


def apply_one(
    conn: Connection, table: Table, spec: SqlObject, op: WriteOp, stamp: Stamp
) -> WriteResult:
    key = table.c[spec.key]
    values = row_values(table, op)
    values[spec.updated_at] = when = stamp()
    if op.kind in ("create", "upsert"):
        if op.kind == "upsert" and op.external_key and spec.external_key:
            found = conn.execute(
                select(key).where(table.c[spec.external_key] == op.external_key)
            ).first()
            if found is not None:
                conn.execute(table.update().where(key == found[0]).values(values))
                return WriteResult(op.ref, "updated", str(found[0]), modified_at=when)
        _insert_defaults(values, spec, op)
        inserted = conn.execute(table.insert().values(values))
        primary_key = inserted.inserted_primary_key
        new_id = values.get(spec.key) or (primary_key[0] if primary_key else None)
        return WriteResult(op.ref, "created", str(new_id), modified_at=when)
    target = target_id(table, spec, op)
    if op.kind == "delete":
        if spec.deleted:
            conn.execute(
                table.update()
                .where(key == target)
                .values({spec.deleted: True, spec.updated_at: when})
            )
        else:
            conn.execute(table.delete().where(key == target))
        return WriteResult(op.ref, "deleted", op.id)
    changed = conn.execute(table.update().where(_live(table, spec, target)).values(values))
    if not changed.rowcount:
        return not_found(op, spec)
    return WriteResult(op.ref, "updated", op.id, modified_at=when)


# The shape of a statement: ("insert", columns), ("update", only live rows?, columns) or
# ("delete",). Consecutive ops of one shape are one executemany.
Shape = tuple[Any, ...]


@dataclass
class _Run:
    """Consecutive ops sent as one executemany; ``rows[i]`` belongs to ``indexes[i]``."""

    shape: Shape
    indexes: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Plan:
    results: list[WriteResult | None]
    runs: list[_Run] = field(default_factory=list)

    def add(self, index: int, shape: Shape, row: dict[str, Any], result: WriteResult) -> None:
        # Statements go in op order (only consecutive ops share one), so a unique value
        # freed by one op and taken by a later one behaves as it does row by row.
        if not self.runs or self.runs[-1].shape != shape:
            self.runs.append(_Run(shape))
        self.runs[-1].indexes.append(index)
        self.runs[-1].rows.append(row)
        self.results[index] = result


def write_bulk(
    conn: Connection, table: Table, spec: SqlObject, ops: Sequence[WriteOp], stamp: Stamp
) -> list[WriteResult]:
    """Apply ops with one look-up per kind and one executemany per run of ops of one
    statement shape (a batch of creates is one multi-row INSERT).

    Raises:
        IntegrityError, DataError: the database refused a row (the caller replays the
            batch row by row, after rolling this attempt back).
        BatchMismatchError: rows changed under us; likewise.
    """
    by_external = _rows_by_external_key(conn, table, spec, ops)
    live = _live_keys(conn, table, spec, ops)
    plan = _Plan([None] * len(ops))
    for index, op in enumerate(ops):
        values = row_values(table, op)
        values[spec.updated_at] = when = stamp()
        columns = tuple(values)
        if op.kind in ("create", "upsert"):
            found = by_external.get(op.external_key or "") if op.kind == "upsert" else None
            if found is not None:
                # Like the per-row path: the row found by its key is updated as it is.
                result = WriteResult(op.ref, "updated", str(found), modified_at=when)
                plan.add(index, ("update", False, columns), {**values, WHERE_KEY: found}, result)
            else:
                _insert_defaults(values, spec, op)
                result = WriteResult(op.ref, "created", None, modified_at=when)
                plan.add(index, ("insert", tuple(values)), values, result)
            continue
        target = target_id(table, spec, op)
        if op.kind == "delete":
            row = {WHERE_KEY: target}
            if spec.deleted:
                row |= {spec.deleted: True, spec.updated_at: when}
            plan.add(index, ("delete",), row, WriteResult(op.ref, "deleted", op.id))
        elif target not in live:
            plan.results[index] = not_found(op, spec)
        else:
            result = WriteResult(op.ref, "updated", op.id, modified_at=when)
            plan.add(index, ("update", True, columns), {**values, WHERE_KEY: target}, result)
    for run in plan.runs:
        _send(conn, table, spec, run, plan.results)
    results = [result for result in plan.results if result is not None]
    assert len(results) == len(ops)
    return results


def _send(
    conn: Connection, table: Table, spec: SqlObject, run: _Run, results: list[WriteResult | None]
) -> None:
    if run.shape[0] == "insert":
        _insert(conn, table, spec, run, results)
        return
    by_key = table.c[spec.key] == bindparam(WHERE_KEY)
    if run.shape[0] == "delete":
        # A soft delete stamps the row so readers see the tombstone after their cursor.
        statement: Any = table.update() if spec.deleted else table.delete()
        conn.execute(statement.where(by_key), run.rows)
        return
    only_live = run.shape[1]
    where = _live(table, spec, bindparam(WHERE_KEY)) if only_live else by_key
    # executemany: the SET clause comes from the rows' column names.
    changed = conn.execute(table.update().where(where), run.rows).rowcount
    # The look-up found every row these updates target; a row that vanished since (a
    # concurrent delete) must fail alone, which the per-row replay reports.
    if conn.dialect.supports_sane_multi_rowcount and changed != len(run.rows):
        raise BatchMismatchError(f"{spec.table}: {changed} of {len(run.rows)} rows updated")


def _insert(
    conn: Connection, table: Table, spec: SqlObject, run: _Run, results: list[WriteResult | None]
) -> None:
    # RETURNING the keys (the database may choose them). The order of returned rows is
    # not promised, so each is matched to its op by its stamp, unique in the batch (a
    # column that keeps less than microseconds breaks that: the replay handles it).
    # SQLAlchemy sends the rows as a few multi-row INSERTs.
    stamp = table.c[spec.updated_at]
    statement = table.insert().returning(table.c[spec.key], stamp)
    returned = conn.execute(statement, run.rows).all()
    new_ids = {_instant(when): new_id for new_id, when in returned}
    if len(new_ids) != len(run.rows):
        raise BatchMismatchError(f"{spec.table}: inserted rows cannot be told apart")
    for index, values in zip(run.indexes, run.rows, strict=True):
        result = results[index]
        new_id = new_ids.get(_instant(values[spec.updated_at]))
        if result is None or new_id is None:
            raise BatchMismatchError(f"{spec.table}: inserted rows cannot be told apart")
        results[index] = WriteResult(
            result.ref, "created", str(new_id), modified_at=result.modified_at
        )


def _instant(value: Any) -> Any:
    """A stamp as a naive UTC datetime (SQLite gives naive values back, PostgreSQL aware)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def bulk_safe(table: Table, spec: SqlObject, ops: Sequence[WriteOp]) -> bool:
    """Whether applying the ops together equals applying them in order: the look-ups
    made before the batch stay true while it runs. Not so when a row is the target of
    two ops (an id, an explicit new key), an external key comes twice (a create's key is
    found by a later upsert), or an op rewrites a key or external key column."""
    seen: set[Any] = set()
    external: set[str] = set()
    managed = {spec.key, spec.external_key}
    for op in ops:
        values = row_values(table, op)
        if op.kind in ("create", "upsert"):
            if op.external_key and spec.external_key:
                if op.external_key in external:
                    return False
                external.add(op.external_key)
            if spec.external_key in values:
                return False
            explicit = values.get(spec.key)
            targets = [] if explicit is None else [explicit]
        else:
            if managed & values.keys():
                return False
            targets = [target_id(table, spec, op)]
        for target in targets:
            if target in seen:
                return False
            seen.add(target)
    return True


def _rows_by_external_key(
    conn: Connection, table: Table, spec: SqlObject, ops: Sequence[WriteOp]
) -> dict[str, Any]:
    """Existing rows of the batch's upsert keys: {external key: row key}."""
    if not spec.external_key:
        return {}
    wanted = [op.external_key for op in ops if op.kind == "upsert" and op.external_key]
    column = table.c[spec.external_key]
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for row_key, external in conn.execute(
            select(table.c[spec.key], column).where(column.in_(chunk))
        ):
            # Several rows may share a key (the column need not be unique): the first
            # one found is updated, as the per-row path does.
            found.setdefault(str(external), row_key)
    return found


def _live_keys(conn: Connection, table: Table, spec: SqlObject, ops: Sequence[WriteOp]) -> set[Any]:
    """Keys of the rows the batch's updates target that exist (and are not soft-deleted)."""
    targets = [target_id(table, spec, op) for op in ops if op.kind == "update"]
    key = table.c[spec.key]
    live: set[Any] = set()
    for start in range(0, len(targets), IN_CHUNK):
        query = select(key).where(key.in_(targets[start : start + IN_CHUNK]))
        if spec.deleted:
            query = query.where(table.c[spec.deleted].is_not(True))
        live.update(conn.execute(query).scalars())
    return live


def row_values(table: Table, op: WriteOp) -> dict[str, Any]:
    """The op's fields that are columns of the table, as the columns want them."""
    return {
        name: to_column(table.c[name], value)
        for name, value in op.fields.items()
        if name in table.c
    }


def _insert_defaults(values: dict[str, Any], spec: SqlObject, op: WriteOp) -> None:
    if op.external_key and spec.external_key:
        values[spec.external_key] = op.external_key
    if spec.deleted:
        values.setdefault(spec.deleted, False)


def target_id(table: Table, spec: SqlObject, op: WriteOp) -> Any:
    key = table.c[spec.key]
    return int(op.id or 0) if getattr(key.type, "python_type", str) is int else op.id


def _live(table: Table, spec: SqlObject, target: Any) -> Any:
    live = table.c[spec.key] == target
    if spec.deleted:
        # A soft-deleted row is gone for its users; updating it would resurrect data
        # nobody sees.
        live = and_(live, table.c[spec.deleted].is_not(True))
    return live


def not_found(op: WriteOp, spec: SqlObject) -> WriteResult:
    return WriteResult(
        op.ref,
        "failed",
        op.id,
        error=RecordError(
            "not_found", f"{spec.table} row {op.id} does not exist (deleted meanwhile?)"
        ),
    )


def to_column(column: Any, value: Any) -> Any:
    """Ids arrive as strings; an integer column gets an int (PostgreSQL will not cast)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def classify(error: SQLAlchemyError) -> RecordError:
    text = str(getattr(error, "orig", error))
    if "UNIQUE" in text.upper() or "duplicate key" in text:
        return RecordError(
            "conflict", f"a unique value is already taken: {text}", vendor_message=text
        )
    # PostgreSQL names the column in its diagnostics; SQLite in "...failed: table.column".
    diag = getattr(getattr(error, "orig", None), "diag", None)
    field_name = getattr(diag, "column_name", None)
    if field_name is None and "NOT NULL" in text.upper():
        field_name = text.rsplit(".", 1)[-1].strip()
    return RecordError(
        "validation",
        f"the database refused the row: {text}",
        field=field_name,
        vendor_message=text,
    )
