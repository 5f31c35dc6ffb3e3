"""The security tables of the SQL store: the secrets vault, tombstones, payload retention
and erasure (a mixin of ``SqlStore``, like ``sql_access``).

Invariants:
- the vault only ever sees ciphertexts: encryption happens in ``isthmus.security``;
- a rotation replaces every secret in one transaction, so a crash leaves all secrets
  under the old key or all under the new one, never a mix;
- an erasure is one transaction over every table that holds a person's data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    cast,
    delete,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from isthmus.store import tables as t
from isthmus.store.sql_engine import write_connection
from isthmus.store.sql_uow import now
from isthmus.store.types import ErasureCounts, ErasureTarget, StoredSecret, ValueProtector

_CLOSED = ("resolved", "discarded")
SEALED_PREFIX = "enc:v1:"  # isthmus.security.keys.PREFIX: how a sealed value starts
_VALUE_COLUMNS = ("old_value", "new_value", "base_value", "other_value")
_CHUNK = 500


class SqlSecurity:
    """Needs ``engine`` and ``_rows`` from ``SqlStore``."""

    engine: Engine

    def _rows(self, statement: Select[Any]) -> list[Any]:
        raise NotImplementedError  # provided by SqlStore

    # -- secrets vault ------------------------------------------------------------------
    def put_secret(self, secret: StoredSecret) -> None:
        c = t.secrets.c
        with write_connection(self.engine) as connection, connection.begin():
            # Delete then insert inside one write transaction: an upsert without a
            # dialect-specific construct, and no window where the name has no value.
            connection.execute(delete(t.secrets).where(c.name == secret.name))
            connection.execute(t.secrets.insert().values(**_secret_row(secret)))

    def secret(self, name: str) -> StoredSecret | None:
        rows = self._rows(select(t.secrets).where(t.secrets.c.name == name))
        return StoredSecret(**rows[0]._mapping) if rows else None

    def stored_secrets(self) -> list[StoredSecret]:
        """By name, ciphertexts included (never decrypted here)."""
        statement = select(t.secrets).order_by(t.secrets.c.name)
        return [StoredSecret(**row._mapping) for row in self._rows(statement)]

    def delete_secret(self, name: str) -> bool:
        with write_connection(self.engine) as connection, connection.begin():
            result = connection.execute(delete(t.secrets).where(t.secrets.c.name == name))
        return bool(result.rowcount)

    def replace_secrets(
        self,
        secrets: Sequence[StoredSecret],
        previous: Sequence[StoredSecret],
        reseal: Callable[[Any], Any] | None = None,
    ) -> int:
        """Swap every secret for its re-encrypted form, all at once; with ``reseal``,
        re-encrypt the protected values of bases and audit events in the same
        transaction (so no value is left under a key nobody has any more).

        Raises:
            ValueError: the vault no longer holds exactly ``previous`` (a secret was set
                or deleted meanwhile), so nothing is replaced.
        """
        c = t.secrets.c
        with write_connection(self.engine) as connection, connection.begin():
            current = {
                (row.name, row.ciphertext)
                for row in connection.execute(select(c.name, c.ciphertext))
            }
            if current != {(s.name, s.ciphertext) for s in previous}:
                raise ValueError("the vault changed while its secrets were re-encrypted")
            connection.execute(delete(t.secrets))
            if secrets:
                connection.execute(t.secrets.insert(), [_secret_row(s) for s in secrets])
            if reseal is not None:
                _reseal_values(connection, reseal)
        return len(secrets)

    # -- tombstones ---------------------------------------------------------------------
    def add_tombstones(self, digests: Iterable[tuple[str, str]]) -> int:
        """Record (digest, kind) pairs; known digests are kept. Returns how many are new."""
        wanted = dict(digests)
        with write_connection(self.engine) as connection, connection.begin():
            known = _known_digests(connection, list(wanted))
            rows = [
                {"digest": digest, "kind": kind, "created_at": now()}
                for digest, kind in wanted.items()
                if digest not in known
            ]
            if rows:
                connection.execute(t.tombstones.insert(), rows)
        return len(rows)

    def tombstoned(self, digests: Sequence[str]) -> set[str]:
        """The digests of ``digests`` that have a tombstone."""
        with self.engine.connect() as connection:
            return _known_digests(connection, list(digests))

    def count_tombstones(self) -> int:
        return len(self._rows(select(t.tombstones.c.digest)))

    # -- retention ----------------------------------------------------------------------
    def purge_payloads(
        self, *, audit_before: datetime | None, letters_before: datetime | None
    ) -> dict[str, int]:
        """Drop payload copies older than the cut-offs: audit values become NULL (who,
        what, when and which field stay), closed dead letters are deleted, open ones keep
        their reason but lose their payload (a replay re-reads the record anyway)."""
        counts = {"audit_payloads": 0, "dead_letters_deleted": 0, "dead_letter_payloads": 0}
        a, d = t.audit_events.c, t.dead_letters.c
        with write_connection(self.engine) as connection, connection.begin():
            if audit_before is not None:
                # A JSON column holds SQL NULL or a JSON null: both mean "no value".
                has_value = or_(
                    *(
                        func.coalesce(cast(a[name], String), "null") != "null"
                        for name in _VALUE_COLUMNS
                    )
                )
                result = connection.execute(
                    update(t.audit_events)
                    .where(a.at < audit_before, has_value)
                    .values(**dict.fromkeys(_VALUE_COLUMNS, null()))
                )
                counts["audit_payloads"] = int(result.rowcount)
            if letters_before is not None:
                old = d.last_at < letters_before
                result = connection.execute(
                    delete(t.dead_letters).where(old, d.status.in_(_CLOSED))
                )
                counts["dead_letters_deleted"] = int(result.rowcount)
                result = connection.execute(
                    update(t.dead_letters)
                    .where(old, cast(d.payload, String) != "{}")
                    .values(payload={}, vendor_message=None)
                )
                counts["dead_letter_payloads"] = int(result.rowcount)
        return counts

    def compact(self) -> None:
        """Make erased and purged values physically gone, not just unreachable.

        SQLite keeps deleted and overwritten rows in free pages and in the WAL file until
        they are reused: VACUUM rewrites the file without them and the checkpoint empties
        the WAL. PostgreSQL keeps dead tuples until VACUUM; a plain VACUUM frees them
        without locking out the syncs (``VACUUM FULL`` rewrites the files; see
        docs/security.md).
        """
        tables = ("bases", "audit_events", "dead_letters", "review_items", "xrefs")
        sqlite = self.engine.dialect.name == "sqlite"
        # The DB-API connection itself: VACUUM refuses to run inside a transaction, and
        # the engine's connections always open one (see sql_engine).
        connection = self.engine.raw_connection()
        try:
            if not sqlite:
                connection.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            statements = (
                ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
                if sqlite
                else [f"VACUUM {table}" for table in tables]
            )
            for statement in statements:
                cursor.execute(statement)
            cursor.close()
        finally:
            if not sqlite:
                connection.driver_connection.autocommit = False  # type: ignore[union-attr]
            connection.close()

    # -- erasure ------------------------------------------------------------------------
    def canonical_ids_mentioning(self, value: str) -> list[str]:
        """Canonical ids whose base holds ``value`` in any field (case-insensitive)."""
        b = t.bases.c
        wanted = value.lower()
        protector: ValueProtector | None = getattr(self, "protector", None)
        if protector is None:
            statement = select(b.canonical_id).where(
                func.lower(cast(b.fields, String)).contains(wanted, autoescape=True)
            )
            return sorted({row.canonical_id for row in self._rows(statement)})
        # Encrypted fields cannot be searched in SQL: open every base (erasure is rare).
        found: set[str] = set()
        after = ""
        while True:
            statement = (
                select(b.canonical_id, b.entity, b.fields)
                .where(b.canonical_id > after)
                .order_by(b.canonical_id)
                .limit(_CHUNK)
            )
            rows = self._rows(statement)
            for row in rows:
                opened = protector.open_fields(row.entity, row.fields)
                if wanted in json.dumps(opened, default=str).lower():
                    found.add(row.canonical_id)
            if len(rows) < _CHUNK:
                return sorted(found)
            after = rows[-1].canonical_id

    def erase(self, target: ErasureTarget) -> ErasureCounts:
        """Erase every trace of one person (its records' ids and values) in one
        transaction; returns how many rows each table lost or had scrubbed."""
        counts: ErasureCounts = {}
        with write_connection(self.engine) as connection, connection.begin():
            counts["bases"] = _delete_where(
                connection, t.bases, t.bases.c.canonical_id, target.canonical_ids
            )
            counts["pending_writes"] = _delete_where(
                connection, t.pending_writes, t.pending_writes.c.canonical_id, target.canonical_ids
            )
            counts["audit_events"] = _scrub_audit(connection, target)
            counts["dead_letters"] = _delete_letters(connection, target)
            counts["review_items"] = _delete_reviews(connection, target)
            links = _delete_where(connection, t.xrefs, t.xrefs.c.canonical_id, target.canonical_ids)
            for system, native_id in target.natives:
                x = t.xrefs.c
                result = connection.execute(
                    delete(t.xrefs).where(x.system == system, x.native_id == native_id)
                )
                links += int(result.rowcount)
            counts["links"] = links
        return counts


def _reseal_values(connection: Connection, reseal: Callable[[Any], Any]) -> None:
    b, a = t.bases.c, t.audit_events.c
    sealed = f"%{SEALED_PREFIX}%"
    for row in connection.execute(
        select(b.canonical_id, b.fields).where(cast(b.fields, String).like(sealed))
    ).all():
        fields = {path: reseal(value) for path, value in row.fields.items()}
        connection.execute(
            update(t.bases).where(b.canonical_id == row.canonical_id).values(fields=fields)
        )
    columns = [a[name] for name in _VALUE_COLUMNS]
    matches = or_(*(cast(column, String).like(sealed) for column in columns))
    for row in connection.execute(select(a.id, *columns).where(matches)).all():
        values = {name: reseal(getattr(row, name)) for name in _VALUE_COLUMNS}
        connection.execute(update(t.audit_events).where(a.id == row.id).values(**values))


def _secret_row(secret: StoredSecret) -> dict[str, Any]:
    return {
        "name": secret.name,
        "ciphertext": secret.ciphertext,
        "key_id": secret.key_id,
        "updated_at": secret.updated_at or now(),
    }


def _known_digests(connection: Connection, digests: list[str]) -> set[str]:
    found: set[str] = set()
    c = t.tombstones.c
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        found.update(connection.scalars(select(c.digest).where(c.digest.in_(chunk))))
    return found


def _delete_where(connection: Connection, table: Any, column: Any, values: Sequence[str]) -> int:
    total = 0
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        total += int(connection.execute(delete(table).where(column.in_(chunk))).rowcount)
    return total


def _mentions(columns: Sequence[Any], values: Sequence[str]) -> ColumnElement[bool] | None:
    """Any of ``columns`` (JSON or text, compared as text) contains any of ``values``."""
    terms = [
        cast(column, String).contains(value, autoescape=True)
        for column in columns
        for value in values
        if value
    ]
    return or_(*terms) if terms else None


def _person(target: ErasureTarget, canonical: Any, system: Any, native: Any) -> Any:
    terms: list[ColumnElement[bool]] = []
    if target.canonical_ids:
        terms.append(canonical.in_(list(target.canonical_ids)))
    for sys_name, native_id in target.natives:
        terms.append((system == sys_name) & (native == native_id))
    return or_(*terms) if terms else None


def _scrub_audit(connection: Connection, target: ErasureTarget) -> int:
    """Keep the audit trail's shape (what was done, when, by whom, to which field) but
    drop the values and every id that points back at the person."""
    a = t.audit_events.c
    terms = [
        term
        for term in (
            _person(target, a.canonical_id, a.system, a.native_id),
            _mentions([a[name] for name in (*_VALUE_COLUMNS, "message")], target.values),
        )
        if term is not None
    ]
    if not terms:
        return 0
    result = connection.execute(
        update(t.audit_events)
        .where(or_(*terms))
        .values(
            **dict.fromkeys(_VALUE_COLUMNS, null()),
            canonical_id=None,
            native_id=None,
            message=None,
            decision=None,
        )
    )
    return int(result.rowcount)


def _quoted(ids: Iterable[str]) -> list[str]:
    # Ids are short (a SQL key may be "7"): only a JSON string equal to the id counts,
    # not any text that happens to contain it.
    return [f'"{native_id}"' for native_id in ids]


def _delete_letters(connection: Connection, target: ErasureTarget) -> int:
    d = t.dead_letters.c
    terms = [
        term
        for term in (
            _person(target, d.canonical_id, d.system, d.native_id),
            _mentions([d.payload, d.message, d.vendor_message], target.values),
            _mentions([d.payload], _quoted(n for _, n in target.natives)),
        )
        if term is not None
    ]
    if not terms:
        return 0
    return int(connection.execute(delete(t.dead_letters).where(or_(*terms))).rowcount)


def _delete_reviews(connection: Connection, target: ErasureTarget) -> int:
    r = t.review_items.c
    terms: list[ColumnElement[bool]] = []
    if target.canonical_ids:
        terms.append(r.canonical_id.in_(list(target.canonical_ids)))
    for cid in target.canonical_ids:
        terms.append(r.subject_key.startswith(f"{cid}:", autoescape=True))
    for system, native_id in target.natives:
        terms.append(r.subject_key == f"{system}:{native_id}")
    ids = _quoted([*(n for _, n in target.natives), *target.canonical_ids])
    for columns, values in (
        ([r.details, r.resolution], target.values),
        ([r.details, r.resolution], ids),
    ):
        mention = _mentions(columns, values)
        if mention is not None:
            terms.append(mention)
    if not terms:
        return 0
    return int(connection.execute(delete(t.review_items).where(or_(*terms))).rowcount)
