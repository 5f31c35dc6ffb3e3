"""A CSV drop folder synced to a SQL table through the real engine: a bad row becomes one
dead letter naming file, line, column and what to do; the other 199 rows are written;
the fixed file dropped again goes through; the same file dropped twice changes nothing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    text,
)

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport

ERP = MetaData()
Table(
    "customers",
    ERP,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("customer_no", String(20), nullable=False),
    Column("name", String(80), nullable=False),
    Column("email", String(120)),
    Column("credit_limit", Numeric(12, 2)),
    Column("currency", String(3)),
    Column("isthmus_id", String(36)),
    Column("modified", DateTime(timezone=True), nullable=False),
)

FILE_MAPPING = """\
name: file_customer
entity: customer
object: customers
fields:
  - {canonical: number, native: customer_no}
  - {canonical: name, native: name}
  - {canonical: email, native: email}
  - canonical: credit_limit
    transform: {money: {places: 2}}
    native: {amount: credit_limit, currency: currency}
"""
SQL_MAPPING = FILE_MAPPING.replace("file_customer", "sql_customer")

CONFIG = """\
version: 1
store: sqlite:///{directory}/state.db
systems:
  exports:
    connector: csv
    options:
      root: {directory}/exchange
      encoding: cp1252
      objects:
        customers:
          key: customer_no
          inbound: inbound/customers/*.csv
          fields:
            customer_no: {{required: true}}
            name: {{required: true}}
            email: {{}}
            credit_limit: {{type: decimal}}
            currency: {{}}
  erp:
    connector: sql
    options:
      url: sqlite:///{directory}/erp.db
      objects:
        customers: {{table: customers, key: "no", updated_at: modified, external_key: isthmus_id}}
mappings: [mappings/]
flows:
  - name: customers
    entity: customer
    source: {{system: exports, object: customers, mapping: file_customer}}
    target: {{system: erp, object: customers, mapping: sql_customer}}
    direction: one_way
    match: {{keys: [number]}}
"""

BAD_LINE = 102  # header on line 1, customer n on line n + 2


def _export(bad: bool) -> bytes:
    """200 customers as a cp1252 export with ';' delimiters, one value spanning lines."""
    lines = ["customer_no;name;email;credit_limit;currency"]
    for n in range(200):
        name = f"Müller & Söhne {n}" if n % 2 else f'"Café ""Zur Börse"" {n}"'
        limit = "1.500,00" if bad and n == BAD_LINE - 2 else f"{1000 + n}.00"
        if n == 7:
            name = '"Line one\r\nline two"'
        lines.append(f"C-{n:04d};{name};c{n}@example.com;{limit};EUR")
    # The name of customer 7 spans two lines: every line after it is one further down.
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    engine = create_engine(f"sqlite:///{tmp_path}/erp.db")
    ERP.create_all(engine)
    engine.dispose()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "file.yaml").write_text(FILE_MAPPING)
    (tmp_path / "mappings" / "sql.yaml").write_text(SQL_MAPPING)
    config = tmp_path / "isthmus.yaml"
    config.write_text(CONFIG.format(directory=tmp_path))
    drop = tmp_path / "exchange" / "inbound" / "customers"
    drop.mkdir(parents=True)
    return config, drop


def _sync(config: Path) -> RunReport:
    async def run() -> RunReport:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.sync()
            return report
        finally:
            await engine.close()

    return asyncio.run(run())


def _rows(tmp_path: Path) -> list[dict[str, object]]:
    engine = create_engine(f"sqlite:///{tmp_path}/erp.db")
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM customers"))]
    engine.dispose()
    return rows


def test_one_bad_row_is_a_dead_letter_and_the_fixed_file_goes_through(tmp_path: Path) -> None:
    config, drop = _setup(tmp_path)
    (drop / "customers-0001.csv").write_bytes(_export(bad=True))

    report = _sync(config)
    assert report.counts["read"] == 200
    assert report.counts["dead_letters"] == 1, report.counts
    rows = _rows(tmp_path)
    assert len(rows) == 199
    bad_no = f"C-{BAD_LINE - 2:04d}"
    assert bad_no not in {r["customer_no"] for r in rows}
    by_no = {r["customer_no"]: r for r in rows}
    assert by_no["C-0007"]["name"] == "Line one\r\nline two", "a quoted newline is kept"
    assert by_no["C-0001"]["name"] == "Müller & Söhne 1", "cp1252 decoded"
    assert by_no["C-0000"]["name"] == 'Café "Zur Börse" 0', "doubled quotes undone"
    assert (drop / "processed" / "customers-0001.csv").exists(), "the file moved on"
    assert not (drop / "customers-0001.csv").exists()

    engine = Engine.from_config(load_config(config))
    (letter,) = engine.store.dead_letters(flow="customers", status="open")
    asyncio.run(engine.close())
    assert letter.native_id == bad_no
    assert letter.field == "credit_limit"
    # One further down than the bad customer's number says: customer 7's name spans lines.
    assert f"customers-0001.csv:{BAD_LINE + 1}, column 'credit_limit'" in letter.message
    assert "'1.500,00' is not a decimal number" in letter.message
    assert "fix the value in the file and drop it again" in letter.message

    # The fixed export is dropped again: the record goes through, the letter closes.
    (drop / "customers-0002.csv").write_bytes(_export(bad=False))
    report = _sync(config)
    assert report.counts["read"] == 1, "only the row that changed is read as a change"
    assert report.counts["dead_letters"] == 0, report.counts
    rows = _rows(tmp_path)
    assert len(rows) == 200
    assert len({r["customer_no"] for r in rows}) == 200, "no duplicate"
    engine = Engine.from_config(load_config(config))
    assert engine.store.dead_letters(flow="customers", status="open") == []
    asyncio.run(engine.close())

    # The same file dropped again (the ERP's job ran twice): nothing written.
    shutil.copy(drop / "processed" / "customers-0002.csv", drop / "customers-0002.csv")
    report = _sync(config)
    assert report.counts["read"] == 0, report.counts
    assert len(_rows(tmp_path)) == 200
    assert len(list((drop / "processed").iterdir())) == 3, "moved, history kept"


def test_a_replay_reads_the_fixed_file(tmp_path: Path) -> None:
    config, drop = _setup(tmp_path)
    (drop / "customers-0001.csv").write_bytes(_export(bad=True))
    _sync(config)
    (drop / "customers-0001.csv").write_bytes(_export(bad=False))

    async def replay() -> list[RunReport]:
        engine = Engine.from_config(load_config(config))
        try:
            (letter,) = engine.store.dead_letters(flow="customers", status="open")
            reports = await engine.replay([letter.id])
            assert engine.store.dead_letters(flow="customers", status="open") == []
            return reports
        finally:
            await engine.close()

    (report,) = asyncio.run(replay())
    assert report.counts["dead_letters"] == 0, report.counts
    assert len(_rows(tmp_path)) == 200


def test_a_row_without_a_key_is_reported_by_file_and_line_and_clears_on_replay(
    tmp_path: Path,
) -> None:
    config, drop = _setup(tmp_path)
    header = "customer_no;name;email;credit_limit;currency"
    (drop / "late.csv").write_text(f"{header}\nC-1;One;;1.00;EUR\n;Two;;2.00;EUR\n")
    report = _sync(config)
    assert report.counts["dead_letters"] == 1
    engine = Engine.from_config(load_config(config))
    (letter,) = engine.store.dead_letters(flow="customers", status="open")
    asyncio.run(engine.close())
    assert letter.native_id == "late.csv:3"
    assert "late.csv:3, column 'customer_no': the key is empty" in letter.message

    (drop / "late.csv").write_text(f"{header}\nC-1;One;;1.00;EUR\nC-2;Two;;2.00;EUR\n")

    async def replay() -> None:
        engine = Engine.from_config(load_config(config))
        try:
            await engine.replay([letter.id])
            assert engine.store.dead_letters(flow="customers", status="open") == []
        finally:
            await engine.close()

    asyncio.run(replay())  # the report is gone with the fixed file: the letter closes
    # and the fixed row, now under its key, goes with the next sync.
    assert _sync(config).counts["read"] == 1
    assert sorted(str(r["customer_no"]) for r in _rows(tmp_path)) == ["C-1", "C-2"]
