"""The unit of work of the SQL store: every write of one block in one transaction.

Invariants:
- all writes of one ``with store.unit_of_work()`` block commit together or not at all
  (the engine advances a cursor with the links, bases and audit of the same writes);
- a ``LinkConflictError`` never poisons the transaction: links are inserted with
  ``ON CONFLICT DO NOTHING`` and checked afterwards, so no statement fails on
  PostgreSQL and the caller may catch the error and carry on in the same block;
- writes that return nothing and cannot fail alone (audit rows, counter deltas, bases,
  pending writes, and the links, hashes and letter closes asked ``*_at_commit``) are
  buffered and written by ``flush()`` just before commit, a few statements per kind: a
  sync of 100,000 records writes them in bulk. Order per record is kept: a buffered
  write is sent before any later statement that could see it or be affected by it
  (``delete_base`` after ``set_base``, a link look-up after links at commit, ...).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, update

from isthmus.connectors.base import Cursor
from isthmus.model.flat import Flat
from isthmus.security.redact import redact_text
from isthmus.store import sql_links
from isthmus.store import tables as t
from isthmus.store.base import UnitOfWork
from isthmus.store.sql_statements import OPEN_LETTER, prepared
from isthmus.store.types import (
    AuditEvent,
    DeadLetter,
    DeadLetterStatus,
    LinkConflictError,
    PendingWrite,
    ReviewItem,
    ReviewStatus,
    ValueProtector,
    Xref,
    XrefTouch,
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

    def __init__(self, connection: Connection, protector: ValueProtector | None = None) -> None:
        self.connection = connection
        self.protector = protector
        self._sql = prepared(connection.dialect.name)
        self._audit: list[dict[str, Any]] = []
        self._counters: dict[tuple[str, str], int] = {}
        self._bases: list[dict[str, Any]] = []
        # ("put" | "remove", row) in call order: a put and a remove of one key must not swap.
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._links: list[Xref] = []
        self._touches: dict[tuple[str, str, str], XrefTouch] = {}
        self._closes: dict[tuple[str, str, str], DeadLetterStatus] = {}

    def flush(self) -> None:
        """Write every buffered write (called before commit). Links first: a conflict
        raises here, before anything else is sent, and the block rolls back."""
        self._flush_links()
        self._flush_closes()
        self._flush_bases()
        self._flush_pending()
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

    def _flush_links(self) -> None:
        # Links before hashes: a hash is set on the link added just before.
        if self._links:
            links, self._links = self._links, []
            self._add_xrefs_now(links)
        if self._touches:
            touches, self._touches = list(self._touches.values()), {}
            self._touch_xrefs_now(touches)

    def _flush_closes(self) -> None:
        if not self._closes:
            return
        closes, self._closes = self._closes, {}
        groups: dict[tuple[str, str, DeadLetterStatus], list[str]] = {}
        for (flow, system, native_id), status in closes.items():
            groups.setdefault((flow, system, status), []).append(native_id)
        for (flow, system, status), native_ids in groups.items():
            self.close_dead_letters(flow, system, native_ids, status)

    def _flush_bases(self) -> None:
        if self._bases:
            # One executemany: each row is its own upsert, run in order, so a record set
            # twice gets both version bumps, as with two calls.
            self.connection.execute(self._sql.set_base, self._bases)
            self._bases = []

    def _flush_pending(self) -> None:
        run: list[dict[str, Any]] = []
        kind = ""
        for next_kind, row in [*self._pending, ("end", {})]:
            if run and next_kind != kind:
                statement = (
                    self._sql.put_pending_write if kind == "put" else self._sql.remove_pending_write
                )
                self.connection.execute(statement, run)
                run = []
            kind = next_kind
            run.append(row)
        self._pending = []

    # -- links and bases --------------------------------------------------------------
    def add_xref(self, xref: Xref) -> None:
        self._flush_links()
        self._add_xref_now(xref)

    def _add_xref_now(self, xref: Xref) -> None:
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
        self._flush_links()
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
        self._flush_links()
        self.connection.execute(
            self._sql.remove_xref, {"entity": entity, "system": system, "native_id": native_id}
        )

    def add_xrefs(self, xrefs: Sequence[Xref]) -> None:
        self._flush_links()
        self._add_xrefs_now(xrefs)

    def _add_xrefs_now(self, xrefs: Sequence[Xref]) -> None:
        sql_links.add_xrefs(
            self.connection, self._sql, xrefs, self._add_xref_now, _conflict_message
        )

    def touch_xrefs(self, touches: Sequence[XrefTouch]) -> None:
        self._flush_links()
        self._touch_xrefs_now(touches)

    def _touch_xrefs_now(self, touches: Sequence[XrefTouch]) -> None:
        stamp = now()
        for chunk in sql_links.chunks(touches):
            rows = [sql_links.touch_row(touch, stamp) for touch in chunk]
            self.connection.execute(self._sql.touch_xref, rows)

    def add_xref_at_commit(self, xref: Xref) -> None:
        self._links.append(xref)

    def touch_xref_at_commit(self, touch: XrefTouch) -> None:
        if touch.seen_at is None:
            # Stamped now, like an immediate touch, not when the buffer is written.
            touch = XrefTouch(
                touch.entity, touch.system, touch.native_id, touch.content_hash, now()
            )
        key = (touch.entity, touch.system, touch.native_id)
        # A later touch of the same record wins, as it would one call after the other.
        self._touches.pop(key, None)
        self._touches[key] = touch

    def set_base(self, canonical_id: str, entity: str, fields: Flat) -> None:
        self._bases.append(
            {
                "canonical_id": canonical_id,
                "entity": entity,
                # Copied now: the caller may reuse its dict before the buffer is written.
                "fields": dict(fields)
                if self.protector is None
                else self.protector.seal_fields(entity, fields),
                "version": 1,
                "updated_at": now(),
            }
        )

    def delete_base(self, canonical_id: str) -> None:
        self._flush_bases()
        self.connection.execute(self._sql.delete_base, {"canonical_id": canonical_id})

    # -- audit, cursors, pending writes -----------------------------------------------
    def add_audit(self, events: Iterable[AuditEvent]) -> None:
        for event in events:
            # Copied now: the caller may reuse its dicts before the buffer is flushed.
            row = {name: _frozen(getattr(event, name)) for name in AUDIT_COLUMNS}
            # Stamped now, not at flush, so events of one block keep their order in time.
            row["at"] = event.at or now()
            if self.protector is not None:
                self.protector.seal_audit(row)
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
        # Buffered: the pending write still commits before the create is sent, because
        # the engine sends only after this block committed.
        self._pending.append(("put", row))

    def remove_pending_write(self, key: str) -> None:
        self._pending.append(("remove", {"key": key}))

    # -- dead letters, review items, counters -----------------------------------------
    def put_dead_letter(self, letter: DeadLetter) -> int:
        if (letter.flow, letter.system, letter.native_id) in self._closes:
            self._flush_closes()  # the close was asked first, so it happens first
        row = _row(letter)
        del row["id"]
        # A vendor's message may echo a request (a token, a password): hidden before it
        # is stored, so neither the store nor a person reading the letter sees it.
        for name in ("message", "vendor_message"):
            if row[name]:
                row[name] = redact_text(row[name])
        stamp = now()
        row["first_at"] = letter.first_at or stamp
        row["last_at"] = letter.last_at or stamp
        return int(self.connection.execute(self._sql.put_dead_letter, row).scalar_one())

    def set_dead_letter_status(
        self, flow: str, system: str, native_id: str, status: DeadLetterStatus
    ) -> int:
        self._flush_closes()
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

    def close_dead_letters(
        self, flow: str, system: str, native_ids: Sequence[str], status: DeadLetterStatus
    ) -> int:
        self._flush_closes()
        c = t.dead_letters.c
        closed = 0
        for chunk in sql_links.chunks(list(dict.fromkeys(native_ids))):
            result = self.connection.execute(
                update(t.dead_letters)
                .where(
                    c.flow == flow,
                    c.system == system,
                    c.native_id.in_(chunk),
                    c.status.in_(OPEN_LETTER),
                )
                .values(status=status, last_at=now())
            )
            closed += int(result.rowcount)
        return closed

    def close_dead_letter_at_commit(
        self, flow: str, system: str, native_id: str, status: DeadLetterStatus
    ) -> None:
        # The first close of a record decides, as it would one call after the other
        # (a second finds no open letter left).
        self._closes.setdefault((flow, system, native_id), status)

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
