"""The sandbox org's records: in memory, with savepoints, change notices and persistence.

Invariants:
- Every write goes through :meth:`RecordStore.atomic`; nested blocks are savepoints.
  Rolling one back restores exactly the records it touched. Change notices and the
  SQLite write-through happen only when the outermost block ends, so a rolled-back
  write is never announced or persisted.
- Unique and external-id indexes cover live (not deleted) records only, as in
  Salesforce, where a record in the recycle bin does not block a duplicate.
- Deleted records stay (``IsDeleted = true``) for queryAll and getDeleted.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from isthmus.sandbox.salesforce.errors import SalesforceApiError, invalid_type, not_found
from isthmus.sandbox.salesforce.ids import format_datetime, make_id, normalise_id, utc_now
from isthmus.sandbox.salesforce.objects import SANDBOX_USER_ID
from isthmus.sandbox.salesforce.persistence import SqlitePersistence
from isthmus.sandbox.salesforce.schema import ObjectDef, Schema
from isthmus.sandbox.salesforce.transaction import (
    ChangeNotice,
    ChangeType,
    Record,
    Savepoint,
    Transaction,
    UndoEntry,
)
from isthmus.sandbox.salesforce.validation import prepare_write

IndexKey = tuple[str, tuple[str, ...]]


class RecordStore:
    """All records of the org, keyed by object and id."""

    def __init__(
        self,
        schema: Schema,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        persistence: SqlitePersistence | None = None,
    ) -> None:
        self.schema = schema
        self.clock = clock
        self.persistence = persistence
        #: Called once per committed transaction with its notices, in order.
        self.listeners: list[Callable[[list[ChangeNotice]], None]] = []
        self._records: dict[str, dict[str, Record]] = {name: {} for name in schema.objects}
        self._deleted_at: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._indexes: dict[IndexKey, dict[tuple[Any, ...], set[str]]] = {}
        self._index_keys: dict[str, list[tuple[str, ...]]] = {
            obj.name: [(f.name,) for f in obj.fields if f.external_id or f.unique]
            + list(obj.unique_together)
            for obj in schema.objects.values()
        }
        self._dirty: set[tuple[str, str]] = set()
        self._transaction: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
            f"sandbox-transaction-{id(self)}", default=None
        )
        if persistence is not None:
            self._load(persistence)
        if not self._records["User"]:
            self._put_sandbox_user()

    # -- reading -------------------------------------------------------------------------

    def object_def(self, name: str) -> ObjectDef:
        obj = self.schema.get(name)
        if obj is None:
            raise invalid_type(name)
        return obj

    def get(self, record_id: str) -> tuple[ObjectDef, Record] | None:
        """The record with this 15- or 18-character id, deleted or not."""
        full = normalise_id(record_id)
        obj = self.schema.by_id(full) if full else None
        if full is None or obj is None:
            return None
        record = self._records[obj.name].get(full)
        return (obj, record) if record is not None else None

    def live(self, object_name: str, record_id: str) -> Record:
        """The live record, or the error Salesforce gives for a missing or deleted one."""
        found = self.get(record_id)
        if found is None or found[0].name != object_name:
            raise not_found()
        if found[1]["IsDeleted"]:
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return found[1]

    def records(self, object_name: str, *, include_deleted: bool = False) -> Iterator[Record]:
        for record in self._records[object_name].values():
            if include_deleted or not record["IsDeleted"]:
                yield record

    def latest(self, object_name: str, count: int) -> list[Record]:
        """The ``count`` most recently created live records, newest first."""
        found: list[Record] = []
        for record in reversed(self._records[object_name].values()):
            if len(found) == count:
                break
            if not record["IsDeleted"]:
                found.append(record)
        return found

    def find(self, object_name: str, field_name: str, value: Any) -> list[Record]:
        """Live records whose indexed ``field_name`` equals ``value`` (case-insensitive)."""
        index = self._indexes.get((object_name, (field_name,)), {})
        ids = index.get((_index_value(value),), set())
        return sorted((self._records[object_name][i] for i in ids), key=lambda r: r["Id"])

    def deleted_at(self, record_id: str) -> str | None:
        return self._deleted_at.get(record_id)

    def count(self, object_name: str) -> int:
        return sum(1 for _ in self.records(object_name))

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Savepoint]:
        """A block of writes; an exception inside rolls the block back and re-raises."""
        current = self._transaction.get()
        outermost = current is None
        transaction = current or Transaction()
        token = self._transaction.set(transaction) if outermost else None
        savepoint = Savepoint(
            transaction, len(transaction.undo), len(transaction.notices), self._undo_to
        )
        try:
            yield savepoint
        except BaseException:
            savepoint.rollback()
            raise
        finally:
            if token is not None:
                self._transaction.reset(token)
                self._commit(transaction)

    def _create(
        self,
        object_name: str,
        payload: Mapping[str, Any],
        *,
        user_id: str = SANDBOX_USER_ID,
        at: dt.datetime | None = None,
    ) -> Record:
        obj = self.object_def(object_name)
        values = prepare_write(obj, payload, creating=True)
        self._check_references(obj, values)
        self._check_unique(obj, values, None)
        stamp = format_datetime(at or self.clock())
        record_id = self._next_id(obj)
        record: Record = {f.name: None for f in obj.fields}
        record.update(values)
        record.update(
            Id=record_id,
            IsDeleted=False,
            CreatedDate=stamp,
            CreatedById=user_id,
            LastModifiedDate=stamp,
            LastModifiedById=user_id,
            SystemModstamp=stamp,
        )
        if "OwnerId" in record and record["OwnerId"] is None:
            record["OwnerId"] = user_id
        self._write(obj.name, record_id, record, None)
        changed = tuple(name for name, value in record.items() if value is not None)
        self._notify("CREATE", obj.name, record, changed, (), user_id)
        return record

    def _update(
        self,
        object_name: str,
        record_id: str,
        payload: Mapping[str, Any],
        *,
        user_id: str = SANDBOX_USER_ID,
    ) -> Record:
        obj = self.object_def(object_name)
        current = self.live(obj.name, record_id)
        values = prepare_write(obj, payload, creating=False)
        self._check_references(obj, values)
        self._check_unique(obj, {**current, **values}, current["Id"])
        changed = tuple(k for k, v in values.items() if current.get(k) != v)
        nulled = tuple(k for k in changed if values[k] is None)
        stamp = format_datetime(self.clock())
        record = {**current, **values}
        record.update(LastModifiedDate=stamp, LastModifiedById=user_id, SystemModstamp=stamp)
        self._write(obj.name, current["Id"], record, None)
        system = ("LastModifiedDate", "LastModifiedById", "SystemModstamp")
        self._notify("UPDATE", obj.name, record, changed + system, nulled, user_id)
        return record

    def _delete(
        self, object_name: str | None, record_id: str, *, user_id: str = SANDBOX_USER_ID
    ) -> str:
        found = self.get(record_id)
        if found is None or (object_name is not None and found[0].name != object_name):
            raise not_found()
        obj, current = found
        if current["IsDeleted"]:
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        moment = self.clock()
        stamp = format_datetime(moment)
        record = {**current, "IsDeleted": True, "SystemModstamp": stamp}
        record.update(LastModifiedDate=stamp, LastModifiedById=user_id)
        self._write(obj.name, current["Id"], record, stamp)
        self._notify("DELETE", obj.name, record, (), (), user_id)
        return obj.name

    def create(
        self,
        object_name: str,
        payload: Mapping[str, Any],
        *,
        user_id: str = SANDBOX_USER_ID,
        at: dt.datetime | None = None,
    ) -> Record:
        """Validate and insert a record; return it (with Id and system fields).

        Raises:
            SalesforceApiError: the payload breaks a rule (see :mod:`.validation`), a
                reference points nowhere, or a unique value is taken.
        """
        with self.atomic():
            return self._create(object_name, payload, user_id=user_id, at=at)

    def update(
        self,
        object_name: str,
        record_id: str,
        payload: Mapping[str, Any],
        *,
        user_id: str = SANDBOX_USER_ID,
    ) -> Record:
        """Validate and apply a partial update; return the new record."""
        with self.atomic():
            return self._update(object_name, record_id, payload, user_id=user_id)

    def delete(
        self, object_name: str | None, record_id: str, *, user_id: str = SANDBOX_USER_ID
    ) -> str:
        """Move a record to the recycle bin; return its object name."""
        with self.atomic():
            return self._delete(object_name, record_id, user_id=user_id)

    # -- internals -----------------------------------------------------------------------

    def _next_id(self, obj: ObjectDef) -> str:
        counter = self._counters.get(obj.key_prefix, 0) + 1
        self._counters[obj.key_prefix] = counter
        return make_id(obj.key_prefix, counter)

    def _check_references(self, obj: ObjectDef, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            field_def = obj.field(name)
            if field_def is None or field_def.type != "reference" or value is None:
                continue
            target = self.get(value)
            if target is None or target[0].name != field_def.reference_to:
                raise SalesforceApiError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"invalid cross reference id: {value} is not a {field_def.reference_to}",
                    [field_def.name],
                )
            if target[1]["IsDeleted"]:
                raise SalesforceApiError(
                    400, "ENTITY_IS_DELETED", "entity is deleted", [field_def.name]
                )

    def _check_unique(self, obj: ObjectDef, record: Mapping[str, Any], own_id: str | None) -> None:
        for fields in self._index_keys[obj.name]:
            if len(fields) == 1:
                field_def = obj.field(fields[0])
                if field_def is not None and not field_def.unique:
                    continue  # a non-unique external id may match several records
            key = tuple(_index_value(record.get(f)) for f in fields)
            if any(part is None for part in key):
                continue
            others = self._indexes.get((obj.name, fields), {}).get(key, set()) - {own_id}
            if others:
                raise SalesforceApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {', '.join(fields)} duplicates value on record "
                    f"with id: {min(others)}",
                    list(fields),
                )

    def _write(
        self, object_name: str, record_id: str, record: Record | None, deleted: str | None
    ) -> None:
        transaction = self._transaction.get()
        if transaction is not None:
            before = self._records[object_name].get(record_id)
            transaction.undo.append(
                UndoEntry(object_name, record_id, before, self._deleted_at.get(record_id))
            )
        self._put(object_name, record_id, record, deleted)

    def _put(
        self, object_name: str, record_id: str, record: Record | None, deleted: str | None
    ) -> None:
        previous = self._records[object_name].get(record_id)
        if previous is not None:
            self._unindex(object_name, previous)
        if record is None:
            self._records[object_name].pop(record_id, None)
        else:
            self._records[object_name][record_id] = record
            self._index(object_name, record)
        if deleted is None:
            self._deleted_at.pop(record_id, None)
        else:
            self._deleted_at[record_id] = deleted
        self._dirty.add((object_name, record_id))

    def _index(self, object_name: str, record: Record) -> None:
        if record["IsDeleted"]:
            return
        for fields in self._index_keys[object_name]:
            key = tuple(_index_value(record.get(f)) for f in fields)
            if all(part is not None for part in key):
                index = self._indexes.setdefault((object_name, fields), {})
                index.setdefault(key, set()).add(record["Id"])

    def _unindex(self, object_name: str, record: Record) -> None:
        for fields in self._index_keys[object_name]:
            key = tuple(_index_value(record.get(f)) for f in fields)
            index = self._indexes.get((object_name, fields), {})
            index.get(key, set()).discard(record["Id"])

    def _undo_to(self, transaction: Transaction, mark: int) -> None:
        while len(transaction.undo) > mark:
            undo = transaction.undo.pop()
            self._put(undo.object_name, undo.record_id, undo.before, undo.deleted_at_before)

    def _notify(
        self,
        change_type: ChangeType,
        object_name: str,
        record: Record,
        changed: tuple[str, ...],
        nulled: tuple[str, ...],
        user_id: str,
    ) -> None:
        notice = ChangeNotice(
            change_type,
            object_name,
            record["Id"],
            changed,
            nulled,
            dict(record),
            user_id,
            self.clock(),
        )
        transaction = self._transaction.get()
        if transaction is None:
            self._publish([notice])
        else:
            transaction.notices.append(notice)

    def _commit(self, transaction: Transaction) -> None:
        if self.persistence is not None and self._dirty:
            rows = [
                (name, rid, self._records[name].get(rid), self._deleted_at.get(rid))
                for name, rid in sorted(self._dirty)
            ]
            self.persistence.save(rows, dict(self._counters))
        self._dirty.clear()
        self._publish(transaction.notices)

    def _publish(self, notices: list[ChangeNotice]) -> None:
        if not notices:
            return
        for listener in self.listeners:
            listener(list(notices))

    def _put_sandbox_user(self) -> None:
        stamp = format_datetime(self.clock())
        user: Record = {f.name: None for f in self.schema.objects["User"].fields}
        user.update(
            Id=SANDBOX_USER_ID,
            IsDeleted=False,
            Username="integration@sandbox.isthmus.local",
            Name="Integration User",
            Email="integration@sandbox.isthmus.local",
            IsActive=True,
            CurrencyIsoCode="USD",
            CreatedDate=stamp,
            CreatedById=SANDBOX_USER_ID,
            LastModifiedDate=stamp,
            LastModifiedById=SANDBOX_USER_ID,
            SystemModstamp=stamp,
        )
        self._put("User", SANDBOX_USER_ID, user, None)
        self._counters["005"] = max(self._counters.get("005", 0), 1)
        self._dirty.add(("User", SANDBOX_USER_ID))

    def _load(self, persistence: SqlitePersistence) -> None:
        for stored in persistence.load():
            self._put(stored.object_name, stored.record["Id"], stored.record, stored.deleted_at)
        self._counters.update(persistence.load_counters())
        self._dirty.clear()


def _index_value(value: Any) -> Any:
    # Salesforce matches external ids and unique text case-insensitively.
    return value.lower() if isinstance(value, str) else value
