"""Dedicated PostgreSQL connections for locks and shared budgets (psycopg 3, async).

Advisory locks belong to a session, so each holder keeps its own connection, in
autocommit mode (a lock must not depend on a transaction staying open), apart from
the store's pooled connections.
"""

from __future__ import annotations

import hashlib

import psycopg

from isthmus.errors import ConfigError
from isthmus.store.sql_engine import parse_store_url, safe_url


def postgres_dsn(store_url: str) -> str:
    """The libpq URL of a PostgreSQL store URL.

    Raises:
        ConfigError: the store is not PostgreSQL (distributed mode shares one store).
    """
    url = parse_store_url(store_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"distributed mode (queue.backend rabbitmq) needs a PostgreSQL store that every "
            f"worker shares, not {safe_url(url)!r}; set store: postgresql://user@host:5432/db"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(dsn: str) -> psycopg.AsyncConnection[tuple[object, ...]]:
    """A new autocommit connection; ``ConfigError`` that says where when it fails."""
    try:
        return await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise ConfigError(
            f"cannot connect to the PostgreSQL store for distributed locks ({error}); "
            "check that it runs and that store: is right"
        ) from None


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory lock key for ``parts`` (same in every process)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
