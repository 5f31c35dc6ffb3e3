"""Optional SQLite file behind the in-memory store, so an org survives restarts.

The store stays the source of truth while running; this file is written through at the
end of every top-level write (one SQLite transaction per API write) and read once at
start. Records are kept as JSON, keyed by id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    object TEXT NOT NULL,
    body TEXT NOT NULL,
    deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS counters (
    prefix TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class StoredRecord:
    """One row: the record's fields, and when it went to the recycle bin (if it did)."""

    object_name: str
    record: dict[str, Any]
    deleted_at: str | None


class SqlitePersistence:
    """Reads and writes the sandbox's records in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Writes come from the event loop thread, reads at start from the main thread.
        self._connection = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._connection:
            self._connection.executescript(_SCHEMA)

    def load(self) -> Iterator[StoredRecord]:
        """Every stored record, in insertion order."""
        rows = self._connection.execute(
            "SELECT object, body, deleted_at FROM records ORDER BY rowid"
        ).fetchall()
        for object_name, body, deleted_at in rows:
            yield StoredRecord(object_name, json.loads(body), deleted_at)

    def load_counters(self) -> dict[str, int]:
        rows = self._connection.execute("SELECT prefix, value FROM counters").fetchall()
        return {prefix: int(value) for prefix, value in rows}

    def save(
        self,
        records: Iterable[tuple[str, str, dict[str, Any] | None, str | None]],
        counters: dict[str, int],
    ) -> None:
        """Write ``(object, id, record or None to remove, deleted_at)`` rows and counters."""
        upserts: list[tuple[str, str, str, str | None]] = []
        removals: list[tuple[str]] = []
        for object_name, record_id, record, deleted_at in records:
            if record is None:
                removals.append((record_id,))
            else:
                upserts.append((record_id, object_name, json.dumps(record), deleted_at))
        with self._lock, self._connection:
            self._connection.executemany(
                "INSERT INTO records (id, object, body, deleted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET body = excluded.body, "
                "deleted_at = excluded.deleted_at",
                upserts,
            )
            self._connection.executemany("DELETE FROM records WHERE id = ?", removals)
            self._connection.executemany(
                "INSERT INTO counters (prefix, value) VALUES (?, ?) "
                "ON CONFLICT(prefix) DO UPDATE SET value = excluded.value",
                list(counters.items()),
            )

    def close(self) -> None:
        self._connection.close()
