"""``MemoryConnector``: a whole system in a dict, with a change log and injectable faults.

It behaves like a careful vendor API so the engine can be tested without I/O:
- every change (ours or a user's) takes the next sequence number, and ``read_changes``
  is a closed-open window over that log, so a cursor never skips or repeats a change;
- deletes leave tombstones in the log;
- writes are validated against the object's description (required, length, picklist,
  read-only, unique) and refused per record with the field named, as a vendor would;
- an external key field makes creates idempotent (upsert, lookup after a lost answer);
- a ``FaultPlan`` makes calls fail, answers get lost after the write landed, single
  records fail, and business rules refuse records.

Tests edit the system "as a user would" with :meth:`put` and :meth:`remove`, which
go through the same log as connector writes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from isthmus.connectors.base import (
    Capabilities,
    ChangePage,
    Cursor,
    FieldDescription,
    NativeFields,
    NativeRecord,
    ObjectDescription,
    WebhookEvent,
    WriteOp,
    WriteResult,
)
from isthmus.errors import ConfigError, RecordError
from isthmus.testing.faults import FaultPlan

SIGNATURE_HEADER = "x-isthmus-signature"
TIMESTAMP_HEADER = "x-isthmus-timestamp"
# A delivery older (or newer) than this is refused: a captured request cannot be replayed.
WEBHOOK_WINDOW_SECONDS = 300
ChangeKind = Literal["created", "updated", "deleted", "unknown"]
_CHANGE_KINDS: tuple[ChangeKind, ...] = ("created", "updated", "deleted", "unknown")


@dataclass
class _Row:
    fields: NativeFields
    seq: int
    modified_at: datetime
    deleted: bool = False


@dataclass
class _Table:
    description: ObjectDescription
    rows: dict[str, _Row] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class MemoryConnector:
    """An in-memory system; see the module docstring for what it guarantees."""

    def __init__(
        self,
        name: str,
        objects: Sequence[ObjectDescription],
        *,
        faults: FaultPlan | None = None,
        capabilities: Capabilities | None = None,
        webhook_secret: str | None = None,
        reformat: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.name = name
        # How this system rewrites values it stores (digits-only phones, trimmed text),
        # applied to connector writes, as a real system would.
        self.reformat = dict(reformat or {})
        self.capabilities = capabilities or Capabilities(
            batch_size=200,
            upsert_by_external_id=any(o.external_key for o in objects),
            webhooks=webhook_secret is not None,
        )
        self.faults = faults or FaultPlan()
        self.webhook_secret = webhook_secret
        self._tables = {o.name: _Table(o) for o in objects}
        self._seq = 0
        self._last_stamp = datetime(2026, 1, 1, tzinfo=UTC)
        self.calls: dict[str, int] = {}
        # Every change as a webhook event would announce it (for webhook tests).
        self.outbox: list[WebhookEvent] = []
        self.closed = False

    # -- test-side access: the system as its users see it ------------------------------

    def put(self, object_name: str, fields: NativeFields, record_id: str | None = None) -> str:
        """Create or edit a record as a user would (no validation, no faults)."""
        table = self._table(object_name)
        key = table.description.key
        record_id = record_id or str(fields.get(key) or self._new_id(table))
        row = table.rows.get(record_id)
        merged = {**(row.fields if row and not row.deleted else {}), **fields, key: record_id}
        self._log(table, record_id, merged, deleted=False)
        return record_id

    def remove(self, object_name: str, record_id: str) -> None:
        """Delete a record as a user would; it stays in the log as a tombstone."""
        table = self._table(object_name)
        row = table.rows.get(record_id)
        if row is None or row.deleted:
            raise KeyError(f"{self.name}: {object_name} {record_id!r} does not exist")
        self._log(table, record_id, row.fields, deleted=True)

    def get(self, object_name: str, record_id: str) -> NativeFields | None:
        row = self._table(object_name).rows.get(record_id)
        return None if row is None or row.deleted else dict(row.fields)

    def records(self, object_name: str) -> dict[str, NativeFields]:
        """Every live record of an object, by id."""
        return {
            record_id: dict(row.fields)
            for record_id, row in self._table(object_name).rows.items()
            if not row.deleted
        }

    def sign(self, body: bytes, at: float | None = None) -> dict[str, str]:
        """Headers a genuine webhook from this system carries for ``body``: an HMAC of
        the timestamp and the body, so neither can be changed or replayed later."""
        if self.webhook_secret is None:
            raise ValueError(f"{self.name}: no webhook secret configured")
        stamp = str(int(time.time() if at is None else at))
        signed = stamp.encode() + b"." + body
        digest = hmac.new(self.webhook_secret.encode(), signed, hashlib.sha256).hexdigest()
        return {SIGNATURE_HEADER: f"sha256={digest}", TIMESTAMP_HEADER: stamp}

    def webhook_body(self, events: Sequence[WebhookEvent]) -> bytes:
        payload = [
            {"id": e.event_id, "object": e.object, "record": e.id, "change": e.change}
            for e in events
        ]
        return json.dumps({"events": payload}).encode()

    # -- bookkeeping -------------------------------------------------------------------

    def _table(self, object_name: str) -> _Table:
        table = self._tables.get(object_name)
        if table is None:
            raise ConfigError(
                f"system {self.name!r} has no object {object_name!r}; "
                f"it has: {', '.join(self._tables)}"
            )
        return table

    def _new_id(self, table: _Table) -> str:
        while True:
            candidate = f"{table.description.name[:3].upper()}{next(table.ids):06d}"
            if candidate not in table.rows:
                return candidate

    def _count(self, call: str) -> None:
        self.calls[call] = self.calls.get(call, 0) + 1

    def _log(self, table: _Table, record_id: str, fields: NativeFields, *, deleted: bool) -> _Row:
        # One sequence number per change, and a strictly increasing clock, so the change
        # log has a total order and timestamps never tie (ties are tested elsewhere).
        self._seq += 1
        self._last_stamp = max(datetime.now(UTC), self._last_stamp + timedelta(microseconds=1))
        change: ChangeKind = (
            "deleted" if deleted else "updated" if record_id in table.rows else "created"
        )
        row = _Row(dict(fields), self._seq, self._last_stamp, deleted)
        table.rows[record_id] = row
        self.outbox.append(
            WebhookEvent(f"{self.name}-{self._seq}", table.description.name, record_id, change)
        )
        return row

    def _native(self, table: _Table, record_id: str, row: _Row) -> NativeRecord:
        return NativeRecord(record_id, dict(row.fields), row.modified_at, row.deleted)

    # -- the connector interface --------------------------------------------------------

    async def describe(self, object_name: str) -> ObjectDescription:
        self._count("describe")
        return self._table(object_name).description

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        table = self._table(object_name)
        after = int(cursor["seq"]) if cursor else 0
        while True:
            self._count("read_changes")
            self.faults.before_call(f"{self.name}: read {object_name}")
            # A full read (no cursor) reports live records only: there is nothing to
            # delete on the other side for a record it has never seen.
            changed = sorted(
                (
                    (rid, row)
                    for rid, row in table.rows.items()
                    if row.seq > after and (cursor is not None or not row.deleted)
                ),
                key=lambda item: item[1].seq,
            )[:page_size]
            if changed:
                after = changed[-1][1].seq
            records = [self._native(table, rid, row) for rid, row in changed]
            yield ChangePage(records, {"seq": after}, full=cursor is None)
            if len(changed) < page_size:
                return

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        self._count("read_by_ids")
        self.faults.before_call(f"{self.name}: read {object_name} by id")
        table = self._table(object_name)
        return {
            rid: self._native(table, rid, row)
            for rid in ids
            if (row := table.rows.get(rid)) is not None and not row.deleted
        }

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        self._count("lookup")
        self.faults.before_call(f"{self.name}: look up {object_name}.{field_name}")
        table = self._table(object_name)
        wanted = {str(v) for v in values}
        grouped: dict[str, list[NativeRecord]] = {}
        for rid, row in table.rows.items():
            value = row.fields.get(field_name)
            if not row.deleted and value is not None and str(value) in wanted:
                grouped.setdefault(str(value), []).append(self._native(table, rid, row))
        return grouped

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        self._count("write")
        table = self._table(object_name)
        if len(ops) > self.capabilities.batch_size:
            raise ValueError(
                f"{self.name}: a batch of {len(ops)} exceeds the batch size "
                f"{self.capabilities.batch_size}; the engine must split batches"
            )
        self.faults.before_call(f"{self.name}: write {len(ops)} {object_name}")
        results = [self._apply(table, op) for op in ops]
        if self.faults.loses_answer():
            raise self.faults.lost_answer_error(f"{self.name}: write {len(ops)} {object_name}")
        return results

    def _apply(self, table: _Table, op: WriteOp) -> WriteResult:
        if self.reformat:
            fields = {
                k: self.reformat[k](v) if k in self.reformat else v for k, v in op.fields.items()
            }
            op = replace(op, fields=fields)
        description = table.description
        injected = self.faults.record_failure(description.name, dict(op.fields))
        if injected is not None:
            return WriteResult(op.ref, "failed", op.id, error=injected)
        if op.kind == "delete":
            row = table.rows.get(op.id or "")
            if row is None or row.deleted:
                return _failed(op, "not_found", f"{description.name} {op.id!r} does not exist")
            self._log(table, op.id or "", row.fields, deleted=True)
            return WriteResult(op.ref, "deleted", op.id)
        target_id = op.id
        if op.kind in ("create", "upsert") and op.external_key and description.external_key:
            existing = [
                rid
                for rid, row in table.rows.items()
                if not row.deleted and row.fields.get(description.external_key) == op.external_key
            ]
            if len(existing) > 1:
                return _failed(
                    op, "conflict", f"external key {op.external_key!r} matches several records"
                )
            if existing and op.kind == "upsert":
                target_id = existing[0]
        creating = op.kind in ("create", "upsert") and target_id is None
        error = _validate(description, op.fields, creating=creating)
        if error is None:
            error = self._unique(table, op.fields, target_id)
        if error is not None:
            return WriteResult(op.ref, "failed", op.id, error=error)
        if creating:
            fields = dict(op.fields)
            if op.external_key and description.external_key:
                fields[description.external_key] = op.external_key
            new_id = str(fields.get(description.key) or self._new_id(table))
            fields[description.key] = new_id
            row = self._log(table, new_id, fields, deleted=False)
            return WriteResult(op.ref, "created", new_id, modified_at=row.modified_at)
        current = table.rows.get(target_id or "")
        if current is None or current.deleted:
            return _failed(op, "not_found", f"{description.name} {target_id!r} does not exist")
        if op.if_match is not None and op.if_match != str(current.seq):
            return _failed(op, "conflict", f"{description.name} {target_id!r} changed meanwhile")
        merged = {**current.fields, **op.fields}
        if merged == current.fields:
            return WriteResult(op.ref, "unchanged", target_id, modified_at=current.modified_at)
        row = self._log(table, target_id or "", merged, deleted=False)
        return WriteResult(op.ref, "updated", target_id, modified_at=row.modified_at)

    def _unique(
        self, table: _Table, fields: NativeFields, own_id: str | None
    ) -> RecordError | None:
        for name, value in fields.items():
            spec = table.description.field(name)
            if spec is None or not spec.unique or value is None:
                continue
            for rid, row in table.rows.items():
                if rid != own_id and not row.deleted and row.fields.get(name) == value:
                    return RecordError(
                        "conflict",
                        f"{table.description.name}.{name} {value!r} is already used by {rid}",
                        field=name,
                        vendor_code="DUPLICATE_VALUE",
                    )
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        if self.webhook_secret is None:
            raise ValueError(f"{self.name}: webhooks are not enabled (no webhook_secret)")
        lowered = {k.lower(): v for k, v in headers.items()}
        stamp = lowered.get(TIMESTAMP_HEADER, "")
        if not stamp.isdigit():
            raise ValueError(f"{self.name}: webhook timestamp missing; refused")
        if abs(time.time() - int(stamp)) > WEBHOOK_WINDOW_SECONDS:
            raise ValueError(
                f"{self.name}: webhook timestamp {stamp} is outside the "
                f"{WEBHOOK_WINDOW_SECONDS} s window (replayed, or a clock is wrong); refused"
            )
        expected = self.sign(body, at=int(stamp))[SIGNATURE_HEADER]
        if not hmac.compare_digest(lowered.get(SIGNATURE_HEADER, ""), expected):
            raise ValueError(f"{self.name}: webhook signature missing or wrong; refused")
        try:
            payload = json.loads(body)
            events = []
            for event in payload["events"]:
                change = event["change"]
                if change not in _CHANGE_KINDS:
                    raise ValueError(f"unknown change {change!r}")
                events.append(
                    WebhookEvent(
                        str(event["id"]), str(event["object"]), event.get("record"), change
                    )
                )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{self.name}: webhook body is not an event list: {error}") from None
        return events

    async def close(self) -> None:
        self.closed = True


def _failed(op: WriteOp, kind: Any, message: str, field_name: str | None = None) -> WriteResult:
    return WriteResult(op.ref, "failed", op.id, error=RecordError(kind, message, field=field_name))


def _validate(
    description: ObjectDescription, fields: NativeFields, *, creating: bool
) -> RecordError | None:
    """What a careful vendor checks before it accepts a record."""
    for name, value in fields.items():
        spec = description.field(name)
        if spec is None:
            return RecordError(
                "validation", f"{description.name} has no field {name!r}", field=name
            )
        if spec.read_only and name != description.key:
            return RecordError("validation", f"{description.name}.{name} is read-only", field=name)
        if isinstance(value, str) and spec.length is not None and len(value) > spec.length:
            return RecordError(
                "validation",
                f"{description.name}.{name} is {len(value)} characters; at most "
                f"{spec.length} are allowed",
                field=name,
                vendor_code="STRING_TOO_LONG",
            )
        if spec.picklist is not None and value is not None and value not in spec.picklist:
            return RecordError(
                "validation",
                f"{description.name}.{name} {value!r} is not one of {', '.join(spec.picklist)}",
                field=name,
                vendor_code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            )
    if creating:
        for spec in description.fields.values():
            if spec.required and fields.get(spec.name) in (None, ""):
                return RecordError(
                    "validation",
                    f"{description.name}.{spec.name} is required",
                    field=spec.name,
                    vendor_code="REQUIRED_FIELD_MISSING",
                )
    return None


def describe_object(
    name: str,
    fields: Mapping[str, FieldDescription],
    *,
    key: str = "Id",
    external_key: str | None = None,
) -> ObjectDescription:
    """An object description with the key (read-only id) field added."""
    all_fields = {key: FieldDescription(key, "id", read_only=True), **fields}
    if external_key and external_key not in all_fields:
        all_fields[external_key] = FieldDescription(external_key, "string", 64, external_id=True)
    return ObjectDescription(name, key, all_fields, external_key=external_key)
