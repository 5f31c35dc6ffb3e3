"""Tables of the state store (SQLAlchemy Core). Uniqueness rules enforce the guarantees:
one canonical id per native record, one native record per system per canonical id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData()
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


xrefs = Table(
    "xrefs",
    metadata,
    Column("canonical_id", String(64), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("system", String(80), nullable=False),
    Column("native_id", String(255), nullable=False),
    Column("content_hash", String(64)),
    Column("seen_at", UtcDateTime),
    UniqueConstraint("entity", "system", "native_id", name="uq_xref_native"),
    UniqueConstraint("canonical_id", "system", name="uq_xref_canonical"),
)
bases = Table(
    "bases",
    metadata,
    Column("canonical_id", String(64), primary_key=True),
    Column("entity", String(40), nullable=False),
    Column("fields", JsonType, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime),
)
cursors = Table(
    "cursors",
    metadata,
    Column("flow", String(120), primary_key=True),
    Column("system", String(80), primary_key=True),
    Column("object_name", String(120), primary_key=True),
    Column("cursor", JsonType, nullable=False),
    Column("updated_at", UtcDateTime),
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
    Column("created_at", UtcDateTime),
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
    Column("started_at", UtcDateTime, index=True),
    Column("finished_at", UtcDateTime),
)
audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, index=True),
    Column("run_id", String(64)),
    Column("flow", String(120), index=True),
    Column("entity", String(40)),
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
    Column("actor", String(120)),
    Column("message", Text),
    Index("ix_audit_native", "system", "native_id"),
)
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
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
    Column("first_at", UtcDateTime),
    Column("last_at", UtcDateTime),
    Index("ix_dead_letter_record", "flow", "system", "native_id", "status"),
)
review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", String(120), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject_key", String(400), nullable=False),
    Column("canonical_id", String(64)),
    Column("details", JsonType, nullable=False),
    Column("status", String(20), nullable=False),
    Column("resolution", JsonType),
    Column("resolved_by", String(120)),
    Column("created_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Index("ix_review_subject", "flow", "subject_key", "kind", "status"),
)
counters = Table(
    "counters",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
