"""What the connector last read of each record: its ETag and fields.

Updates carry the ETag of the record as the engine planned on it, and a 412 compares the
fresh record with these fields to tell another writer's edit of other fields from one of
the same fields (see ``writes``). Reads fill it; the most recent records are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from isthmus.connectors.base import NativeRecord

SEEN_KEPT = 50_000  # records whose ETag is remembered; older ones are read again first


class SeenCache:
    """ETag and fields of records as last read or written, most recent kept."""

    def __init__(self, kept: int = SEEN_KEPT) -> None:
        self.kept = kept
        self._entries: OrderedDict[tuple[str, str], tuple[str, dict[str, Any]]] = OrderedDict()

    def remember(self, set_name: str, record: NativeRecord, etag: str) -> None:
        key = (set_name, record.id.lower())
        self._entries[key] = (etag, dict(record.fields))
        self._entries.move_to_end(key)
        if len(self._entries) > self.kept:
            self._entries.popitem(last=False)

    def get(self, set_name: str, record_id: str) -> tuple[str, dict[str, Any]] | None:
        return self._entries.get((set_name, record_id.lower()))

    def forget(self, set_name: str, record_id: str) -> None:
        self._entries.pop((set_name, record_id.lower()), None)
