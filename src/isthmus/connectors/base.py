"""The connector interface: the same small surface for every vendor.

A connector speaks one vendor's API and knows nothing of flows, links or policies.
It can: describe its objects and fields; read changes since a cursor (tombstones for
deletes); read records by id; look records up by a field value (for idempotent
creates and duplicate checks); write a batch and return one result per record; and
parse and verify an inbound webhook. Paging, auth, rate limits and the vendor's error
shapes stay inside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from isthmus.errors import RecordError

FieldType = Literal[
    "string",
    "text",
    "integer",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "picklist",
    "reference",
    "id",
    "json",
]

NativeFields = dict[str, Any]
Cursor = dict[str, Any]  # opaque to the engine, JSON-serialisable, owned by the connector


@dataclass(frozen=True)
class FieldDescription:
    name: str
    type: FieldType = "string"
    length: int | None = None
    required: bool = False
    picklist: tuple[str, ...] | None = None
    read_only: bool = False
    external_id: bool = False
    unique: bool = False
    references: str | None = None  # native object name a reference field points at


@dataclass(frozen=True)
class ObjectDescription:
    name: str
    key: str
    fields: Mapping[str, FieldDescription]
    # The field where Isthmus can store its idempotency key (canonical id), if any.
    external_key: str | None = None
    deletable: bool = True

    def field(self, name: str) -> FieldDescription | None:
        return self.fields.get(name)


@dataclass(frozen=True)
class Capabilities:
    batch_size: int = 200
    bulk: bool = False
    upsert_by_external_id: bool = False
    webhooks: bool = False
    lookup: bool = True
    # Whether read_changes reports deletes; if not, only reconciliation finds them.
    delete_feed: bool = True


@dataclass(frozen=True)
class NativeRecord:
    """One record as the vendor has it, or a tombstone when ``deleted``."""

    id: str
    fields: NativeFields
    modified_at: datetime | None = None
    deleted: bool = False
    # Set when the system holds the record but it cannot be read as valid (a bad row in
    # an inbound file): the engine sets it aside as a dead letter with this error.
    error: RecordError | None = None


@dataclass(frozen=True)
class ChangePage:
    """A page of changes, in cursor order, and the cursor just after them."""

    records: Sequence[NativeRecord]
    cursor: Cursor
    # True when this page came from a full read (no cursor), so an empty result means
    # the side is really empty (safety valve input).
    full: bool = False


WriteKind = Literal["create", "update", "delete", "upsert"]


@dataclass(frozen=True)
class WriteOp:
    """One record to write. ``ref`` is the caller's handle, echoed in the result."""

    ref: str
    kind: WriteKind
    fields: NativeFields = field(default_factory=dict)
    id: str | None = None
    # For creates and upserts: the idempotency key the connector stores in the object's
    # external key field, so a repeated create can be found instead of duplicated.
    external_key: str | None = None
    # Optimistic concurrency: the version (etag) the update was planned against.
    if_match: str | None = None


WriteOutcome = Literal["created", "updated", "deleted", "unchanged", "failed"]


@dataclass(frozen=True)
class WriteResult:
    ref: str
    outcome: WriteOutcome
    id: str | None = None
    error: RecordError | None = None
    modified_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class WebhookEvent:
    """What an inbound webhook says changed. The engine re-reads the record; it never
    trusts the payload as data (webhooks only queue a fetch)."""

    event_id: str
    object: str
    id: str | None
    change: Literal["created", "updated", "deleted", "unknown"] = "unknown"


@runtime_checkable
class Connector(Protocol):
    """What every connector offers. All I/O is async."""

    name: str
    capabilities: Capabilities

    async def describe(self, object_name: str) -> ObjectDescription: ...

    def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        """Yield pages of changes after ``cursor`` (all records when ``None``).

        Records within and across pages are in cursor order; a record may appear twice
        (lookback windows), the engine dedups by content.
        """
        ...

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        """Return the records that exist; missing ids are absent from the result."""
        ...

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        """Records whose ``field_name`` equals one of ``values``, grouped by value."""
        ...

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Write a batch; exactly one result per op, in order, errors as values."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify and parse an inbound webhook; raise ``ValueError`` when it is not valid."""
        ...

    async def close(self) -> None: ...
