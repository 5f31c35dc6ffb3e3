"""The files connector's own behaviour on the files ERPs really export: encodings,
delimiters, broken headers and rows, duplicate keys, empty and huge files, NUL bytes,
changed exports, and the files it writes."""

from __future__ import annotations

import asyncio
import codecs
import csv
import json
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from isthmus.connectors.base import NativeRecord, WriteOp
from isthmus.connectors.files import FilesConnector, from_config
from isthmus.connectors.registry import create_connector
from isthmus.errors import ConfigError

T = TypeVar("T")

FIELDS = {
    "customer_no": {"required": True},
    "name": {"required": True},
    "credit_limit": {"type": "decimal"},
}


def run(awaitable: Awaitable[T]) -> T:
    async def wrap() -> T:
        return await awaitable

    return asyncio.run(wrap())


def connector(root: Path, **spec: Any) -> FilesConnector:
    obj: dict[str, Any] = {
        "key": "customer_no",
        "inbound": "inbound/*.csv",
        "outbound": "outbound",
        "fields": FIELDS,
    }
    obj.update(spec)
    return from_config("erp", {"root": str(root), "objects": {"customers": obj}})


def drop(root: Path, name: str, data: bytes | str) -> Path:
    path = root / "inbound" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read(files: FilesConnector, cursor: dict[str, Any] | None = None) -> list[NativeRecord]:
    async def body() -> list[NativeRecord]:
        records: list[NativeRecord] = []
        async for page in files.read_changes("customers", cursor):
            records.extend(page.records)
        return records

    return asyncio.run(body())


def by_id(records: list[NativeRecord]) -> dict[str, NativeRecord]:
    return {r.id: r for r in records}


def test_utf8_with_and_without_bom_and_a_legacy_encoding(tmp_path: Path) -> None:
    body = "customer_no,name,credit_limit\r\nC1,Zoë Ünal,10\r\n"
    drop(tmp_path, "a.csv", codecs.BOM_UTF8 + body.encode("utf-8"))
    drop(tmp_path, "b.csv", body.replace("C1", "C2").encode("utf-8"))
    records = by_id(read(connector(tmp_path)))
    assert records["C1"].fields["name"] == records["C2"].fields["name"] == "Zoë Ünal"
    assert "customer_no" in records["C1"].fields, "the BOM is not part of the first column"

    legacy = tmp_path / "legacy"
    drop(legacy, "c.csv", body.replace("C1", "C3").encode("cp1252"))
    assert by_id(read(connector(legacy, encoding="cp1252")))["C3"].fields["name"] == "Zoë Ünal"


def test_a_wrong_encoding_rejects_the_file_saying_which_line_and_what_to_do(
    tmp_path: Path,
) -> None:
    path = drop(tmp_path, "a.csv", "customer_no,name\r\nC1,ok\r\nC2,Zoë\r\n".encode("cp1252"))
    files = connector(tmp_path, fields={"customer_no": {}, "name": {}})
    assert read(files) == []
    assert not path.exists()
    note = (tmp_path / "inbound" / "rejected" / "a.csv.error.txt").read_text()
    assert "a.csv:3: bytes EB are not valid utf-8" in note
    assert "set the object's encoding option" in note
    assert (tmp_path / "inbound" / "rejected" / "a.csv").exists()


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    row = delimiter.join(["C1", '"Smith, Jones; and | Co"', "5.5"])
    header = delimiter.join(["customer_no", "name", "credit_limit"])
    drop(tmp_path, "a.csv", f"{header}\n{row}\n")
    (record,) = read(connector(tmp_path))
    assert record.fields["name"] == "Smith, Jones; and | Co"
    assert str(record.fields["credit_limit"]) == "5.5"


def test_a_header_missing_a_column_rejects_the_file_and_an_extra_one_is_ignored(
    tmp_path: Path,
) -> None:
    drop(tmp_path, "a.csv", "customer_no,name\nC1,Acme\n")
    drop(tmp_path, "b.csv", "customer_no,name,credit_limit,fax\nC2,Beta,1,0123\n")
    records = read(connector(tmp_path))
    assert [r.id for r in records] == ["C2"]
    assert "fax" not in records[0].fields
    note = (tmp_path / "inbound" / "rejected" / "a.csv.error.txt").read_text()
    assert "a.csv:1: the header lacks column(s) 'credit_limit'" in note


def test_a_bad_row_is_set_aside_with_its_line_and_column_and_the_rest_goes_on(
    tmp_path: Path,
) -> None:
    drop(
        tmp_path,
        "a.csv",
        "customer_no,name,credit_limit\n"
        "C1,Acme,10\n"
        "C2,,10\n"  # line 3: required name empty
        "C3,Gamma,ten\n"  # line 4: not a decimal
        ",Nobody,1\n"  # line 5: no key
        "C6,Too,many,values\n"  # line 6: an unquoted comma
        "C7,Nul\x00Byte,1\n"  # line 7: a NUL byte
        "C8,Last,8\n",
    )
    records = by_id(read(connector(tmp_path)))
    assert records["C1"].error is None
    assert records["C8"].error is None
    errors = {rid: r.error for rid, r in records.items() if r.error is not None}
    assert errors["C2"] is not None
    assert errors["C2"].field == "name"
    assert errors["C2"].message.startswith("a.csv:3, column 'name': a value is required")
    assert errors["C3"] is not None
    assert errors["C3"].field == "credit_limit"
    assert "a.csv:4, column 'credit_limit': 'ten' is not a decimal" in errors["C3"].message
    assert errors["a.csv:5"] is not None
    assert errors["a.csv:5"].field == "customer_no"
    assert "the key is empty" in errors["a.csv:5"].message
    assert "a.csv:6: the row has 4 values but the header has 3" in errors["a.csv:6"].message
    assert "quote it" in errors["a.csv:6"].message
    assert "a.csv:7, column 'name': the value contains a NUL byte" in errors["a.csv:7"].message
    for error in errors.values():
        assert error.kind == "validation"
        assert "drop" in error.message, "says what to do"


def test_a_key_twice_in_one_file_syncs_neither_row(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "customer_no,name,credit_limit\nC1,A,1\nC2,B,2\nC1,A2,1\n")
    records = by_id(read(connector(tmp_path)))
    assert records["C2"].error is None
    error = records["C1"].error
    assert error is not None
    assert "key 'C1' (column 'customer_no') is on lines 2, 4" in error.message


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    drop(tmp_path, "empty.csv", b"")
    drop(tmp_path, "header.csv", "customer_no,name,credit_limit\r\n")
    assert read(connector(tmp_path)) == []
    rejected = tmp_path / "inbound" / "rejected" / "empty.csv.error.txt"
    assert "the file is empty" in rejected.read_text()
    assert (tmp_path / "inbound" / "processed" / "header.csv").exists()


def test_a_huge_value_is_read_and_one_over_the_limit_is_a_row_error(tmp_path: Path) -> None:
    big = "x" * 200_000  # over the csv module's default limit of 131072
    drop(tmp_path, "a.csv", f"customer_no,name,credit_limit\nC1,{big},1\nC2,ok,2\n")
    records = by_id(read(connector(tmp_path)))
    assert records["C1"].fields["name"] == big
    small = tmp_path / "small"
    drop(small, "a.csv", f"customer_no,name,credit_limit\nC1,{big},1\nC2,ok,2\n")
    records = by_id(read(connector(small, field_limit=1000)))
    assert records["C2"].error is None, "the rows after it are read"
    (bad,) = [r for r in records.values() if r.error is not None]
    assert bad.error is not None
    assert "field_limit" in bad.error.message


def test_an_export_file_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    files = connector(tmp_path, inbound="exports/customers.csv")
    export = tmp_path / "exports" / "customers.csv"
    export.parent.mkdir()
    export.write_text("customer_no,name,credit_limit\nC1,A,1\nC2,B,2\n")
    first = read(files)
    assert {r.id for r in first} == {"C1", "C2"}
    _, cursor = _cursor(files)
    assert read(files, cursor) == [], "unchanged: nothing new"
    os.utime(export, ns=(1, 1))  # touched, same bytes: still nothing
    assert read(files, cursor) == []
    export.write_text("customer_no,name,credit_limit\nC1,A,1\nC2,B renamed,2\n")
    (changed,) = read(files, cursor)
    assert changed.id == "C2"
    assert changed.fields["name"] == "B renamed"
    assert export.exists(), "an export file stays where the other system writes it"
    saved = json.loads((tmp_path / ".isthmus" / "erp.customers.json").read_text())
    (seen,) = saved["files"].values()
    assert set(seen) >= {"size", "mtime_ns", "sha256"}


def _cursor(files: FilesConnector) -> tuple[list[NativeRecord], dict[str, Any]]:
    async def body() -> tuple[list[NativeRecord], dict[str, Any]]:
        records: list[NativeRecord] = []
        cursor: dict[str, Any] = {}
        async for page in files.read_changes("customers", None):
            records.extend(page.records)
            cursor = page.cursor
        return records, cursor

    return asyncio.run(body())


def test_modified_at_comes_from_a_column_when_configured(tmp_path: Path) -> None:
    fields = {**FIELDS, "changed": {"type": "datetime"}}
    drop(
        tmp_path,
        "a.csv",
        "customer_no,name,credit_limit,changed\n"
        "C1,A,1,2026-03-01T10:00:00+01:00\n"
        "C2,B,1,yesterday\n",
    )
    records = by_id(read(connector(tmp_path, fields=fields, modified_at="changed")))
    stamp = records["C1"].modified_at
    assert stamp is not None
    assert stamp.isoformat() == "2026-03-01T09:00:00+00:00"
    assert records["C2"].error is not None
    assert records["C2"].error.field == "changed"


def test_writes_are_one_row_per_record_in_a_stable_column_order(tmp_path: Path) -> None:
    files = connector(tmp_path)
    results = run(
        files.write(
            "customers",
            [
                WriteOp("a", "create", {"name": "Acme", "customer_no": "C1"}),
                WriteOp("b", "create", {"credit_limit": "x", "customer_no": "C2", "name": "B"}),
                WriteOp("c", "create", {"customer_no": "C3", "name": 'Q "uote", new\nline'}),
            ],
        )
    )
    assert [r.outcome for r in results] == ["created", "failed", "created"]
    assert results[1].error is not None
    assert results[1].error.field == "credit_limit"
    (written,) = (tmp_path / "outbound").iterdir()
    assert not [p for p in (tmp_path / "outbound").iterdir() if p.name.startswith(".")]
    with written.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["customer_no", "name", "credit_limit"],
        ["C1", "Acme", ""],
        ["C3", 'Q "uote", new\nline', ""],
    ]
    (update,) = run(files.write("customers", [WriteOp("u", "update", {"name": "Acme 2"}, id="C1")]))
    assert update.outcome == "updated"
    (same,) = run(files.write("customers", [WriteOp("s", "update", {"name": "Acme 2"}, id="C1")]))
    assert same.outcome == "unchanged"
    assert len(list((tmp_path / "outbound").iterdir())) == 2, "no file for an unchanged write"
    (gone,) = run(files.write("customers", [WriteOp("d", "delete", id="C1")]))
    assert gone.error is not None
    assert "cannot delete" in gone.error.message


def test_a_value_the_encoding_cannot_hold_fails_alone(tmp_path: Path) -> None:
    files = connector(tmp_path, encoding="cp1252")
    results = run(
        files.write(
            "customers",
            [
                WriteOp("a", "create", {"customer_no": "C1", "name": "Zoë"}),
                WriteOp("b", "create", {"customer_no": "C2", "name": "東京"}),
            ],
        )
    )
    assert results[0].ok
    assert results[1].error is not None
    assert "cannot be written in cp1252" in results[1].error.message


def test_describe_takes_the_columns_from_the_first_header(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "customer_no;name;city\nC1;A;Köln\n")
    files = from_config(
        "erp",
        {
            "root": str(tmp_path),
            "objects": {"customers": {"key": "customer_no", "inbound": "inbound/*.csv"}},
        },
    )
    description = run(files.describe("customers"))
    assert list(description.fields) == ["customer_no", "name", "city"]
    assert (tmp_path / "inbound" / "a.csv").exists(), "describing (validate) moves no file"
    assert description.deletable is False
    assert files.capabilities.delete_feed is False


def test_bad_options_are_refused_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"options\.root is required"):
        create_connector("csv", "erp", {"objects": {}})
    with pytest.raises(ConfigError, match="key is required"):
        create_connector("csv", "erp", {"root": str(tmp_path), "objects": {"c": {"inbound": "x"}}})
    with pytest.raises(ConfigError, match="unknown encoding 'latin-9x'"):
        connector(tmp_path, encoding="latin-9x")
    with pytest.raises(ConfigError, match="unknown type 'money'"):
        connector(tmp_path, fields={"customer_no": {"type": "money"}})
    with pytest.raises(ConfigError, match="set inbound"):
        connector(tmp_path, inbound=None, outbound=None)


def test_a_stored_value_that_no_longer_fits_a_changed_type_is_a_record_error(
    tmp_path: Path,
) -> None:
    drop(tmp_path, "a.csv", "customer_no,name,credit_limit\nC1,A,1\nC2,B,2\n")
    read(connector(tmp_path))
    retyped = connector(tmp_path, fields={**FIELDS, "name": {"type": "integer"}})
    records = by_id(read(retyped))
    error = records["C1"].error
    assert error is not None
    assert error.field == "name"
    assert "a.csv:2, column 'name': 'A' is not a whole number" in error.message
