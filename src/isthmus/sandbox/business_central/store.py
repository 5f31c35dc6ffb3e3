"""The sandbox's company data: one table per entity set, per company, plus number series.

Writes go through :class:`CompanyStore` so every record gets a fresh ``lastModifiedDateTime``
and every change reaches the listeners (webhooks). A lock serialises writes because the
HTTP server, the webhook sender and the activity simulator run on different threads.
Optional persistence writes the whole state to one SQLite row after each change; it is a
sandbox, so durability of the last write is enough and simplicity wins.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from isthmus.sandbox.business_central.entities import DECIMAL_FIELDS

Record = dict[str, Any]
ChangeListener = Callable[[str, str, Record, str], None]  # company id, set, record, change type


def now_iso() -> str:
    """The current time as BC writes it: UTC, millisecond precision, ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


class NotFoundError(KeyError):
    """No record with this id in this entity set."""


class NumberIndex:
    """Which records hold each number. It remembers each record's number itself, because
    a PATCH changes the stored record in place before ``put`` sees it."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = {}
        self._number_of: dict[str, str] = {}

    def put(self, record: Record) -> None:
        self.remove(record["id"])
        if record.get("number"):
            number = str(record["number"])
            self._ids.setdefault(number, set()).add(record["id"])
            self._number_of[record["id"]] = number

    def remove(self, record_id: str) -> None:
        old = self._number_of.pop(record_id, None)
        if old is not None:
            self._ids[old].discard(record_id)

    def has(self, number: str) -> bool:
        return bool(self._ids.get(number))


class CompanyStore:
    """Tables of every company, number series, and change listeners."""

    def __init__(self, db_path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.companies: dict[str, Record] = {}
        self.tables: dict[str, dict[str, dict[str, Record]]] = {}
        self.series: dict[str, int] = {}
        self.listeners: list[ChangeListener] = []
        # number -> record ids, per (company, set), built on first use and kept by put and
        # delete: a look-up by number (BC's key of master data) without scanning a table.
        self._numbers: dict[tuple[str, str], NumberIndex] = {}
        self._db_path = db_path
        #: Off while seeding, so thousands of generated records cost one write, not one each.
        self.autosave = True
        if db_path is not None and db_path.exists():
            self._load(db_path)

    # -- reading -----------------------------------------------------------------------
    def rows(self, company_id: str, set_name: str) -> list[Record]:
        with self.lock:
            return list(self.table(company_id, set_name).values())

    def get(self, company_id: str, set_name: str, record_id: str) -> Record:
        with self.lock:
            record = self.table(company_id, set_name).get(record_id.lower())
            if record is None:
                raise NotFoundError(f"{set_name}({record_id}) does not exist in this company")
            return record

    def table(self, company_id: str, set_name: str) -> dict[str, Record]:
        return self.tables.setdefault(company_id, {}).setdefault(set_name, {})

    def has_number(self, company_id: str, set_name: str, number: str) -> bool:
        with self.lock:
            return self._number_index(company_id, set_name).has(number)

    def _number_index(self, company_id: str, set_name: str) -> NumberIndex:
        index = self._numbers.get((company_id, set_name))
        if index is None:
            index = NumberIndex()
            for record in self.table(company_id, set_name).values():
                index.put(record)
            self._numbers[(company_id, set_name)] = index
        return index

    def lines_of(self, company_id: str, lines_set: str, document_id: str) -> list[Record]:
        rows = [r for r in self.rows(company_id, lines_set) if r["documentId"] == document_id]
        return sorted(rows, key=lambda r: r["sequence"])

    # -- writing -----------------------------------------------------------------------
    def put(
        self, company_id: str, set_name: str, record: Record, change: str = "updated"
    ) -> Record:
        """Insert or replace a record, stamping ``lastModifiedDateTime`` and notifying."""
        with self.lock:
            record.setdefault("id", new_id())
            record["lastModifiedDateTime"] = now_iso()
            self.table(company_id, set_name)[record["id"]] = record
            if (company_id, set_name) in self._numbers:
                self._numbers[(company_id, set_name)].put(record)
            self._changed(company_id, set_name, record, change)
            return record

    def delete(self, company_id: str, set_name: str, record_id: str) -> None:
        with self.lock:
            record = self.get(company_id, set_name, record_id)
            del self.table(company_id, set_name)[record_id.lower()]
            if (company_id, set_name) in self._numbers:
                self._numbers[(company_id, set_name)].remove(record_id.lower())
            self._changed(company_id, set_name, record, "deleted")

    def next_number(self, prefix: str) -> str:
        """The next document number of a series, e.g. ``S-ORD101001``."""
        with self.lock:
            self.series[prefix] = self.series.get(prefix, 100_000) + 1
            return f"{prefix}{self.series[prefix]}"

    def _changed(self, company_id: str, set_name: str, record: Record, change: str) -> None:
        for listener in self.listeners:
            listener(company_id, set_name, record, change)
        if self.autosave:
            self.save()

    # -- change sets and persistence ---------------------------------------------------
    def snapshot(self) -> tuple[dict[str, Any], dict[str, int]]:
        with self.lock:
            return copy.deepcopy(self.tables), dict(self.series)

    def restore(self, state: tuple[dict[str, Any], dict[str, int]]) -> None:
        with self.lock:
            self.tables, self.series = copy.deepcopy(state[0]), dict(state[1])
            self._numbers.clear()
            self.save()

    def save(self) -> None:
        if self._db_path is None:
            return
        state = json.dumps(
            {"companies": self.companies, "tables": self.tables, "series": self.series},
            default=str,
        )
        with sqlite3.connect(self._db_path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY, body TEXT)")
            conn.execute("INSERT OR REPLACE INTO state (id, body) VALUES (1, ?)", (state,))

    def _load(self, db_path: Path) -> None:
        with sqlite3.connect(db_path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY, body TEXT)")
            row = conn.execute("SELECT body FROM state WHERE id = 1").fetchone()
        if row is None:
            return
        state = json.loads(row[0])
        self.companies = state["companies"]
        self.series = state["series"]
        # Money is Decimal inside the sandbox; JSON brought it back as text.
        for company_tables in state["tables"].values():
            for set_name, table in company_tables.items():
                for record in table.values():
                    for name in DECIMAL_FIELDS.get(set_name, ()):
                        if record.get(name) is not None:
                            record[name] = Decimal(str(record[name]))
        self.tables = state["tables"]
        self._numbers.clear()

    @property
    def loaded(self) -> bool:
        return bool(self.companies)
