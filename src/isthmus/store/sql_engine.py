"""Connections of the SQL store: the one place where SQLite and PostgreSQL differ.

Invariants kept here:
- a store URL is either SQLite (a bare path counts) or PostgreSQL through psycopg 3;
  anything else is a ``ConfigError`` that says what to write instead;
- on SQLite, every transaction is a real one (pysqlite's own implicit BEGIN handling is
  switched off), and write transactions start with ``BEGIN IMMEDIATE``: a writer takes
  the write lock before it reads, so it waits (``busy_timeout``) instead of failing with
  "database is locked" half-way; WAL lets readers (``isthmus status``) run meanwhile;
- PostgreSQL serialises migrations with an advisory lock (SQLite by BEGIN IMMEDIATE).

The dialect's upsert statements are in ``sql_statements``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from isthmus.errors import ConfigError

BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
# Execution option read by the SQLite "begin" hook to choose the BEGIN flavour.
WRITE_OPTION = "isthmus_write"
URL_HELP = "write sqlite:///path/to/state.db (or a bare path) or postgresql://user@host/db"


def parse_store_url(url: str) -> URL:
    """Turn a store URL or bare path into a SQLAlchemy URL for a supported driver.

    Raises:
        ConfigError: the URL is malformed or names an unsupported database.
    """
    text = url.strip()
    if not text:
        raise ConfigError(f"the store URL is empty; {URL_HELP}")
    if "://" not in text:
        # A bare path: the embedded default.
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    scheme, rest = text.split("://", 1)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        text = f"postgresql+psycopg://{rest}"
    try:
        parsed = make_url(text)
    except ArgumentError as error:
        raise ConfigError(f"store URL {url!r} is malformed ({error}); {URL_HELP}") from None
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ConfigError(
            f"store URL {safe_url(parsed)!r} names an unsupported database "
            f"({parsed.drivername}); {URL_HELP}"
        )
    return parsed


def safe_url(url: URL) -> str:
    """The URL for messages and logs, password hidden."""
    return url.render_as_string(hide_password=True)


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_store_engine(url: URL) -> Engine:
    """Create the engine for a parsed store URL (no connection is made yet)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        # Fail in seconds, not minutes, when the server is unreachable.
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: URL) -> Engine:
    if is_memory(url):
        # One shared connection, or every checkout would see a different empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        assert url.database is not None
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot create the folder {str(folder)!r} of the state store: {error}; "
                "choose a writable path in the store URL"
            ) from None
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below); pysqlite's implicit one skips DDL and SELECTs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching a new file to WAL briefly needs an exclusive lock.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Safe with WAL: a power cut may lose the last commits, never corrupt the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions take the write lock at BEGIN (SQLite)."""
    return engine.connect().execution_options(**{WRITE_OPTION: True})


def lock_for_migration(connection: Connection) -> None:
    """Serialise concurrent ``migrate()`` calls of several processes.

    SQLite already holds the write lock (BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock, released at commit or rollback.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7263512001)")
