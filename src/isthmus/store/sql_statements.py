"""Prepared write statements of the SQL store, built once per dialect.

The unit of work runs these hundreds of thousands of times in one sync, so they are
built once (with named parameters) instead of per call: building a SQLAlchemy
statement costs more than SQLite takes to run it. The upserts use the dialect's own
``INSERT .. ON CONFLICT``; it has the same API on SQLite and PostgreSQL.

Invariant: every upsert names the unique rule it relies on, so a conflict on any other
rule still fails loudly instead of being swallowed (except the link insert, which
checks both of its rules itself right after).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Executable, Table, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from isthmus.store import tables as t

OPEN_LETTER = ("open", "waiting")

UpsertInsert = postgresql.Insert | sqlite.Insert


def upsert_insert(dialect: str, table: Table) -> UpsertInsert:
    """``INSERT`` with ``on_conflict_do_*`` for a dialect name."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@dataclass(frozen=True)
class Prepared:
    """Write statements; parameters are named after columns unless noted."""

    insert_xref: Executable  # returns a row only if it inserted
    insert_xrefs: Executable  # the same for executemany: no RETURNING, conflicts skipped
    xref_holders: Executable  # rows holding either uniqueness rule of a link
    touch_xref: Executable  # w_entity, w_system, w_native_id, v_hash, v_seen_at
    remove_xref: Executable
    delete_base: Executable
    remove_pending_write: Executable
    set_base: Executable
    set_cursor: Executable
    put_pending_write: Executable
    put_dead_letter: Executable  # returns the letter id
    close_dead_letters: Executable  # w_flow, w_system, w_native_id, v_status, v_last_at
    put_review_item: Executable  # returns the item id
    add_counters: Executable


@cache
def prepared(dialect: str) -> Prepared:
    """The statements for one dialect (``sqlite`` or ``postgresql``)."""
    c = t.xrefs.c
    holders = select(c.canonical_id, c.entity, c.native_id).where(
        c.system == bindparam("system"),
        or_(
            (c.entity == bindparam("entity")) & (c.native_id == bindparam("native_id")),
            c.canonical_id == bindparam("canonical_id"),
        ),
    )
    touch = (
        update(t.xrefs)
        .where(
            c.entity == bindparam("w_entity"),
            c.system == bindparam("w_system"),
            c.native_id == bindparam("w_native_id"),
        )
        .values(
            content_hash=bindparam("v_hash", type_=c.content_hash.type),
            seen_at=bindparam("v_seen_at", type_=c.seen_at.type),
        )
    )
    return Prepared(
        insert_xref=upsert_insert(dialect, t.xrefs)
        .on_conflict_do_nothing()
        .returning(c.canonical_id),
        # No conflict target: a row taken by either uniqueness rule is skipped, and the
        # caller checks both rules right after (``sql_links``).
        insert_xrefs=upsert_insert(dialect, t.xrefs).on_conflict_do_nothing(),
        xref_holders=holders,
        touch_xref=touch,
        remove_xref=delete(t.xrefs).where(
            c.entity == bindparam("entity"),
            c.system == bindparam("system"),
            c.native_id == bindparam("native_id"),
        ),
        delete_base=delete(t.bases).where(t.bases.c.canonical_id == bindparam("canonical_id")),
        remove_pending_write=delete(t.pending_writes).where(
            t.pending_writes.c.key == bindparam("key")
        ),
        set_base=_set_base(dialect),
        set_cursor=_replace(dialect, t.cursors, ["flow", "system", "object_name"]),
        # A retried create keeps the time of its first attempt.
        put_pending_write=_replace(dialect, t.pending_writes, ["key"], keep=("created_at",)),
        put_dead_letter=_put_dead_letter(dialect),
        close_dead_letters=_close_dead_letters(),
        put_review_item=_put_review_item(dialect),
        add_counters=_add_counters(dialect),
    )


def _names(table: Table) -> list[str]:
    return [column.name for column in table.columns]


def _replace(dialect: str, table: Table, keys: list[str], keep: tuple[str, ...] = ()) -> Executable:
    """Insert, or overwrite the row with the same key (except the ``keep`` columns)."""
    insert = upsert_insert(dialect, table)
    fixed = {*keys, *keep}
    return insert.on_conflict_do_update(
        index_elements=keys,
        set_={name: insert.excluded[name] for name in _names(table) if name not in fixed},
    )


def _set_base(dialect: str) -> Executable:
    insert = upsert_insert(dialect, t.bases)
    return insert.on_conflict_do_update(
        index_elements=["canonical_id"],
        set_={
            "entity": insert.excluded.entity,
            "fields": insert.excluded.fields,
            # Every replacement is a new version, so readers can tell bases apart.
            "version": t.bases.c.version + 1,
            "updated_at": insert.excluded.updated_at,
        },
    )


def _put_dead_letter(dialect: str) -> Executable:
    insert = upsert_insert(dialect, t.dead_letters)
    kept = ("id", "flow", "system", "native_id", "first_at", "attempts")
    refreshed = {name: insert.excluded[name] for name in _names(t.dead_letters) if name not in kept}
    # A repeat failure of the same record refreshes its one open letter; the partial
    # unique index makes that atomic, even when two workers fail the same record.
    return insert.on_conflict_do_update(
        index_elements=["flow", "system", "native_id"],
        index_where=t.dead_letters.c.status.in_(OPEN_LETTER),
        set_={**refreshed, "attempts": t.dead_letters.c.attempts + 1},
    ).returning(t.dead_letters.c.id)


def _close_dead_letters() -> Executable:
    c = t.dead_letters.c
    return (
        update(t.dead_letters)
        .where(
            c.flow == bindparam("w_flow"),
            c.system == bindparam("w_system"),
            c.native_id == bindparam("w_native_id"),
            c.status.in_(OPEN_LETTER),
        )
        .values(
            status=bindparam("v_status", type_=c.status.type),
            last_at=bindparam("v_last_at", type_=c.last_at.type),
        )
    )


def _put_review_item(dialect: str) -> Executable:
    insert = upsert_insert(dialect, t.review_items)
    return insert.on_conflict_do_update(
        index_elements=["flow", "subject_key", "kind"],
        index_where=t.review_items.c.status == "open",
        set_={
            "details": insert.excluded.details,
            "canonical_id": insert.excluded.canonical_id,
            "entity": insert.excluded.entity,
        },
    ).returning(t.review_items.c.id)


def _add_counters(dialect: str) -> Executable:
    insert = upsert_insert(dialect, t.counters)
    return insert.on_conflict_do_update(
        index_elements=["name", "key"],
        set_={"value": t.counters.c.value + insert.excluded.value},
    )
