"""Fuzzing the CSV files connector, the parser of files other systems drop on us.

- Whatever bytes arrive, the answer is rows, rows set aside with a reason, or the
  file rejected with a reason (``CsvFileError``); never another exception.
- Whatever text Isthmus writes (SQL, HTML, emoji, right-to-left text, quotes, the
  delimiter, newlines, 100k-character values) reads back exactly, in every delimiter.
- One bad row among good ones costs that row only.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isthmus.connectors.base import NativeRecord, WriteOp
from isthmus.connectors.files import FilesConnector, from_config
from isthmus.connectors.files.parse import CsvFileError, parse

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COLUMNS = ["customer_no", "name", "notes", "credit_limit"]
HOSTILE = [
    "Robert'); DROP TABLE customers;--",
    "<script>alert('x')</script>&amp;<b>",
    "👩🏽‍💻 🇩🇪 ✓",
    "مرحبا بالعالم",  # right to left
    "\u202eevil\u202c",
    '"quoted", and ""doubled""',
    'a,b;c\td|e"',
    "line one\nline two\r\nline three\rfour",
    " leading and trailing ",
    "\ufeffBOM inside",
    "=SUM(A1:A9)",
    "x" * 100_000,
]
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1),
)


def _connector(root: Path, delimiter: str | None, encoding: str = "utf-8") -> FilesConnector:
    obj: dict[str, Any] = {
        "key": "customer_no",
        "inbound": "inbound/*.csv",
        "outbound": "outbound",
        "encoding": encoding,
        "fields": {"customer_no": {}, "name": {}, "notes": {}, "credit_limit": {"type": "decimal"}},
    }
    if delimiter is not None:
        obj["delimiter"] = delimiter
    return from_config("erp", {"root": str(root), "objects": {"customers": obj}})


def _read_all(files: FilesConnector) -> dict[str, NativeRecord]:
    async def body() -> dict[str, NativeRecord]:
        found: dict[str, NativeRecord] = {}
        async for page in files.read_changes("customers", None):
            found.update({r.id: r for r in page.records})
        return found

    return asyncio.run(body())


@FUZZ
@given(data=st.binary(max_size=400), encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_any_bytes_give_rows_or_a_clear_file_error(data: bytes, encoding: str) -> None:
    for columns in (COLUMNS, None):
        try:
            parsed = parse("drop.csv", data, columns=columns, encoding=encoding)
        except CsvFileError as error:
            refused: CsvFileError | None = error
        else:
            refused = None
        if refused is not None:
            assert str(refused).startswith("drop.csv")
            assert refused.reason
            continue
        for row in parsed.rows:
            assert set(row.values) <= set(parsed.header)
            assert row.line >= 2
        for problem in parsed.problems:
            assert problem.message
            assert problem.line >= 2


@FUZZ
@given(
    grid=st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=6), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_any_text_grid_through_the_connector_never_crashes(
    grid: list[list[str]], delimiter: str
) -> None:
    """Rows of random text (any width, quotes, NULs) dropped as a file: every row is a
    record or a record set aside with a reason; the file ends processed or rejected."""
    text = "\n".join(delimiter.join(cells) for cells in [COLUMNS, *grid])
    with TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "inbound").mkdir()
        (root / "inbound" / "drop.csv").write_text(text, encoding="utf-8")
        records = _read_all(_connector(root, None))
        for record in records.values():
            if record.error is not None:
                assert record.error.message.startswith("drop.csv")
                assert "again" in record.error.message, "says what to do"
        moved = [p.name for p in (root / "inbound").rglob("drop.csv")]
        assert moved == ["drop.csv"]
        assert not (root / "inbound" / "drop.csv").exists()


@ROUND_TRIP
@given(
    rows=st.lists(st.tuples(values, values), min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";", "\t", "|", None]),
    encoding=st.sampled_from(["utf-8", "utf-16"]),
)
def test_written_values_read_back_exactly(
    rows: list[tuple[str, str]], delimiter: str | None, encoding: str
) -> None:
    with TemporaryDirectory() as folder:
        root = Path(folder)
        writer = _connector(root, delimiter, encoding)
        ops = [
            WriteOp(f"r{n}", "create", {"customer_no": f"K{n}", "name": name, "notes": notes})
            for n, (name, notes) in enumerate(rows)
        ]
        results = asyncio.run(writer.write("customers", ops))
        assert all(r.ok for r in results), [r.error for r in results]
        # The file Isthmus wrote is what the other system would read; read it as an
        # inbound file with a fresh connector (delimiter sniffed when not configured).
        (written,) = (root / "outbound").iterdir()
        (root / "inbound").mkdir()
        shutil.copy(written, root / "inbound" / "back.csv")
        found = _read_all(_connector(root, delimiter, encoding))
        assert set(found) == {f"K{n}" for n in range(len(rows))}
        for n, (name, notes) in enumerate(rows):
            record = found[f"K{n}"]
            assert record.error is None, record.error
            assert record.fields["name"] == name
            assert record.fields["notes"] == notes
            assert record.fields["credit_limit"] is None, "an empty cell reads as null"


@FUZZ
@given(value=values, at=st.integers(0, 20))
def test_a_nul_byte_is_refused_on_write_naming_the_field(value: str, at: int) -> None:
    poisoned = value[:at] + "\x00" + value[at:]
    with TemporaryDirectory() as folder:
        writer = _connector(Path(folder), ",")
        ok, bad = asyncio.run(
            writer.write(
                "customers",
                [
                    WriteOp("ok", "create", {"customer_no": "K1", "name": value}),
                    WriteOp("bad", "create", {"customer_no": "K2", "notes": poisoned}),
                ],
            )
        )
        assert ok.ok
        assert bad.error is not None
        assert bad.error.field == "notes"
        assert "NUL" in bad.error.message


BAD_ROWS = {
    "unquoted delimiter": lambda d: d.join(["KBAD", "a", "b", "c", "1"]),
    "missing values": lambda d: d.join(["KBAD", "a"]),
    "empty key": lambda d: d.join(["", "a", "b", "1"]),
    "not a decimal": lambda d: d.join(["KBAD", "a", "b", "1,5O"]),
    "NUL byte": lambda d: d.join(["KBAD", "a\x00", "b", "1"]),
}


@FUZZ
@given(
    names=st.lists(values, min_size=1, max_size=6),
    kind=st.sampled_from(sorted(BAD_ROWS)),
    position=st.integers(0, 6),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_a_bad_row_never_loses_the_good_ones(
    names: list[str], kind: str, position: int, delimiter: str
) -> None:
    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    good = [
        delimiter.join([f"K{n}", quoted(name), "note", f"{n}.5"]) for n, name in enumerate(names)
    ]
    bad = BAD_ROWS[kind](delimiter)
    if kind == "not a decimal" and delimiter == ",":
        bad = delimiter.join(["KBAD", "a", "b", "1.5O"])
    lines = [delimiter.join(COLUMNS), *good]
    lines.insert(1 + min(position, len(good)), bad)
    with TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "inbound").mkdir()
        (root / "inbound" / "mixed.csv").write_text("\r\n".join(lines), encoding="utf-8")
        found = _read_all(_connector(root, None))
        for n, name in enumerate(names):
            record = found[f"K{n}"]
            assert record.error is None, record.error
            assert record.fields["name"] == name
        errors = [r.error for r in found.values() if r.error is not None]
        assert len(errors) == 1, (kind, errors)
        assert errors[0].message.startswith("mixed.csv:")
