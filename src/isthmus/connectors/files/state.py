"""What the connector knows of one object: every row seen or written, and every file read.

Files come and go (a drop folder is emptied into ``processed/``), but the engine still
asks for a record by id (a replay, a partner read) and looks records up by value (an
idempotent create). So the connector keeps the last state of each row it took in or
wrote, with a sequence number the change cursor counts on, and a ledger of the files it
has read (name, size, mtime, sha256) so a file is taken in once and a changed one again.

Saved as one JSON file, written to a temporary file and renamed over the old one, so a
crash leaves either the state before or the state after, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1


@dataclass
class Entry:
    id: str
    values: dict[str, str]  # cell texts by column; "" is an empty cell
    modified_at: str  # ISO 8601, UTC
    seq: int
    origin: str  # "file.csv:12" for a row read, "written" for one Isthmus wrote
    error: dict[str, str | None] | None = None  # {"message", "field"} when the row is bad

    def same_as(self, other: Entry) -> bool:
        return self.values == other.values and self.error == other.error


@dataclass
class FileSeen:
    size: int
    mtime_ns: int
    sha256: str
    status: str  # "processed" or "rejected"
    rows: int = 0
    problems: int = 0
    reason: str | None = None


@dataclass
class ObjectState:
    seq: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)
    files: dict[str, FileSeen] = field(default_factory=dict)
    header: list[str] | None = None  # the first header read, for objects without fields

    def put(self, entry: Entry) -> bool:
        """Store ``entry`` as the record's latest state; False when nothing changed."""
        known = self.entries.get(entry.id)
        if known is not None and known.same_as(entry):
            return False
        self.seq += 1
        entry.seq = self.seq
        self.entries[entry.id] = entry
        return True


def load(path: Path) -> ObjectState:
    if not path.exists():
        return ObjectState()
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("version") != VERSION:
        raise ValueError(
            f"{path}: state version {raw.get('version')!r} is not {VERSION}; it was written "
            "by another Isthmus version"
        )
    return ObjectState(
        seq=int(raw["seq"]),
        entries={e["id"]: Entry(**e) for e in raw["entries"]},
        files={name: FileSeen(**seen) for name, seen in raw["files"].items()},
        header=raw.get("header"),
    )


def save(path: Path, state: ObjectState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "version": VERSION,
        "seq": state.seq,
        "header": state.header,
        "files": {name: asdict(seen) for name, seen in state.files.items()},
        # By hand, not asdict: asdict deep-copies, and this runs on every write batch.
        "entries": [
            {
                "id": e.id,
                "values": e.values,
                "modified_at": e.modified_at,
                "seq": e.seq,
                "origin": e.origin,
                "error": e.error,
            }
            for e in state.entries.values()
        ],
    }
    write_atomically(path, json.dumps(body, ensure_ascii=False).encode("utf-8"))


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a hidden temporary file in the same folder, sync, then rename over
    ``path``: a reader (or the other system's import job) never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
