"""``SqlStore``: the state store on SQLite (embedded default) or PostgreSQL.

One implementation for both backends; the differences are connection settings (WAL and
a busy timeout on SQLite so ``isthmus status`` can read while a sync writes).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from isthmus.connectors.base import Cursor
from isthmus.errors import ConfigError
from isthmus.store import tables as t
from isthmus.store.base import Store
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
    Xref,
)

_CHUNK = 500  # IN-list size: well under SQLite's variable limit


def _engine(url: str) -> Engine:
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True)


class SqlStore(Store):
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _engine(url)
        except (SQLAlchemyError, ValueError) as error:
            raise ConfigError(
                f"store URL {url!r} is not usable: {error}; write "
                "sqlite:///path.db or postgresql://user@host/db"
            ) from None

    def migrate(self) -> None:
        try:
            t.metadata.create_all(self.engine)
        except OperationalError as error:
            raise ConfigError(
                f"cannot open the state store {self.url!r}: {error.orig}; check "
                "that the database server runs and the URL is right"
            ) from None

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        with self.engine.begin() as conn:
            uow = SqlUnitOfWork(conn)
            yield uow
            uow.flush()

    def close(self) -> None:
        self.engine.dispose()

    def _rows(self, statement: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(statement))

    def xrefs_by_native(
        self, entity: str, system: str, native_ids: Sequence[str]
    ) -> dict[str, Xref]:
        result: dict[str, Xref] = {}
        c = t.xrefs.c
        for start in range(0, len(native_ids), _CHUNK):
            chunk = list(native_ids[start : start + _CHUNK])
            for row in self._rows(
                select(t.xrefs).where(
                    c.entity == entity, c.system == system, c.native_id.in_(chunk)
                )
            ):
                result[row.native_id] = Xref(**row._mapping)
        return result

    def xrefs_by_canonical(
        self, entity: str, canonical_ids: Sequence[str]
    ) -> dict[str, dict[str, Xref]]:
        result: dict[str, dict[str, Xref]] = {}
        c = t.xrefs.c
        for start in range(0, len(canonical_ids), _CHUNK):
            chunk = list(canonical_ids[start : start + _CHUNK])
            for row in self._rows(
                select(t.xrefs).where(c.entity == entity, c.canonical_id.in_(chunk))
            ):
                result.setdefault(row.canonical_id, {})[row.system] = Xref(**row._mapping)
        return result

    def iter_xrefs(self, entity: str, system: str, batch: int = 1000) -> Iterator[Xref]:
        c = t.xrefs.c
        last = ""
        while True:
            rows = self._rows(
                select(t.xrefs)
                .where(c.entity == entity, c.system == system, c.native_id > last)
                .order_by(c.native_id)
                .limit(batch)
            )
            if not rows:
                return
            for row in rows:
                yield Xref(**row._mapping)
            last = rows[-1].native_id

    def count_xrefs(self, entity: str, system: str) -> int:
        c = t.xrefs.c
        return int(
            self._rows(
                select(func.count())
                .select_from(t.xrefs)
                .where(c.entity == entity, c.system == system)
            )[0][0]
        )

    def bases(self, canonical_ids: Sequence[str]) -> dict[str, Base]:
        result: dict[str, Base] = {}
        for start in range(0, len(canonical_ids), _CHUNK):
            chunk = list(canonical_ids[start : start + _CHUNK])
            for row in self._rows(select(t.bases).where(t.bases.c.canonical_id.in_(chunk))):
                result[row.canonical_id] = Base(**row._mapping)
        return result

    def cursor(self, flow: str, system: str, object_name: str) -> Cursor | None:
        c = t.cursors.c
        rows = self._rows(
            select(c.cursor).where(c.flow == flow, c.system == system, c.object_name == object_name)
        )
        return dict(rows[0][0]) if rows else None

    def pending_writes(self, flow: str | None = None) -> list[PendingWrite]:
        statement = select(t.pending_writes)
        if flow is not None:
            statement = statement.where(t.pending_writes.c.flow == flow)
        return [PendingWrite(**row._mapping) for row in self._rows(statement)]

    def start_run(self, flow: str, trigger: str) -> Run:
        run = Run(id=str(uuid.uuid4()), flow=flow, trigger=trigger, started_at=now())
        with self.engine.begin() as conn:
            conn.execute(
                t.runs.insert().values(
                    id=run.id,
                    flow=flow,
                    trigger=trigger,
                    status="running",
                    counts={},
                    started_at=run.started_at,
                )
            )
        return run

    def finish_run(
        self, run_id: str, status: RunStatus, counts: dict[str, int], message: str | None = None
    ) -> Run:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(status=status, counts=counts, message=message, finished_at=now())
            )
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).one()
        return Run(**row._mapping)

    def runs(self, flow: str | None = None, limit: int = 50) -> list[Run]:
        statement = select(t.runs).order_by(t.runs.c.started_at.desc()).limit(limit)
        if flow is not None:
            statement = statement.where(t.runs.c.flow == flow)
        return [Run(**row._mapping) for row in self._rows(statement)]

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
        statement = select(t.audit_events).order_by(c.id.desc()).limit(limit)
        filters = {
            c.canonical_id: canonical_id,
            c.flow: flow,
            c.field: field,
            c.system: system,
            c.native_id: native_id,
            c.action: action,
        }
        for column, value in filters.items():
            if value is not None:
                statement = statement.where(column == value)
        if since is not None:
            statement = statement.where(c.at >= since)
        return [AuditEvent(**row._mapping) for row in self._rows(statement)]

    def dead_letters(
        self, *, flow: str | None = None, status: DeadLetterStatus | None = None, limit: int = 200
    ) -> list[DeadLetter]:
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
        statement = select(t.counters)
        if name is not None:
            statement = statement.where(t.counters.c.name == name)
        return {(row.name, row.key): int(row.value) for row in self._rows(statement)}


def open_store(url: str) -> Store:
    """Open (and create or upgrade) the store at ``url``; a bare path means SQLite."""
    store = SqlStore(url)
    store.migrate()
    return store
