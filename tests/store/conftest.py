"""Fixtures running the one store suite on both backends.

``sqlite``: a fresh file per test under ``tmp_path``. ``postgres``: the machine's
PostgreSQL at 127.0.0.1:5432 (trust auth, user ``postgres`` or the current user), in a
database created once per xdist worker and test session, emptied between tests and
dropped at the end. When PostgreSQL is unreachable those tests skip, except under CI
(the ``CI`` environment variable set), where they fail: CI must test both backends.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from isthmus.store import SqlStore, open_store
from isthmus.store import tables as t

# Overridable to point the suite elsewhere (or, in a test of this file, nowhere).
PG_HOST = os.environ.get("ISTHMUS_TEST_PG_HOST", "127.0.0.1:5432")
PG_ADMIN_DATABASE = "test"


def _admin_engine() -> tuple[Engine, str]:
    """An autocommit engine on the admin database, with the first user that works."""
    errors: list[str] = []
    for user in dict.fromkeys(("postgres", getpass.getuser())):
        engine = create_engine(
            f"postgresql+psycopg://{user}@{PG_HOST}/{PG_ADMIN_DATABASE}",
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
        )
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            errors.append(f"{user}: {error.orig}")
            engine.dispose()
            continue
        return engine, user
    raise OperationalError("connect", {}, Exception("; ".join(errors)))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh database for this worker's session (dropped at the end)."""
    try:
        admin, user = _admin_engine()
    except OperationalError as error:
        message = f"PostgreSQL not reachable at {PG_HOST}: {error.orig}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"isthmus_store_{worker}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://{user}@{PG_HOST}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, SqlStore)
    names = ", ".join(table.name for table in t.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state/isthmus.db"
    url: str = request.getfixturevalue("pg_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = open_store(store_url)
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()
