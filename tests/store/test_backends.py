"""What differs between the backends: URLs and errors, SQLite concurrency (WAL, busy
timeout, several processes on one file), and the migrations matching the tables."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from isthmus.errors import ConfigError
from isthmus.store import SqlStore, Xref, open_store
from isthmus.store import tables as t
from isthmus.store.sql_engine import parse_store_url


def test_migrations_build_exactly_the_tables_module(store: SqlStore) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    assert differences == []


def test_a_bare_path_is_sqlite_and_its_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"
    store = open_store(str(path))
    assert isinstance(store, SqlStore)
    assert store.dialect == "sqlite"
    assert path.exists()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.close()


def test_in_memory_sqlite_works_for_quick_tools() -> None:
    store = open_store("sqlite://")
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
    assert store.count_xrefs("customer", "crm") == 1
    store.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("state.db", "sqlite"),
        ("sqlite:///state.db", "sqlite"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql://u:secret@h:5433/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ],
)
def test_store_urls_are_normalised(url: str, expected: str) -> None:
    assert parse_store_url(url).drivername == expected


@pytest.mark.parametrize("url", ["", "   ", "mysql://u@h/db", "postgresql+psycopg2://u@h/db"])
def test_unsupported_urls_say_what_to_write(url: str) -> None:
    with pytest.raises(ConfigError, match=r"sqlite:///.*postgresql://"):
        SqlStore(url)


def test_an_unreachable_postgres_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match="PostgreSQL server runs and is reachable") as caught:
        open_store("postgresql://isthmus:s3cret@127.0.0.1:1/nowhere")
    assert "s3cret" not in str(caught.value)
    assert "127.0.0.1:1/nowhere" in str(caught.value)


def test_an_unwritable_sqlite_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="writable path"):
        open_store(str(blocker / "sub" / "state.db"))


def test_a_store_from_before_migrations_is_refused_with_advice(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    t.metadata.create_all(engine)
    engine.dispose()
    with pytest.raises(ConfigError, match="pre-release"):
        open_store(f"sqlite:///{tmp_path}/old.db")


def test_two_stores_on_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    writer, reader = open_store(url), open_store(url)
    with writer.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        uow.bump_counter("writes", "crm")
        # The writer holds the write lock: the reader still reads the last commit.
        assert reader.count_xrefs("customer", "crm") == 0
    assert reader.count_xrefs("customer", "crm") == 1
    assert reader.counters() == {("writes", "crm"): 1}
    writer.close()
    reader.close()


def test_a_second_writer_waits_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second = open_store(url), open_store(url)
    finished: list[float] = []

    def write_later() -> None:
        with second.unit_of_work() as uow:
            uow.add_xref(Xref("c2", "customer", "crm", "A2"))
        finished.append(time.monotonic())

    with first.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
        worker = threading.Thread(target=write_later)
        worker.start()
        time.sleep(0.3)
        assert finished == []  # blocked on the lock, not failed
        released = time.monotonic()
    worker.join(timeout=10)
    assert finished
    assert finished[0] >= released
    assert first.count_xrefs("customer", "crm") == 2
    first.close()
    second.close()


def test_another_process_reads_while_a_sync_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    store = open_store(url)
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c1", "customer", "crm", "A1"))
    status = (
        "from isthmus.store import open_store\n"
        f"store = open_store({url!r})\n"
        "print(store.count_xrefs('customer', 'crm'))\n"
    )
    with store.unit_of_work() as uow:
        uow.add_xref(Xref("c2", "customer", "crm", "A2"))
        result = subprocess.run(
            [sys.executable, "-c", status], capture_output=True, text=True, timeout=30, check=False
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
    store.close()


def test_concurrent_first_starts_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(url).close()
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("0005",)
        ]
    engine.dispose()
