"""Schema migrations of the SQL store, run programmatically on every start.

Invariant: after ``migrate(engine)`` returns, the database is at the newest Alembic
revision shipped in ``isthmus/store/migrations``. The call is idempotent and cheap when
nothing is to do, and safe when several processes start at once: the migration runs in
one transaction under a lock (see ``sql_engine.lock_for_migration``), so the second
process waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from isthmus.errors import ConfigError
from isthmus.store.sql_engine import lock_for_migration, write_connection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code: no ``alembic.ini`` is needed on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head (no-op when it is there already).

    Raises:
        ConfigError: the database holds tables of a build older than migrations.
    """
    # Fast path without the write lock: a started installation is usually at head.
    with engine.connect() as connection:
        if current_revisions(connection) == head_revisions():
            return
    with write_connection(engine) as connection, connection.begin():
        # Re-check under the lock: another process may have migrated while we waited.
        lock_for_migration(connection)
        current = current_revisions(connection)
        if current == head_revisions():
            return
        if not current and inspect(connection).has_table("xrefs"):
            raise ConfigError(
                "the state store was created by a pre-release Isthmus without migrations; "
                "move the file (or drop the database) aside and let Isthmus create a new "
                "one, then run a full sync to rebuild the links"
            )
        command.upgrade(alembic_config(connection), "head")
