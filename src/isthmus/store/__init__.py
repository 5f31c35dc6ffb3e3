"""State: links (cross-references), bases, cursors, runs, audit, dead letters, review items,
pending writes and counters. One interface (``Store``), two backends (SQLite, PostgreSQL).
"""

from isthmus.store.base import Store, UnitOfWork
from isthmus.store.sql import SqlStore, open_store
from isthmus.store.types import (
    AuditEvent,
    Base,
    DeadLetter,
    LinkConflictError,
    PendingWrite,
    ReviewItem,
    Run,
    Xref,
)

__all__ = [
    "AuditEvent",
    "Base",
    "DeadLetter",
    "LinkConflictError",
    "PendingWrite",
    "ReviewItem",
    "Run",
    "SqlStore",
    "Store",
    "UnitOfWork",
    "Xref",
    "open_store",
]
