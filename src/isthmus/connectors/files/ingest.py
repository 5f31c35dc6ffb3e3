"""Take inbound files into an object's state: each file once, a changed file again.

A file that cannot be read as a whole goes to ``rejected/`` with a ``.error.txt`` next
to it saying why; a bad row becomes an entry carrying its error (the engine makes it a
dead letter naming file, line and column) and the rest of the file goes on. Drop-folder
files move to ``processed/`` only after the state holding their rows is saved, so a
crash in between reads the file again, which changes nothing (same content, same state).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from isthmus.connectors.files.config import FileObject
from isthmus.connectors.files.parse import CsvFileError, ParsedFile, parse
from isthmus.connectors.files.state import Entry, FileSeen, ObjectState
from isthmus.connectors.files.values import CellError, parse_cell, parse_datetime

log = structlog.get_logger(__name__)


def inbound_files(root: Path, spec: FileObject) -> list[Path]:
    """The files to look at, oldest first (an ERP's exports apply in the order made)."""
    if spec.inbound is None:
        return []
    if spec.drop_folder:
        found = [p for p in root.glob(spec.inbound) if p.is_file() and not _hidden(p)]
    else:
        path = root / spec.inbound
        found = [path] if path.is_file() else []
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _hidden(path: Path) -> bool:
    # Files being written by the other side are usually hidden or temporary until renamed.
    return path.name.startswith(".") or path.suffix in (".tmp", ".part")


def take_in(root: Path, spec: FileObject, state: ObjectState, path: Path) -> str | None:
    """Take one file into ``state`` (not saved here). Returns where the file should
    move ("processed", "rejected") or None when it stays (a single export file)."""
    name = path.relative_to(root).as_posix()
    stat = path.stat()
    seen = state.files.get(name)
    if seen is not None and (seen.size, seen.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        return seen.status
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if seen is not None and seen.sha256 == digest:
        # Touched or copied again, same bytes: taken in once.
        seen.size, seen.mtime_ns = stat.st_size, stat.st_mtime_ns
        return seen.status
    try:
        parsed = parse(
            path.name,
            data,
            columns=list(spec.fields) if spec.fields is not None else state.header,
            encoding=spec.encoding,
            delimiter=spec.delimiter,
            field_limit=spec.field_limit,
        )
    except CsvFileError as error:
        log.warning("csv file rejected", file=name, reason=str(error))
        state.files[name] = FileSeen(
            stat.st_size, stat.st_mtime_ns, digest, "rejected", reason=str(error)
        )
        return "rejected"
    if state.header is None:
        state.header = list(parsed.header)
    if parsed.extra_columns:
        log.warning(
            "csv columns ignored",
            file=name,
            columns=parsed.extra_columns,
            hint="they are not in the object's fields option; add them there to sync them",
        )
    mtime = datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC).isoformat()
    # Rows without a usable key were kept under "file:line" only to report them; a new
    # version of the same file replaces those reports (a replay then finds them gone).
    stale = [i for i, e in state.entries.items() if e.error and i.startswith(f"{path.name}:")]
    for record_id in stale:
        del state.entries[record_id]
    entries = list(_entries(spec, parsed, mtime))
    for entry in entries:
        state.put(entry)
    bad = sum(1 for e in entries if e.error is not None)
    state.files[name] = FileSeen(
        stat.st_size, stat.st_mtime_ns, digest, "processed", rows=len(entries), problems=bad
    )
    log.info("csv file read", file=name, rows=len(entries), bad_rows=bad)
    return "processed"


def _entries(spec: FileObject, parsed: ParsedFile, mtime: str) -> Iterable[Entry]:
    where = parsed.name
    lines: dict[str, list[int]] = {}
    for row in parsed.rows:
        lines.setdefault(row.values.get(spec.key, "").strip(), []).append(row.line)
    for row in parsed.rows:
        key = row.values.get(spec.key, "")
        origin = f"{where}:{row.line}"
        if not key.strip():
            yield _bad(
                origin,
                row.values,
                mtime,
                f"{origin}, column {spec.key!r}: the key is empty; fill it in and drop the "
                "file again",
                spec.key,
                origin,
            )
            continue
        twice = lines[key.strip()]
        if len(twice) > 1:
            if row.line != twice[-1]:
                continue  # one entry for the key, naming every line
            shown = ", ".join(map(str, twice))
            yield _bad(
                key,
                row.values,
                mtime,
                f"{where}: key {key!r} (column {spec.key!r}) is on lines {shown}; which "
                "row is right is unclear, so none is synced. Keep one row per key and drop "
                "the file again",
                spec.key,
                f"{where}:{shown}",
            )
            continue
        yield _checked(spec, key, origin, row.values, mtime)
    for problem in parsed.problems:
        origin = f"{where}:{problem.line}"
        column = f", column {problem.column!r}" if problem.column else ""
        yield _bad(
            origin,
            {},
            mtime,
            f"{origin}{column}: {problem.message}; then drop the file again",
            problem.column,
            origin,
        )


def _checked(spec: FileObject, key: str, origin: str, values: dict[str, str], mtime: str) -> Entry:
    """The row as an entry, or as a bad entry naming the first column that is wrong."""
    stamp = mtime
    for column, description in (spec.fields or {}).items():
        text = values.get(column, "")
        problem: str | None = None
        if description.required and not text.strip():
            problem = "a value is required; fill it in"
        elif description.length is not None and len(text) > description.length:
            problem = f"the value has {len(text)} characters, at most {description.length} fit"
        else:
            try:
                parse_cell(description.type, text)
            except CellError as error:
                problem = str(error)
        if problem is not None:
            return _bad(
                key,
                values,
                mtime,
                f"{origin}, column {column!r}: {problem}; fix the value in the file and "
                "drop it again",
                column,
                origin,
            )
    if spec.modified_at:
        try:
            stamp = parse_datetime(values.get(spec.modified_at, "")).isoformat()
        except CellError as error:
            return _bad(
                key,
                values,
                mtime,
                f"{origin}, column {spec.modified_at!r}: {error}; fix it and drop the file again",
                spec.modified_at,
                origin,
            )
    return Entry(key, values, stamp, 0, origin)


def _bad(
    record_id: str,
    values: dict[str, str],
    mtime: str,
    message: str,
    column: str | None,
    origin: str,
) -> Entry:
    return Entry(record_id, values, mtime, 0, origin, {"message": message, "field": column})


def move(path: Path, status: str, reason: str | None) -> None:
    """Move a drop-folder file into ``processed/`` or ``rejected/`` beside it; a name
    already there gets a time suffix, so history is kept and nothing is overwritten."""
    folder = path.parent / status
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    os.replace(path, target)
    if status == "rejected" and reason:
        note = target.with_name(target.name + ".error.txt")
        note.write_text(
            f"{reason}\n\nFix the file and drop it into the folder again.\n", encoding="utf-8"
        )
