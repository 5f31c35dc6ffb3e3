"""Transactions of the record store: undo entries, savepoints and change notices.

A transaction collects, per top-level write, what each change overwrote (to roll back
to any savepoint) and the notices to announce once it commits. Rolling back to a
savepoint drops the notices made after it, so undone writes are never announced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Record = dict[str, Any]
ChangeType = Literal["CREATE", "UPDATE", "DELETE", "UNDELETE"]


@dataclass(frozen=True)
class ChangeNotice:
    """One committed change, as the event stream needs it."""

    change_type: ChangeType
    object_name: str
    record_id: str
    changed_fields: tuple[str, ...]
    nulled_fields: tuple[str, ...]
    values: Mapping[str, Any]
    user_id: str
    committed_at: dt.datetime


@dataclass(frozen=True)
class UndoEntry:
    """What one write replaced: the record before it (None if it did not exist)."""

    object_name: str
    record_id: str
    before: Record | None
    deleted_at_before: str | None


@dataclass
class Transaction:
    undo: list[UndoEntry] = field(default_factory=list)
    notices: list[ChangeNotice] = field(default_factory=list)


@dataclass
class Savepoint:
    """A mark inside the current transaction that can be rolled back to."""

    transaction: Transaction
    undo_mark: int
    notice_mark: int
    #: Restores records from the transaction's undo entries back to a mark.
    undo_to: Callable[[Transaction, int], None]

    def rollback(self) -> None:
        """Undo every write made since this savepoint."""
        self.undo_to(self.transaction, self.undo_mark)
        del self.transaction.notices[self.notice_mark :]
