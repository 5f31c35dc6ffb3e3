"""State: links (cross-references), bases, cursors, runs, audit, dead letters, review items,
pending writes and counters. One interface (``Store``), two backends (SQLite, PostgreSQL).

Invariant: a store returned by ``open_store`` has its schema at the newest migration.
"""

from __future__ import annotations

from isthmus.store.base import Store, UnitOfWork
from isthmus.store.sql import SqlStore
from isthmus.store.types import (
    ROLES,
    ApiToken,
    AuditEvent,
    Base,
    DeadLetter,
    LinkConflictError,
    PendingWrite,
    ReviewItem,
    Role,
    Run,
    User,
    Xref,
    XrefTouch,
)


def open_store(url: str) -> Store:
    """Open the state store at ``url`` and bring its schema up to date.

    Args:
        url: ``sqlite:///path/state.db``, a bare path (SQLite too; the folder is
            created), or ``postgresql://user@host:5432/db`` (driven by psycopg 3).

    Raises:
        ConfigError: the URL is not supported, or the database cannot be reached; the
            message says what to change.
    """
    store = SqlStore(url)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


__all__ = [
    "ROLES",
    "ApiToken",
    "AuditEvent",
    "Base",
    "DeadLetter",
    "LinkConflictError",
    "PendingWrite",
    "ReviewItem",
    "Role",
    "Run",
    "SqlStore",
    "Store",
    "UnitOfWork",
    "User",
    "Xref",
    "XrefTouch",
    "open_store",
]
