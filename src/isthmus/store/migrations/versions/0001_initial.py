"""Initial schema: links, bases, cursors, pending writes, runs, audit, dead letters,
review items and counters.

Written out in full rather than built from ``isthmus.store.tables``, so that later
changes to the tables module never rewrite history; a test checks both agree.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LETTER_OPEN = "status IN ('open', 'waiting')"
REVIEW_OPEN = "status = 'open'"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "xrefs",
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("system", sa.String(80), nullable=False),
        sa.Column("native_id", sa.String(255), nullable=False),
        sa.Column("canonical_id", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("seen_at", _utc()),
        sa.PrimaryKeyConstraint("entity", "system", "native_id", name="pk_xrefs"),
        sa.UniqueConstraint("canonical_id", "system", name="uq_xrefs_canonical_id_system"),
    )
    op.create_table(
        "bases",
        sa.Column("canonical_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("canonical_id", name="pk_bases"),
    )
    op.create_table(
        "cursors",
        sa.Column("flow", sa.String(120), nullable=False),
        sa.Column("system", sa.String(80), nullable=False),
        sa.Column("object_name", sa.String(120), nullable=False),
        sa.Column("cursor", JSON, nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("flow", "system", "object_name", name="pk_cursors"),
    )
    op.create_table(
        "pending_writes",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("flow", sa.String(120), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("canonical_id", sa.String(64), nullable=False),
        sa.Column("system", sa.String(80), nullable=False),
        sa.Column("object_name", sa.String(120), nullable=False),
        sa.Column("source_system", sa.String(80), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_pending_writes"),
    )
    op.create_index("ix_pending_writes_flow", "pending_writes", ["flow"])
    _create_runs_and_audit()
    _create_letters_reviews_counters()


def _create_runs_and_audit() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(120), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc()),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_flow", "runs", ["flow"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("flow", sa.String(120), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("canonical_id", sa.String(64)),
        sa.Column("system", sa.String(80)),
        sa.Column("native_id", sa.String(255)),
        sa.Column("field", sa.String(200)),
        sa.Column("old_value", JSON),
        sa.Column("new_value", JSON),
        sa.Column("base_value", JSON),
        sa.Column("other_value", JSON),
        sa.Column("decision", sa.Text),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("message", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    for columns in (["at"], ["flow"], ["canonical_id"], ["field"], ["system", "native_id"]):
        op.create_index(f"ix_audit_events_{'_'.join(columns)}", "audit_events", columns)


def _create_letters_reviews_counters() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(120), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("system", sa.String(80), nullable=False),
        sa.Column("native_id", sa.String(255), nullable=False),
        sa.Column("canonical_id", sa.String(64)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("field", sa.String(200)),
        sa.Column("vendor_code", sa.String(200)),
        sa.Column("vendor_message", sa.Text),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("first_at", _utc(), nullable=False),
        sa.Column("last_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_flow_status", "dead_letters", ["flow", "status"])
    op.create_index(
        "uq_dead_letters_open_record",
        "dead_letters",
        ["flow", "system", "native_id"],
        unique=True,
        sqlite_where=sa.text(LETTER_OPEN),
        postgresql_where=sa.text(LETTER_OPEN),
    )
    op.create_table(
        "review_items",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(120), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_key", sa.String(400), nullable=False),
        sa.Column("canonical_id", sa.String(64)),
        sa.Column("details", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("resolution", JSON),
        sa.Column("resolved_by", sa.String(120)),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("resolved_at", _utc()),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
    )
    op.create_index("ix_review_items_flow_status", "review_items", ["flow", "status"])
    op.create_index(
        "uq_review_items_open_subject",
        "review_items",
        ["flow", "subject_key", "kind"],
        unique=True,
        sqlite_where=sa.text(REVIEW_OPEN),
        postgresql_where=sa.text(REVIEW_OPEN),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name="pk_counters"),
    )


def downgrade() -> None:
    for table in (
        "counters",
        "review_items",
        "dead_letters",
        "audit_events",
        "runs",
        "pending_writes",
        "cursors",
        "bases",
        "xrefs",
    ):
        op.drop_table(table)
