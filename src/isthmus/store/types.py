"""Values the store keeps. Plain frozen dataclasses; the backends map them to tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any, Literal, Protocol

from isthmus.errors import IsthmusError
from isthmus.model.flat import Flat


class LinkConflictError(IsthmusError):
    """A link insert hit the uniqueness rule: that record is already linked.

    Invariant: one native record has at most one canonical id, and one canonical id has
    at most one native record per system. A conflict means "re-read and update", never
    a second record.
    """


@dataclass(frozen=True)
class Xref:
    """One native record's membership in a canonical record (one side of a link)."""

    canonical_id: str
    entity: str
    system: str
    native_id: str
    # Hash of the canonical projection of this record as we last wrote or read it:
    # equal hash on a later read means "nothing really changed" (echo, touched timestamp).
    content_hash: str | None = None
    seen_at: datetime | None = None


@dataclass(frozen=True)
class XrefTouch:
    """The content hash we last wrote or read for one native record (see ``Xref``)."""

    entity: str
    system: str
    native_id: str
    content_hash: str | None
    seen_at: datetime | None = None


@dataclass(frozen=True)
class Base:
    """The last state all linked systems agreed on, per canonical record (flat fields)."""

    canonical_id: str
    entity: str
    fields: Flat
    version: int = 1
    updated_at: datetime | None = None


AuditAction = Literal[
    "create",
    "update",
    "delete",
    "link",
    "unlink",
    "conflict",
    "resolve",
    "revert",
    "skip",
    "dead_letter",
    "replay",
    "deactivate",
    # A person changed how Isthmus runs (a flow paused or enabled) through the API.
    "config",
    # Security: a person's data erased (GDPR), payload copies purged after retention.
    "erase",
    "purge",
]


@dataclass(frozen=True)
class AuditEvent:
    """One decision about one field (or one record when ``field`` is None)."""

    flow: str
    entity: str
    action: AuditAction
    canonical_id: str | None = None
    system: str | None = None
    native_id: str | None = None
    field: str | None = None
    old_value: Any = None
    new_value: Any = None
    base_value: Any = None
    other_value: Any = None
    decision: str | None = None
    run_id: str | None = None
    actor: str = "engine"
    message: str | None = None
    at: datetime | None = None
    id: int | None = None


DeadLetterStatus = Literal["open", "waiting", "resolved", "discarded"]


@dataclass(frozen=True)
class DeadLetter:
    """A change that could not be applied, kept with its reason and replayable.

    ``status`` is ``waiting`` for records that wait on a parent link and are retried by
    every run by themselves; ``open`` ones wait for a person (fix, then replay).
    One open dead letter per (flow, system, native_id): a repeat failure bumps
    ``attempts`` instead of adding a row.
    """

    flow: str
    entity: str
    system: str
    native_id: str
    kind: str
    message: str
    canonical_id: str | None = None
    field: str | None = None
    vendor_code: str | None = None
    vendor_message: str | None = None
    payload: dict[str, Any] = dc_field(default_factory=dict)
    attempts: int = 1
    status: DeadLetterStatus = "open"
    first_at: datetime | None = None
    last_at: datetime | None = None
    id: int | None = None


ReviewKind = Literal["conflict", "duplicate", "ambiguous_create"]
ReviewStatus = Literal["open", "resolved", "dismissed"]


@dataclass(frozen=True)
class ReviewItem:
    """A decision left to a person. ``details`` holds both sides and the base.

    One open item per (flow, subject_key, kind): a newer conflict on the same record
    refreshes the details of the open item instead of adding one.
    """

    flow: str
    entity: str
    kind: ReviewKind
    subject_key: str
    details: dict[str, Any]
    canonical_id: str | None = None
    status: ReviewStatus = "open"
    resolution: dict[str, Any] | None = None
    resolved_by: str | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    id: int | None = None


RunStatus = Literal["running", "succeeded", "partial", "failed", "stopped", "paused"]


@dataclass(frozen=True)
class Run:
    id: str
    flow: str
    trigger: str
    status: RunStatus = "running"
    counts: dict[str, int] = dc_field(default_factory=dict)
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class PendingWrite:
    """A create we are about to send: written *before* the request, removed with the link.

    After a crash, a pending write means "this record may exist in the target": the
    executor looks it up by ``key`` (stored in the target's external key field) before
    creating anything (see docs/architecture.md).
    """

    key: str
    flow: str
    entity: str
    canonical_id: str
    system: str
    object_name: str
    source_system: str
    source_id: str
    created_at: datetime | None = None


Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class User:
    """A person or a program allowed to use the control plane, with one role."""

    name: str
    role: Role
    created_at: datetime | None = None


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: its public id and a salted hash of its secret, never
    the secret itself (see ``isthmus.api.auth``)."""

    id: str
    user_name: str
    salt: str
    token_hash: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class StoredSecret:
    """A secret as the vault keeps it: its name, the ciphertext, and its key's id."""

    name: str
    ciphertext: str
    key_id: str
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ErasureTarget:
    """Everything that identifies one person in the store: canonical ids, native
    records (system, id), and plain values (an email) to find copies by content."""

    canonical_ids: tuple[str, ...] = ()
    natives: tuple[tuple[str, str], ...] = ()
    values: tuple[str, ...] = ()


# table -> rows erased or scrubbed
ErasureCounts = dict[str, int]


class ValueProtector(Protocol):
    """Encrypts protected values at rest (``isthmus.security.fields.FieldProtector``):
    the store seals bases and audit values on write and opens them on read."""

    def seal_fields(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]: ...

    def open_fields(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]: ...

    def seal_audit(self, row: dict[str, Any]) -> None: ...

    def open_audit(self, row: Mapping[str, Any]) -> dict[str, Any]: ...
