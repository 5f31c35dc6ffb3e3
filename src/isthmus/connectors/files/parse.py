"""Bytes of one CSV file -> rows with their line numbers, and what is wrong with them.

Two kinds of trouble, kept apart on purpose:
- ``CsvFileError``: the file as a whole cannot be read (undecodable bytes, no header, a
  header without the configured columns). Nothing of it is taken; the file is rejected.
- ``RowProblem``: one row is wrong (a value too many, an empty key, a NUL byte). The row
  is set aside with the problem and the rest of the file goes on.

The stdlib ``csv`` module does the splitting; this module adds what an ERP export needs
around it: encodings with and without a BOM, a sniffed delimiter, line numbers of rows
whose quoted values span lines, and field limits that are options, not crashes.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

DELIMITERS = (",", ";", "\t", "|")
DEFAULT_FIELD_LIMIT = 16 * 1024 * 1024  # characters per value


class CsvFileError(ValueError):
    """The whole file is unreadable. ``line`` is 1-based, when known."""

    def __init__(self, file: str, message: str, *, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.reason = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str
    column: str | None = None


@dataclass(frozen=True)
class Row:
    line: int  # the line the row starts on (a quoted value may span several)
    values: dict[str, str]


@dataclass
class ParsedFile:
    name: str
    header: list[str]
    delimiter: str
    rows: list[Row] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # Columns in the header that are not configured: ignored, reported once.
    extra_columns: list[str] = field(default_factory=list)


def decode(name: str, data: bytes, encoding: str) -> str:
    """Text of the file. A BOM wins over the configured encoding (it is unambiguous)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.end].hex(" ").upper()
        hint = (
            "the file is probably in a legacy encoding such as cp1252: set the object's "
            "encoding option to it, or export the file as UTF-8"
            if encoding.replace("-", "").lower().startswith("utf8")
            else "set the object's encoding option to the one the exporting system uses"
        )
        raise CsvFileError(
            name, f"bytes {bad} are not valid {encoding}; {hint}", line=line
        ) from None
    except LookupError:
        raise CsvFileError(
            name, f"unknown encoding {encoding!r}; use a Python codec name such as cp1252"
        ) from None


def sniff_delimiter(text: str) -> str:
    """The candidate that splits the header line most often (comma when none does).

    Only the header is looked at: it has no quoted newlines and no free text, so the
    count is not fooled by commas inside values the way a whole-sample sniff can be.
    """
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _reader(text: str, delimiter: str, limit: int) -> Iterator[tuple[int, list[str] | str]]:
    """(first line, values or the reader's complaint) per record.

    The field limit is process-wide in ``csv``; it is set for each file so a value of
    100k characters is read, not refused by the default of 128 KiB."""
    csv.field_size_limit(limit)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    start = 1
    while True:
        try:
            values: list[str] | str = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            values = str(error)
            if reader.line_num < start:
                yield start, values
                return  # the reader did not move on: stop rather than loop
        yield start, values
        start = reader.line_num + 1


def parse(
    name: str,
    data: bytes,
    *,
    columns: Sequence[str] | None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    field_limit: int = DEFAULT_FIELD_LIMIT,
) -> ParsedFile:
    """Parse one file. ``columns``: what the header must hold (None: take the header)."""
    text = decode(name, data, encoding)
    if not text.strip():
        raise CsvFileError(
            name, "the file is empty (no header line); export it again with a header", line=1
        )
    delimiter = delimiter or sniff_delimiter(text)
    records = _reader(text, delimiter, field_limit)
    first = next(records, None)
    if first is None or isinstance(first[1], str):
        why = first[1] if first else "no line"
        raise CsvFileError(name, f"the header cannot be read: {why}", line=1)
    header = [h.strip() for h in first[1]]
    _check_header(name, header, columns)
    known = set(columns) if columns is not None else set(header)
    parsed = ParsedFile(name, header, delimiter)
    parsed.extra_columns = [h for h in header if h not in known]
    for line, values in records:
        if isinstance(values, str):
            parsed.problems.append(
                RowProblem(
                    line,
                    f"the row cannot be read ({values}); if the value is right, raise the "
                    "object's field_limit option, else fix the row",
                )
            )
            continue
        if not values or values == [""]:
            continue  # a blank line
        if len(values) != len(header):
            parsed.problems.append(_width_problem(line, values, header, delimiter))
            continue
        row = {h: v for h, v in zip(header, values, strict=True) if h in known}
        nul = next((h for h, v in row.items() if "\x00" in v), None)
        if nul is not None:
            parsed.problems.append(
                RowProblem(
                    line,
                    "the value contains a NUL byte, which no ERP import keeps; if the whole "
                    "file shows this, it is UTF-16: set the object's encoding to utf-16",
                    nul,
                )
            )
            continue
        parsed.rows.append(Row(line, row))
    return parsed


def _check_header(name: str, header: list[str], columns: Sequence[str] | None) -> None:
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            raise CsvFileError(
                name, f"header column {position} has no name; name it or remove it", line=1
            )
        if column in seen:
            raise CsvFileError(
                name, f"header column {column!r} appears twice; keep one of them", line=1
            )
        seen.add(column)
    if columns is None:
        return
    missing = [c for c in columns if c not in seen]
    if missing:
        raise CsvFileError(
            name,
            f"the header lacks column(s) {', '.join(map(repr, missing))} (it has "
            f"{', '.join(map(repr, header))}); export them, or remove them from the "
            "object's fields option and the mapping",
            line=1,
        )


def _width_problem(line: int, values: list[str], header: list[str], delimiter: str) -> RowProblem:
    shown = "TAB" if delimiter == "\t" else repr(delimiter)
    if len(values) < len(header) and any("\n" in v for v in values):
        return RowProblem(
            line,
            "a quoted value is not closed: the rest of the file was read into it; close "
            "the quote (or double a quote inside a value) on this line",
        )
    if len(values) > len(header):
        return RowProblem(
            line,
            f"the row has {len(values)} values but the header has {len(header)} columns; "
            f"a value probably contains the delimiter {shown} without quotes: quote it",
        )
    return RowProblem(
        line,
        f"the row has {len(values)} values but the header has {len(header)} columns; "
        f"column {header[len(values)]!r} and those after it are missing",
        header[len(values)],
    )
