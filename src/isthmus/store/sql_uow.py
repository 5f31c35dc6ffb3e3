"""The unit of work of the SQL store: every write of one block in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from isthmus.connectors.base import Cursor
from isthmus.model.flat import Flat
from isthmus.store import tables as t
from isthmus.store.base import UnitOfWork
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


def now() -> datetime:
    return datetime.now(UTC)


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._audit: list[dict[str, Any]] = []

    def flush(self) -> None:
        if self._audit:
            self.conn.execute(insert(t.audit_events), self._audit)
            self._audit = []

    def add_xref(self, xref: Xref) -> None:
        by_native = self.conn.execute(
            select(t.xrefs.c.canonical_id).where(
                t.xrefs.c.entity == xref.entity,
                t.xrefs.c.system == xref.system,
                t.xrefs.c.native_id == xref.native_id,
            )
        ).scalar_one_or_none()
        if by_native == xref.canonical_id:
            return
        if by_native is not None:
            raise LinkConflictError(
                f"{xref.entity} {xref.native_id!r} of {xref.system} is already linked to "
                f"{by_native}, not {xref.canonical_id}"
            )
        other = self.conn.execute(
            select(t.xrefs.c.native_id).where(
                t.xrefs.c.canonical_id == xref.canonical_id, t.xrefs.c.system == xref.system
            )
        ).scalar_one_or_none()
        if other is not None:
            raise LinkConflictError(
                f"{xref.entity} {xref.canonical_id} is already linked to {xref.system} record "
                f"{other!r}, not {xref.native_id!r}"
            )
        self.conn.execute(
            insert(t.xrefs).values(
                canonical_id=xref.canonical_id,
                entity=xref.entity,
                system=xref.system,
                native_id=xref.native_id,
                content_hash=xref.content_hash,
                seen_at=xref.seen_at,
            )
        )

    def touch_xref(
        self,
        entity: str,
        system: str,
        native_id: str,
        content_hash: str | None,
        seen_at: datetime | None = None,
    ) -> None:
        self.conn.execute(
            update(t.xrefs)
            .where(
                t.xrefs.c.entity == entity,
                t.xrefs.c.system == system,
                t.xrefs.c.native_id == native_id,
            )
            .values(content_hash=content_hash, seen_at=seen_at or now())
        )

    def remove_xref(self, entity: str, system: str, native_id: str) -> None:
        self.conn.execute(
            delete(t.xrefs).where(
                t.xrefs.c.entity == entity,
                t.xrefs.c.system == system,
                t.xrefs.c.native_id == native_id,
            )
        )

    def set_base(self, canonical_id: str, entity: str, fields: Flat) -> None:
        updated = self.conn.execute(
            update(t.bases)
            .where(t.bases.c.canonical_id == canonical_id)
            .values(fields=fields, version=t.bases.c.version + 1, updated_at=now())
        )
        if updated.rowcount == 0:
            self.conn.execute(
                insert(t.bases).values(
                    canonical_id=canonical_id,
                    entity=entity,
                    fields=fields,
                    version=1,
                    updated_at=now(),
                )
            )

    def delete_base(self, canonical_id: str) -> None:
        self.conn.execute(delete(t.bases).where(t.bases.c.canonical_id == canonical_id))

    def add_audit(self, events: Iterable[AuditEvent]) -> None:
        for event in events:
            row = asdict(event)
            row.pop("id")
            row["at"] = row["at"] or now()
            self._audit.append(row)

    def set_cursor(self, flow: str, system: str, object_name: str, cursor: Cursor) -> None:
        where = and_(
            t.cursors.c.flow == flow,
            t.cursors.c.system == system,
            t.cursors.c.object_name == object_name,
        )
        if (
            self.conn.execute(
                update(t.cursors).where(where).values(cursor=cursor, updated_at=now())
            ).rowcount
            == 0
        ):
            self.conn.execute(
                insert(t.cursors).values(
                    flow=flow,
                    system=system,
                    object_name=object_name,
                    cursor=cursor,
                    updated_at=now(),
                )
            )

    def add_pending_write(self, pending: PendingWrite) -> None:
        self.conn.execute(delete(t.pending_writes).where(t.pending_writes.c.key == pending.key))
        row = asdict(pending)
        row["created_at"] = row["created_at"] or now()
        self.conn.execute(insert(t.pending_writes).values(**row))

    def remove_pending_write(self, key: str) -> None:
        self.conn.execute(delete(t.pending_writes).where(t.pending_writes.c.key == key))

    def put_dead_letter(self, letter: DeadLetter) -> int:
        c = t.dead_letters.c
        existing = self.conn.execute(
            select(c.id).where(
                c.flow == letter.flow,
                c.system == letter.system,
                c.native_id == letter.native_id,
                c.status.in_(("open", "waiting")),
            )
        ).scalar_one_or_none()
        row = asdict(letter)
        row.pop("id")
        if existing is not None:
            for name in ("first_at", "attempts"):
                row.pop(name)
            row["last_at"] = now()
            self.conn.execute(
                update(t.dead_letters)
                .where(c.id == existing)
                .values(attempts=c.attempts + 1, **row)
            )
            return int(existing)
        row["first_at"] = row["last_at"] = now()
        key = self.conn.execute(insert(t.dead_letters).values(**row)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def set_dead_letter_status(
        self, flow: str, system: str, native_id: str, status: DeadLetterStatus
    ) -> int:
        c = t.dead_letters.c
        return int(
            self.conn.execute(
                update(t.dead_letters)
                .where(
                    c.flow == flow,
                    c.system == system,
                    c.native_id == native_id,
                    c.status.in_(("open", "waiting")),
                )
                .values(status=status, last_at=now())
            ).rowcount
        )

    def put_review_item(self, item: ReviewItem) -> int:
        c = t.review_items.c
        existing = self.conn.execute(
            select(c.id).where(
                c.flow == item.flow,
                c.subject_key == item.subject_key,
                c.kind == item.kind,
                c.status == "open",
            )
        ).scalar_one_or_none()
        if existing is not None:
            self.conn.execute(
                update(t.review_items).where(c.id == existing).values(details=item.details)
            )
            return int(existing)
        row = asdict(item)
        row.pop("id")
        row["created_at"] = now()
        key = self.conn.execute(insert(t.review_items).values(**row)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def resolve_review_item(
        self,
        item_id: int,
        status: ReviewStatus,
        resolution: dict[str, Any] | None,
        resolved_by: str,
    ) -> None:
        self.conn.execute(
            update(t.review_items)
            .where(t.review_items.c.id == item_id)
            .values(
                status=status, resolution=resolution, resolved_by=resolved_by, resolved_at=now()
            )
        )

    def bump_counter(self, name: str, key: str, delta: int = 1) -> None:
        c = t.counters.c
        if (
            self.conn.execute(
                update(t.counters).where(c.name == name, c.key == key).values(value=c.value + delta)
            ).rowcount
            == 0
        ):
            self.conn.execute(insert(t.counters).values(name=name, key=key, value=delta))
