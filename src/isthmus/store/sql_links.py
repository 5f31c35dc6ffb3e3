"""Links (xrefs) in bulk: many link sides added, or many content hashes set, per statement.

Invariants:
- a bulk add keeps both uniqueness rules of a link exactly as ``add_xref`` does: the rows
  are inserted with ``ON CONFLICT DO NOTHING`` (no statement fails, so a PostgreSQL
  transaction is never poisoned), then one look-up per rule reads who holds each link;
  a link held by a different pairing is a ``LinkConflictError``, the exact same pairing
  is a no-op;
- every link that does not conflict is written, then the first conflict (in the order
  given) is raised, so a caller that catches it can carry on in the same block;
- a holder that vanished between insert and look-up (a concurrent unlink on PostgreSQL)
  is retried one by one through ``add_xref``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, select

from isthmus.store import tables as t
from isthmus.store.sql_statements import Prepared
from isthmus.store.types import LinkConflictError, Xref, XrefTouch

# Rows per executemany and values per IN (...): below SQLite's bound-variable limit.
CHUNK = 500
T = TypeVar("T")


class Holder(NamedTuple):
    """The row holding a uniqueness rule of a link."""

    canonical_id: str
    entity: str
    system: str
    native_id: str


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def xref_row(xref: Xref) -> dict[str, Any]:
    return {
        "canonical_id": xref.canonical_id,
        "entity": xref.entity,
        "system": xref.system,
        "native_id": xref.native_id,
        "content_hash": xref.content_hash,
        "seen_at": xref.seen_at,
    }


def touch_row(touch: XrefTouch, default_seen_at: Any) -> dict[str, Any]:
    return {
        "w_entity": touch.entity,
        "w_system": touch.system,
        "w_native_id": touch.native_id,
        "v_hash": touch.content_hash,
        "v_seen_at": touch.seen_at or default_seen_at,
    }


def add_xrefs(
    connection: Connection,
    sql: Prepared,
    xrefs: Sequence[Xref],
    add_one: Callable[[Xref], None],
    conflict_message: Callable[[Xref, Holder], str],
) -> None:
    """Insert link sides in bulk; see the module's invariants."""
    unique = list(dict.fromkeys(xrefs))
    for chunk in chunks(unique):
        connection.execute(sql.insert_xrefs, [xref_row(xref) for xref in chunk])
    by_native, by_canonical = _holders(connection, unique)
    first: LinkConflictError | None = None
    for xref in unique:
        holder = by_native.get((xref.entity, xref.system, xref.native_id))
        rival = by_canonical.get((xref.canonical_id, xref.system))
        taken = _taken(xref, holder, rival)
        try:
            if taken is not None:
                raise LinkConflictError(conflict_message(xref, taken))
            if holder is None:
                add_one(xref)  # gone since the insert: the one-by-one path retries it
        except LinkConflictError as error:
            first = first or error
    if first is not None:
        raise first


def _taken(xref: Xref, holder: Holder | None, rival: Holder | None) -> Holder | None:
    """The row that holds one of the link's rules for a different pairing, if any."""
    if holder is not None and holder.canonical_id != xref.canonical_id:
        return holder
    if rival is not None and (rival.entity, rival.native_id) != (xref.entity, xref.native_id):
        return rival
    return None


def _holders(
    connection: Connection, xrefs: Sequence[Xref]
) -> tuple[dict[tuple[str, str, str], Holder], dict[tuple[str, str], Holder]]:
    """Who holds each rule of these links: by (entity, system, native id) and by
    (canonical id, system). Two look-ups per (entity, system), each along its index."""
    c = t.xrefs.c
    columns = (c.canonical_id, c.entity, c.system, c.native_id)
    groups: dict[tuple[str, str], list[Xref]] = {}
    for xref in xrefs:
        groups.setdefault((xref.entity, xref.system), []).append(xref)
    by_native: dict[tuple[str, str, str], Holder] = {}
    by_canonical: dict[tuple[str, str], Holder] = {}
    for (entity, system), members in groups.items():
        for chunk in chunks(members):
            natives = sorted({xref.native_id for xref in chunk})
            canonicals = sorted({xref.canonical_id for xref in chunk})
            rows = [
                *connection.execute(
                    select(*columns).where(
                        c.entity == entity, c.system == system, c.native_id.in_(natives)
                    )
                ),
                *connection.execute(
                    select(*columns).where(c.system == system, c.canonical_id.in_(canonicals))
                ),
            ]
            for row in rows:
                holder = Holder(*row)
                by_native[(holder.entity, holder.system, holder.native_id)] = holder
                by_canonical[(holder.canonical_id, holder.system)] = holder
    return by_native, by_canonical
