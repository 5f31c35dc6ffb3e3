"""Alembic environment of the state store.

Invariant: migrations run on the connection (and inside the transaction) that
``isthmus.store.migrate`` hands over in ``config.attributes["connection"]``; that
caller holds the lock that keeps two processes from migrating at once. Running the
``alembic`` command line against ``sqlalchemy.url`` also works, for developers.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from isthmus.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    if context.is_offline_mode():
        raise RuntimeError("isthmus migrations run online only (they need a connection)")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as own:
        _run(own)
    engine.dispose()


run()
