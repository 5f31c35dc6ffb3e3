"""``FilesConnector``: CSV files exchanged with a system (usually an ERP) as a system.

Each object reads from ``inbound`` (one export file, re-read when it changes, or a drop
folder whose files are each taken in once) and writes to ``outbound`` (one new CSV file
per batch, written atomically). Between the two sits the object's state (``state.py``):
the latest row of every record, with a sequence number that is the change cursor.

What files cannot promise, the capabilities say: no deletes (a CSV row cannot say "this
record is gone"; ``delete_feed`` is False and the object is not deletable), no webhooks.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from isthmus.connectors.base import (
    Capabilities,
    ChangePage,
    Cursor,
    FieldDescription,
    NativeFields,
    NativeRecord,
    ObjectDescription,
    WebhookEvent,
    WriteOp,
    WriteOutcome,
    WriteResult,
)
from isthmus.connectors.files import ingest, state
from isthmus.connectors.files.config import FileObject, parse_objects
from isthmus.connectors.files.parse import CsvFileError, parse
from isthmus.connectors.files.state import Entry, ObjectState
from isthmus.connectors.files.values import CellError, format_cell, parse_cell
from isthmus.errors import ConfigError, ErrorKind, RecordError, TransientError


class FilesConnector:
    def __init__(
        self, name: str, root: Path, objects: Mapping[str, FileObject], state_dir: Path
    ) -> None:
        self.name = name
        self.root = root
        self.objects = dict(objects)
        self.state_dir = state_dir
        self.capabilities = Capabilities(
            batch_size=500,
            upsert_by_external_id=any(o.external_key for o in objects.values()),
            webhooks=False,
            delete_feed=False,
        )
        self._states: dict[str, ObjectState] = {}
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    # -- state -------------------------------------------------------------------------

    def _spec(self, object_name: str) -> FileObject:
        spec = self.objects.get(object_name)
        if spec is None:
            raise ConfigError(
                f"system {self.name!r} has no object {object_name!r}; "
                f"configured: {', '.join(self.objects)}"
            )
        return spec

    def _state_path(self, object_name: str) -> Path:
        return self.state_dir / f"{self.name}.{object_name}.json"

    def _state(self, object_name: str) -> ObjectState:
        if object_name not in self._states:
            try:
                self._states[object_name] = state.load(self._state_path(object_name))
            except (ValueError, KeyError, TypeError) as error:
                raise ConfigError(
                    f"system {self.name!r}: the state file of {object_name!r} cannot be read "
                    f"({error}); restore it from a backup, or remove it to read every "
                    "inbound file again"
                ) from None
        return self._states[object_name]

    def _save(self, object_name: str) -> None:
        try:
            state.save(self._state_path(object_name), self._state(object_name))
        except OSError as error:
            raise TransientError(f"{self.name}: cannot save the state: {error}") from None

    def _refresh(self, object_name: str) -> tuple[FileObject, ObjectState]:
        """Take in new and changed inbound files, then move drop-folder files away."""
        spec, known = self._spec(object_name), self._state(object_name)
        try:
            paths = ingest.inbound_files(self.root, spec)
            before = (known.seq, len(known.files), sum(f.mtime_ns for f in known.files.values()))
            moves = [(path, ingest.take_in(self.root, spec, known, path)) for path in paths]
            after = (known.seq, len(known.files), sum(f.mtime_ns for f in known.files.values()))
            if after != before:
                self._save(object_name)
            if spec.drop_folder and spec.move:
                for path, status in moves:
                    if status is not None:
                        reason = known.files[path.relative_to(self.root).as_posix()].reason
                        ingest.move(path, status, reason)
        except OSError as error:
            raise TransientError(f"{self.name}: cannot read {spec.inbound}: {error}") from None
        return spec, known

    def _peek_header(self, spec: FileObject) -> list[str] | None:
        for path in ingest.inbound_files(self.root, spec):
            try:
                data = path.read_bytes()
                return parse(
                    path.name,
                    data,
                    columns=None,
                    encoding=spec.encoding,
                    delimiter=spec.delimiter,
                    field_limit=spec.field_limit,
                ).header
            except (OSError, CsvFileError):
                continue  # taken in later, and rejected with its reason then
        return None

    def _columns(self, spec: FileObject, known: ObjectState) -> list[str]:
        if spec.fields is not None:
            return list(spec.fields)
        if known.header is not None:
            return list(known.header)
        raise ConfigError(
            f"system {self.name!r}, object {spec.name!r}: no fields are configured and no "
            "inbound file has been read yet; list the columns under fields"
        )

    def _record(self, spec: FileObject, entry: Entry) -> NativeRecord:
        stamp = datetime.fromisoformat(entry.modified_at)
        if entry.error is not None:
            error = RecordError(
                "validation", entry.error["message"] or "bad row", field=entry.error["field"]
            )
            return NativeRecord(entry.id, dict(entry.values), stamp, error=error)
        fields: NativeFields = {}
        for column, text in entry.values.items():
            described = spec.fields.get(column) if spec.fields else None
            try:
                fields[column] = parse_cell(described.type, text) if described else (text or None)
            except CellError as error:
                # Kept under an earlier type (the fields option changed since): a bad
                # value of this record, not a failed read of the whole object.
                problem = RecordError(
                    "validation",
                    f"{entry.origin}, column {column!r}: {error}; fix the value at its "
                    "source, or the field's type",
                    field=column,
                )
                return NativeRecord(entry.id, dict(entry.values), stamp, error=problem)
        return NativeRecord(entry.id, fields, stamp)

    # -- the connector protocol ----------------------------------------------------------

    async def describe(self, object_name: str) -> ObjectDescription:
        # No files are taken in here: ``isthmus validate`` describes, and must not move
        # a drop folder's files. Without fields, the first inbound file's header is read.
        spec, known = self._spec(object_name), self._state(object_name)
        if spec.fields is None and known.header is None:
            known.header = self._peek_header(spec)
        columns = self._columns(spec, known)
        fields = dict(spec.fields) if spec.fields else {c: FieldDescription(c) for c in columns}
        return ObjectDescription(
            object_name, spec.key, fields, external_key=spec.external_key, deletable=False
        )

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        spec, known = self._refresh(object_name)
        after = int(cursor.get("seq", 0)) if cursor else 0
        changed = sorted((e for e in known.entries.values() if e.seq > after), key=lambda e: e.seq)
        if not changed:
            yield ChangePage([], {"seq": after}, full=cursor is None)
            return
        for start in range(0, len(changed), page_size):
            page = changed[start : start + page_size]
            records = [self._record(spec, e) for e in page]
            yield ChangePage(records, {"seq": page[-1].seq}, full=cursor is None)

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        # Reads the current state: a fixed file dropped since is taken in first, so a
        # replay after the fix goes through.
        spec, known = self._refresh(object_name)
        return {i: self._record(spec, known.entries[i]) for i in ids if i in known.entries}

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        spec, known = self._refresh(object_name)
        wanted = {str(v) for v in values}
        grouped: dict[str, list[NativeRecord]] = {}
        for entry in sorted(known.entries.values(), key=lambda e: e.seq):
            value = entry.id if field_name == spec.key else entry.values.get(field_name)
            if entry.error is None and value in wanted:
                grouped.setdefault(value, []).append(self._record(spec, entry))
        return grouped

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        spec, known = self._refresh(object_name)
        if spec.outbound is None:
            error = RecordError(
                "validation",
                f"object {object_name!r} of {self.name} is read only; set its outbound "
                "folder to write to it",
            )
            return [WriteResult(op.ref, "failed", error=error) for op in ops]
        columns = self._columns(spec, known)
        staged: dict[str, Entry] = {}
        results: list[WriteResult] = []
        by_external: dict[str, str] = {}
        if spec.external_key and any(op.kind == "upsert" for op in ops):
            by_external = {
                e.values[spec.external_key]: e.id
                for e in sorted(known.entries.values(), key=lambda e: e.seq)
                if e.values.get(spec.external_key)
            }
        for op in ops:
            try:
                outcome, entry = self._plan(spec, known, staged, by_external, columns, op)
            except _Refused as refused:
                results.append(WriteResult(op.ref, "failed", error=refused.error))
                continue
            if entry is not None:
                staged[entry.id] = entry
                if spec.external_key and entry.values.get(spec.external_key):
                    by_external[entry.values[spec.external_key]] = entry.id
            stamp = datetime.fromisoformat(entry.modified_at) if entry else None
            results.append(
                WriteResult(op.ref, outcome, id=(entry.id if entry else op.id), modified_at=stamp)
            )
        if staged:
            # The file first, then the state: after a crash in between, the engine's
            # look-up does not find the record and writes it again, so the other system
            # may import a row twice (by key: an update), but never misses one.
            self._write_file(spec, columns, list(staged.values()))
            for entry in staged.values():
                known.put(entry)
            self._save(object_name)
        return results

    def _plan(
        self,
        spec: FileObject,
        known: ObjectState,
        staged: dict[str, Entry],
        by_external: dict[str, str],
        columns: list[str],
        op: WriteOp,
    ) -> tuple[WriteOutcome, Entry | None]:
        if op.kind == "delete":
            raise _Refused(
                "validation",
                f"{self.name} cannot delete {spec.name} records: a CSV row cannot say a "
                "record is gone. Set the flow's on_delete to decouple, ignore or deactivate, or "
                "delete the record in the other system by hand",
            )
        cells = self._cells(spec, columns, op.fields)
        current: Entry | None = None
        if op.kind in ("update", "upsert"):
            record_id = op.id
            if op.kind == "upsert" and spec.external_key and op.external_key:
                record_id = by_external.get(op.external_key)
            if record_id is not None:
                current = staged.get(record_id) or known.entries.get(record_id)
            if current is None and op.kind == "update":
                raise _Refused("not_found", f"{spec.name} {op.id!r} is not in {self.name}")
        if current is not None:
            new_key = cells.get(spec.key)
            if new_key and new_key != current.id:
                raise _Refused(
                    "validation",
                    f"the key {spec.key!r} of {current.id!r} cannot change to {new_key!r} "
                    "in a file exchange",
                    field=spec.key,
                )
            values = {**current.values, **cells}
            if values == current.values:
                return "unchanged", None
            return "updated", Entry(current.id, values, self._stamp(), 0, "written")
        record_id = cells.get(spec.key) or op.external_key or uuid.uuid4().hex
        if record_id in known.entries or record_id in staged:
            raise _Refused(
                "conflict",
                f"{spec.name} {record_id!r} already exists in {self.name}; update it instead",
                field=spec.key,
            )
        values = dict.fromkeys(columns, "") | cells | {spec.key: record_id}
        if spec.external_key and op.external_key:
            values[spec.external_key] = op.external_key
        missing = [c for c, d in (spec.fields or {}).items() if d.required and not values.get(c)]
        if missing:
            raise _Refused(
                "validation",
                f"{spec.name} {record_id!r}: a value for {missing[0]!r} is required",
                field=missing[0],
            )
        return "created", Entry(record_id, values, self._stamp(), 0, "written")

    def _cells(self, spec: FileObject, columns: list[str], fields: NativeFields) -> dict[str, str]:
        cells: dict[str, str] = {}
        for name, value in fields.items():
            if name not in columns:
                raise _Refused(
                    "validation",
                    f"{spec.name} has no column {name!r} (columns: {', '.join(columns)}); "
                    "add it to the object's fields or fix the mapping",
                    field=name,
                )
            described = spec.fields.get(name) if spec.fields else None
            try:
                text = format_cell(described.type if described else "string", value)
            except CellError as error:
                raise _Refused("validation", f"{name}: {error}", field=name) from None
            if "\x00" in text:
                raise _Refused(
                    "validation",
                    f"{name}: the value contains a NUL byte, which no CSV import keeps; "
                    "remove it at the source",
                    field=name,
                )
            if described is not None and described.length and len(text) > described.length:
                raise _Refused(
                    "validation",
                    f"{name}: {len(text)} characters, at most {described.length} fit",
                    field=name,
                )
            try:
                text.encode(spec.encoding)
            except UnicodeEncodeError as error:
                raise _Refused(
                    "validation",
                    f"{name}: {text[error.start : error.end]!r} cannot be written in "
                    f"{spec.encoding}; change the value or the object's encoding",
                    field=name,
                ) from None
            cells[name] = text
        return cells

    def _write_file(self, spec: FileObject, columns: list[str], entries: list[Entry]) -> None:
        assert spec.outbound is not None
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=spec.delimiter or ",", lineterminator="\r\n")
        writer.writerow(columns)
        for entry in entries:
            writer.writerow([entry.values.get(c, "") for c in columns])
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = spec.outbound / f"{spec.name}-{stamp}-{uuid.uuid4().hex[:8]}.csv"
        try:
            spec.outbound.mkdir(parents=True, exist_ok=True)
            state.write_atomically(path, buffer.getvalue().encode(spec.encoding))
        except OSError as error:
            raise TransientError(f"{self.name}: cannot write {path}: {error}") from None

    def _stamp(self) -> str:
        stamp = max(datetime.now(UTC), self._last_stamp + timedelta(microseconds=1))
        self._last_stamp = stamp
        return stamp.isoformat()

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        raise ValueError(f"{self.name} exchanges files and has no webhooks; use a poll trigger")

    async def close(self) -> None:
        self._states.clear()


class _Refused(Exception):
    """One op cannot be written; becomes that op's error value."""

    def __init__(self, kind: ErrorKind, message: str, *, field: str | None = None) -> None:
        self.error = RecordError(kind, message, field=field)
        super().__init__(message)


def from_config(name: str, options: dict[str, Any]) -> FilesConnector:
    root = options.get("root")
    if not isinstance(root, str) or not root:
        raise ConfigError(
            f"system {name!r}: options.root is required: the folder files are exchanged in"
        )
    base = Path(root)
    unknown = set(options) - {"root", "state", "objects", "encoding", "delimiter", "field_limit"}
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown option(s) {', '.join(sorted(unknown))}; allowed: "
            "root, state, objects, encoding, delimiter, field_limit"
        )
    state_dir = base / str(options.get("state", ".isthmus"))
    return FilesConnector(name, base, parse_objects(name, base, options), state_dir)
