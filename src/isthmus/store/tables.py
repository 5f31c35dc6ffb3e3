"""Tables of the state store (SQLAlchemy Core), shared by SQLite and PostgreSQL.

The schema itself enforces the guarantees the engine relies on, so no code path (and no
second worker) can break them:

- ``xrefs``: one canonical id per native record (primary key entity, system, native_id) and
  one native record per system per canonical id (unique canonical_id, system).
- ``dead_letters``: at most one open-or-waiting letter per (flow, system, native_id),
  a partial unique index that ``put_dead_letter`` upserts against.
- ``review_items``: at most one open item per (flow, subject_key, kind), likewise.

This module describes the newest schema; ``migrations/versions`` builds it step by step
and a test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

# Stable constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

JsonType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

# Partial-index predicates, written as literal SQL so an upsert's conflict target can
# repeat them word for word (SQLite matches the conflict target against the index).
LETTER_OPEN = "status IN ('open', 'waiting')"
REVIEW_OPEN = "status = 'open'"


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite keeps naive text, so values are converted
    to UTC before they are written and marked UTC when read. A naive datetime given by a
    caller is taken as UTC (the same rule as ``isthmus.model.flat``).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


xrefs = Table(
    "xrefs",
    metadata,
    # The primary key is the first uniqueness rule: one canonical id per native record.
    Column("entity", String(40), primary_key=True),
    Column("system", String(80), primary_key=True),
    Column("native_id", String(255), primary_key=True),
    Column("canonical_id", String(64), nullable=False),
    Column("content_hash", String(64)),
    Column("seen_at", UtcDateTime),
    UniqueConstraint("canonical_id", "system"),
)
bases = Table(
    "bases",
    metadata,
    Column("canonical_id", String(64), primary_key=True),
    Column("entity", String(40), nullable=False),
    Column("fields", JsonType, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
cursors = Table(
    "cursors",
    metadata,
    Column("flow", String(120), primary_key=True),
    Column("system", String(80), primary_key=True),
    Column("object_name", String(120), primary_key=True),
    Column("cursor", JsonType, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
pending_writes = Table(
    "pending_writes",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("flow", String(120), nullable=False, index=True),
    Column("entity", String(40), nullable=False),
    Column("canonical_id", String(64), nullable=False),
    Column("system", String(80), nullable=False),
    Column("object_name", String(120), nullable=False),
    Column("source_system", String(80), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("flow", String(120), nullable=False, index=True),
    Column("trigger", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("counts", JsonType, nullable=False),
    Column("message", Text),
    Column("started_at", UtcDateTime, nullable=False, index=True),
    Column("finished_at", UtcDateTime),
)
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("run_id", String(64)),
    Column("flow", String(120), nullable=False, index=True),
    Column("entity", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("canonical_id", String(64), index=True),
    Column("system", String(80)),
    Column("native_id", String(255)),
    Column("field", String(200), index=True),
    Column("old_value", JsonType),
    Column("new_value", JsonType),
    Column("base_value", JsonType),
    Column("other_value", JsonType),
    Column("decision", Text),
    Column("actor", String(120), nullable=False),
    Column("message", Text),
    Index(None, "system", "native_id"),
)
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("flow", String(120), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("system", String(80), nullable=False),
    Column("native_id", String(255), nullable=False),
    Column("canonical_id", String(64)),
    Column("kind", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("field", String(200)),
    Column("vendor_code", String(200)),
    Column("vendor_message", Text),
    Column("payload", JsonType, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Index(None, "flow", "status"),
    Index(
        "uq_dead_letters_open_record",
        "flow",
        "system",
        "native_id",
        unique=True,
        sqlite_where=text(LETTER_OPEN),
        postgresql_where=text(LETTER_OPEN),
    ),
)
review_items = Table(
    "review_items",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("flow", String(120), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject_key", String(400), nullable=False),
    Column("canonical_id", String(64)),
    Column("details", JsonType, nullable=False),
    Column("status", String(20), nullable=False),
    Column("resolution", JsonType),
    Column("resolved_by", String(120)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Index(None, "flow", "status"),
    Index(
        "uq_review_items_open_subject",
        "flow",
        "subject_key",
        "kind",
        unique=True,
        sqlite_where=text(REVIEW_OPEN),
        postgresql_where=text(REVIEW_OPEN),
    ),
)
counters = Table(
    "counters",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
# Access control of the control plane (migration 0002). A user has one role; a token
# belongs to one user and is kept only as a salted hash, so a copy of the store does
# not hand out working tokens.
users = Table(
    "users",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_name", String(120), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Index(None, "user_name"),
)
# Security (migration 0004). ``secrets`` holds the vault: values encrypted with the
# master key (which is never stored), each tagged with its key's id. ``tombstones`` holds
# SHA-256 digests of the identifiers of erased people, never the identifiers, so the
# engine can refuse to sync them back without keeping who they were.
secrets = Table(
    "secrets",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
tombstones = Table(
    "tombstones",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
# Flow state set from the control plane (migration 0003): a paused flow stays paused
# when the process restarts. Flows without a row are enabled.
flow_state = Table(
    "flow_state",
    metadata,
    Column("flow", String(200), primary_key=True),
    Column("paused", Boolean, nullable=False),
    Column("changed_by", String(200)),
    Column("changed_at", UtcDateTime, nullable=False),
)
