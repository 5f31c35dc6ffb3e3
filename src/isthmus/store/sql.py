"""``SqlStore``: the state store on SQLite (embedded default) or PostgreSQL.

One implementation for both backends; what differs (URLs, SQLite pragmas and BEGIN
flavour, upsert constructs, the migration lock) lives in ``sql_engine``. Writes go
through ``SqlUnitOfWork`` (``sql_uow``), one transaction per block. Reads here open a
short connection each, so a reader never holds a lock a writer waits on: with WAL,
``isthmus status`` reads a consistent snapshot while a sync writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import OperationalError

from isthmus.connectors.base import Cursor
from isthmus.errors import ConfigError
from isthmus.security.redact import redact_text
from isthmus.store import sql_links
from isthmus.store import tables as t
from isthmus.store.base import Store
from isthmus.store.sql_access import SqlAccess
from isthmus.store.sql_engine import (
    create_store_engine,
    parse_store_url,
    safe_url,
    write_connection,
)
from isthmus.store.sql_flows import SqlFlowState
from isthmus.store.sql_migrate import migrate
from isthmus.store.sql_security import SqlSecurity
from isthmus.store.sql_uow import SqlUnitOfWork, now
from isthmus.store.types import (
    AuditEvent,
    Base,
    DeadLetter,
    DeadLetterStatus,
    PendingWrite,
    ReviewItem,
    ReviewStatus,
    Run,
    RunStatus,
    ValueProtector,
    Xref,
)

# Ids per IN (...) list: far below SQLite's bound-variable limit, few round trips.
CHUNK = 900


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


class SqlStore(SqlAccess, SqlSecurity, SqlFlowState, Store):
    """The store on a SQL database. ``url`` may be a bare path (SQLite).

    Raises:
        ConfigError: the URL is not a supported database URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.sa_url = parse_store_url(url)
        # For messages and logs: the password never leaves the process.
        self.display_url = safe_url(self.sa_url)
        self.engine = create_store_engine(self.sa_url)
        # Set by ``isthmus.security.fields`` when sensitive fields are encrypted at rest.
        self.protector: ValueProtector | None = None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        try:
            migrate(self.engine)
        except OperationalError as error:
            if self.dialect == "postgresql":
                advice = (
                    "check that the PostgreSQL server runs and is reachable from here, and "
                    "that user, host, port and database in the URL are right (create the "
                    "database first with `createdb`), or use sqlite:///state.db instead"
                )
            else:
                advice = "check that its folder is writable and the file is an Isthmus store"
            raise ConfigError(
                f"cannot open the state store {self.display_url}: {error.orig}; {advice}"
            ) from None

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        # One transaction per block; a write transaction takes the SQLite write lock at
        # BEGIN so it waits for another writer instead of failing half-way through.
        with write_connection(self.engine) as connection, connection.begin():
            uow = SqlUnitOfWork(connection, self.protector)
            yield uow
            uow.flush()

    def close(self) -> None:
        self.engine.dispose()

    def _rows(self, statement: Select[Any]) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(statement))

    # -- links and bases --------------------------------------------------------------
    def xrefs_by_native(
        self, entity: str, system: str, native_ids: Sequence[str]
    ) -> dict[str, Xref]:
        c = t.xrefs.c
        found: dict[str, Xref] = {}
        for chunk in _chunks(native_ids):
            statement = select(t.xrefs).where(
                c.entity == entity, c.system == system, c.native_id.in_(chunk)
            )
            for row in self._rows(statement):
                found[row.native_id] = Xref(**row._mapping)
        return found

    def xrefs_by_canonical(
        self, entity: str, canonical_ids: Sequence[str]
    ) -> dict[str, dict[str, Xref]]:
        c = t.xrefs.c
        found: dict[str, dict[str, Xref]] = {}
        for chunk in _chunks(canonical_ids):
            statement = select(t.xrefs).where(c.entity == entity, c.canonical_id.in_(chunk))
            for row in self._rows(statement):
                found.setdefault(row.canonical_id, {})[row.system] = Xref(**row._mapping)
        return found

    def iter_xrefs(self, entity: str, system: str, batch: int = 1000) -> Iterator[Xref]:
        # Keyset pages along the primary key: no connection stays open between pages.
        c = t.xrefs.c
        after: str | None = None
        while True:
            statement = (
                select(t.xrefs)
                .where(c.entity == entity, c.system == system)
                .order_by(c.native_id)
                .limit(batch)
            )
            if after is not None:
                statement = statement.where(c.native_id > after)
            rows = self._rows(statement)
            for row in rows:
                yield Xref(**row._mapping)
            if len(rows) < batch:
                return
            after = rows[-1].native_id

    def count_xrefs(self, entity: str, system: str) -> int:
        c = t.xrefs.c
        statement = (
            select(func.count()).select_from(t.xrefs).where(c.entity == entity, c.system == system)
        )
        return int(self._rows(statement)[0][0])

    def bases(self, canonical_ids: Sequence[str]) -> dict[str, Base]:
        found: dict[str, Base] = {}
        for chunk in _chunks(canonical_ids):
            for row in self._rows(select(t.bases).where(t.bases.c.canonical_id.in_(chunk))):
                base = Base(**row._mapping)
                if self.protector is not None:
                    opened = self.protector.open_fields(base.entity, base.fields)
                    base = Base(
                        base.canonical_id, base.entity, opened, base.version, base.updated_at
                    )
                found[row.canonical_id] = base
        return found

    # -- cursors and pending writes -----------------------------------------------------
    def cursor(self, flow: str, system: str, object_name: str) -> Cursor | None:
        c = t.cursors.c
        rows = self._rows(
            select(c.cursor).where(c.flow == flow, c.system == system, c.object_name == object_name)
        )
        return dict(rows[0][0]) if rows else None

    def pending_writes(
        self, flow: str | None = None, source: tuple[str, Sequence[str]] | None = None
    ) -> list[PendingWrite]:
        c = t.pending_writes.c
        statement = select(t.pending_writes).order_by(c.created_at, c.key)
        if flow is not None:
            statement = statement.where(c.flow == flow)
        if source is None:
            return [PendingWrite(**row._mapping) for row in self._rows(statement)]
        system, ids = source
        return [
            PendingWrite(**row._mapping)
            for chunk in sql_links.chunks(list(dict.fromkeys(ids)))
            for row in self._rows(
                statement.where(c.source_system == system, c.source_id.in_(chunk))
            )
        ]

    # -- runs -------------------------------------------------------------------------
    def start_run(self, flow: str, trigger: str) -> Run:
        run = Run(id=uuid4().hex, flow=flow, trigger=trigger, started_at=now())
        with write_connection(self.engine) as connection, connection.begin():
            connection.execute(t.runs.insert().values(**asdict(run)))
        return run

    def finish_run(
        self, run_id: str, status: RunStatus, counts: dict[str, int], message: str | None = None
    ) -> Run:
        """Record how a run ended. Raises ``KeyError`` for an unknown run id."""
        c = t.runs.c
        with write_connection(self.engine) as connection, connection.begin():
            connection.execute(
                update(t.runs)
                .where(c.id == run_id)
                .values(
                    status=status,
                    counts=counts,
                    message=redact_text(message) if message else message,
                    finished_at=now(),
                )
            )
            row = connection.execute(select(t.runs).where(c.id == run_id)).one_or_none()
        if row is None:
            raise KeyError(f"no run with id {run_id!r} in the state store")
        return Run(**row._mapping)

    def runs(self, flow: str | None = None, limit: int = 50) -> list[Run]:
        c = t.runs.c
        statement = select(t.runs).order_by(c.started_at.desc(), c.id.desc()).limit(limit)
        if flow is not None:
            statement = statement.where(c.flow == flow)
        return [Run(**row._mapping) for row in self._rows(statement)]

    # -- audit, dead letters, review, counters -----------------------------------------
    def audit_events(
        self,
        *,
        canonical_id: str | None = None,
        flow: str | None = None,
        field: str | None = None,
        system: str | None = None,
        native_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEvent]:
        c = t.audit_events.c
        wanted = {
            c.canonical_id: canonical_id,
            c.flow: flow,
            c.field: field,
            c.system: system,
            c.native_id: native_id,
            c.action: action,
        }
        statement = select(t.audit_events).order_by(c.at.desc(), c.id.desc()).limit(limit)
        for column, value in wanted.items():
            if value is not None:
                statement = statement.where(column == value)
        if since is not None:
            statement = statement.where(c.at >= since)
        rows = [row._mapping for row in self._rows(statement)]
        if self.protector is not None:
            return [AuditEvent(**self.protector.open_audit(row)) for row in rows]
        return [AuditEvent(**row) for row in rows]

    def dead_letters(
        self, *, flow: str | None = None, status: DeadLetterStatus | None = None, limit: int = 200
    ) -> list[DeadLetter]:
        """Oldest first: the order in which they failed."""
        c = t.dead_letters.c
        statement = select(t.dead_letters).order_by(c.id).limit(limit)
        if flow is not None:
            statement = statement.where(c.flow == flow)
        if status is not None:
            statement = statement.where(c.status == status)
        return [DeadLetter(**row._mapping) for row in self._rows(statement)]

    def dead_letter(self, letter_id: int) -> DeadLetter | None:
        rows = self._rows(select(t.dead_letters).where(t.dead_letters.c.id == letter_id))
        return DeadLetter(**rows[0]._mapping) if rows else None

    def review_items(
        self, *, flow: str | None = None, status: ReviewStatus | None = "open", limit: int = 200
    ) -> list[ReviewItem]:
        """Oldest first: the order in which they were raised."""
        c = t.review_items.c
        statement = select(t.review_items).order_by(c.id).limit(limit)
        if flow is not None:
            statement = statement.where(c.flow == flow)
        if status is not None:
            statement = statement.where(c.status == status)
        return [ReviewItem(**row._mapping) for row in self._rows(statement)]

    def review_item(self, item_id: int) -> ReviewItem | None:
        rows = self._rows(select(t.review_items).where(t.review_items.c.id == item_id))
        return ReviewItem(**rows[0]._mapping) if rows else None

    def counters(self, name: str | None = None) -> dict[tuple[str, str], int]:
        c = t.counters.c
        statement = select(t.counters).order_by(c.name, c.key)
        if name is not None:
            statement = statement.where(c.name == name)
        return {(row.name, row.key): int(row.value) for row in self._rows(statement)}
