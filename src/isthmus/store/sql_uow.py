"""The unit of work of the SQL store: every write of one block in one transaction.

Invariants:
- all writes of one ``with store.unit_of_work()`` block commit together or not at all
  (the engine advances a cursor with the links, bases and audit of the same writes);
- a ``LinkConflictError`` never poisons the transaction: links are inserted with
  ``ON CONFLICT DO NOTHING`` and checked afterwards, so no statement fails on
  PostgreSQL and the caller may catch the error and carry on in the same block;
- audit rows and counter deltas are buffered and written by ``flush()`` just before
  commit, as one executemany each: a sync of 100,000 records writes them in bulk.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, update

from isthmus.connectors.base import Cursor
from isthmus.model.flat import Flat
from isthmus.store import tables as t
from isthmus.store.base import UnitOfWork
from isthmus.store.sql_statements import prepared
from isthmus.store.types import (
    AuditEvent,
    DeadLetter,
    DeadLetterStatus,
    LinkConflictError,
    PendingWrite,
    ReviewItem,
    ReviewStatus,
    Xref,
)

AUDIT_COLUMNS = tuple(f.name for f in dataclass_fields(AuditEvent) if f.name != "id")
_SCALARS = (str, int, bool, type(None))


def now() -> datetime:
    return datetime.now(UTC)


def _row(value: Any) -> dict[str, Any]:
    """A dataclass as a row, shallowly (``dataclasses.asdict`` deep-copies: too slow)."""
    return {f.name: getattr(value, f.name) for f in dataclass_fields(value)}


def _frozen(value: Any) -> Any:
    return value if isinstance(value, _SCALARS) else copy.deepcopy(value)


class SqlUnitOfWork(UnitOfWork):
    """Writes on one connection inside one open transaction (see ``SqlStore``)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._sql = prepared(connection.dialect.name)
        self._audit: list[dict[str, Any]] = []
        self._counters: dict[tuple[str, str], int] = {}

    def flush(self) -> None:
        """Write the buffered audit rows and counter deltas (called before commit)."""
        if self._audit:
            self.connection.execute(t.audit_events.insert(), self._audit)
            self._audit = []
        if self._counters:
            # Sorted: concurrent workers then lock counter rows in one order (no deadlock).
            rows = [
                {"name": name, "key": key, "value": delta}
                for (name, key), delta in sorted(self._counters.items())
            ]
            self.connection.execute(self._sql.add_counters, rows)
            self._counters = {}

    # -- links and bases --------------------------------------------------------------
    def add_xref(self, xref: Xref) -> None:
        row = {
            "canonical_id": xref.canonical_id,
            "entity": xref.entity,
            "system": xref.system,
            "native_id": xref.native_id,
            "content_hash": xref.content_hash,
            "seen_at": xref.seen_at,
        }
        # A holder can vanish between our insert and our look (a concurrent unlink on
        # PostgreSQL); then the insert is simply tried again.
        for _ in range(3):
            if self.connection.execute(self._sql.insert_xref, row).first() is not None:
                return
            # Nothing inserted: the same link exists (idempotent) or a rule is taken.
            holders = self.connection.execute(self._sql.xref_holders, row).all()
            others = [holder for holder in holders if holder.canonical_id != xref.canonical_id]
            others += [
                holder
                for holder in holders
                if holder.canonical_id == xref.canonical_id
                and (holder.entity, holder.native_id) != (xref.entity, xref.native_id)
            ]
            if others:
                raise LinkConflictError(_conflict_message(xref, others[0]))
            if holders:
                return
        raise LinkConflictError(f"could not link {xref}: its rows keep changing; retry")

    def touch_xref(
        self,
        entity: str,
        system: str,
        native_id: str,
        content_hash: str | None,
        seen_at: datetime | None = None,
    ) -> None:
        self.connection.execute(
            self._sql.touch_xref,
            {
                "w_entity": entity,
                "w_system": system,
                "w_native_id": native_id,
                "v_hash": content_hash,
                "v_seen_at": seen_at or now(),
            },
        )

    def remove_xref(self, entity: str, system: str, native_id: str) -> None:
        self.connection.execute(
            self._sql.remove_xref, {"entity": entity, "system": system, "native_id": native_id}
        )

    def set_base(self, canonical_id: str, entity: str, fields: Flat) -> None:
        self.connection.execute(
            self._sql.set_base,
            {
                "canonical_id": canonical_id,
                "entity": entity,
                "fields": fields,
                "version": 1,
                "updated_at": now(),
            },
        )

    def delete_base(self, canonical_id: str) -> None:
        self.connection.execute(self._sql.delete_base, {"canonical_id": canonical_id})

    # -- audit, cursors, pending writes -----------------------------------------------
    def add_audit(self, events: Iterable[AuditEvent]) -> None:
        for event in events:
            # Copied now: the caller may reuse its dicts before the buffer is flushed.
            row = {name: _frozen(getattr(event, name)) for name in AUDIT_COLUMNS}
            # Stamped now, not at flush, so events of one block keep their order in time.
            row["at"] = event.at or now()
            self._audit.append(row)

    def set_cursor(self, flow: str, system: str, object_name: str, cursor: Cursor) -> None:
        row = {
            "flow": flow,
            "system": system,
            "object_name": object_name,
            "cursor": cursor,
            "updated_at": now(),
        }
        self.connection.execute(self._sql.set_cursor, row)

    def add_pending_write(self, pending: PendingWrite) -> None:
        row = _row(pending)
        row["created_at"] = pending.created_at or now()
        self.connection.execute(self._sql.put_pending_write, row)

    def remove_pending_write(self, key: str) -> None:
        self.connection.execute(self._sql.remove_pending_write, {"key": key})

    # -- dead letters, review items, counters -----------------------------------------
    def put_dead_letter(self, letter: DeadLetter) -> int:
        row = _row(letter)
        del row["id"]
        stamp = now()
        row["first_at"] = letter.first_at or stamp
        row["last_at"] = letter.last_at or stamp
        return int(self.connection.execute(self._sql.put_dead_letter, row).scalar_one())

    def set_dead_letter_status(
        self, flow: str, system: str, native_id: str, status: DeadLetterStatus
    ) -> int:
        result = self.connection.execute(
            self._sql.close_dead_letters,
            {
                "w_flow": flow,
                "w_system": system,
                "w_native_id": native_id,
                "v_status": status,
                "v_last_at": now(),
            },
        )
        return int(result.rowcount)

    def put_review_item(self, item: ReviewItem) -> int:
        row = _row(item)
        del row["id"]
        row["created_at"] = item.created_at or now()
        return int(self.connection.execute(self._sql.put_review_item, row).scalar_one())

    def resolve_review_item(
        self,
        item_id: int,
        status: ReviewStatus,
        resolution: dict[str, Any] | None,
        resolved_by: str,
    ) -> None:
        self.connection.execute(
            update(t.review_items)
            .where(t.review_items.c.id == item_id)
            .values(
                status=status, resolution=resolution, resolved_by=resolved_by, resolved_at=now()
            )
        )

    def bump_counter(self, name: str, key: str, delta: int = 1) -> None:
        self._counters[(name, key)] = self._counters.get((name, key), 0) + delta


def _conflict_message(xref: Xref, holder: Any) -> str:
    if holder.entity == xref.entity and holder.native_id == xref.native_id:
        return (
            f"{xref.entity} {xref.native_id!r} of {xref.system} is already linked to "
            f"canonical id {holder.canonical_id}, so it cannot be linked to "
            f"{xref.canonical_id}; re-read the link and update instead"
        )
    return (
        f"canonical id {xref.canonical_id} is already linked to {xref.system} "
        f"{holder.entity} {holder.native_id!r}, so {xref.entity} {xref.native_id!r} "
        f"cannot be linked to it; re-read the link and update instead"
    )
