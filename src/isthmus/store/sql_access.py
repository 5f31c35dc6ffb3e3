"""Users and API tokens on the SQL store (the ``Store`` access-control methods).

A mixin of ``SqlStore``: each call is one short transaction, as the other reads and
writes outside a unit of work. Tokens are stored only as the salted hash the API layer
computed; nothing here ever sees a token's secret.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine, Select, select, update

from isthmus.store import tables as t
from isthmus.store.sql_engine import write_connection
from isthmus.store.sql_uow import now
from isthmus.store.types import ApiToken, User


class SqlAccess:
    """Users and tokens; needs ``engine`` and ``_rows`` from ``SqlStore``."""

    engine: Engine

    def _rows(self, statement: Select[Any]) -> list[Any]:
        raise NotImplementedError  # provided by SqlStore

    def add_user(self, user: User) -> None:
        c = t.users.c
        with write_connection(self.engine) as connection, connection.begin():
            # Read then write inside one write transaction: the SQLite write lock is
            # taken at BEGIN and PostgreSQL rejects a racing insert on the primary key,
            # so two admins adding the same name never leave two rows.
            found = connection.execute(select(c.name).where(c.name == user.name)).first()
            if found is None:
                values = asdict(user) | {"created_at": user.created_at or now()}
                connection.execute(t.users.insert().values(**values))
            else:
                connection.execute(
                    update(t.users).where(c.name == user.name).values(role=user.role)
                )

    def user(self, name: str) -> User | None:
        rows = self._rows(select(t.users).where(t.users.c.name == name))
        return User(**rows[0]._mapping) if rows else None

    def users(self) -> list[User]:
        return [
            User(**row._mapping) for row in self._rows(select(t.users).order_by(t.users.c.name))
        ]

    def add_token(self, token: ApiToken) -> None:
        values = asdict(token) | {"created_at": token.created_at or now()}
        with write_connection(self.engine) as connection, connection.begin():
            connection.execute(t.api_tokens.insert().values(**values))

    def token(self, token_id: str) -> ApiToken | None:
        rows = self._rows(select(t.api_tokens).where(t.api_tokens.c.id == token_id))
        return ApiToken(**rows[0]._mapping) if rows else None

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        c = t.api_tokens.c
        statement = select(t.api_tokens).order_by(c.created_at, c.id)
        if user_name is not None:
            statement = statement.where(c.user_name == user_name)
        return [ApiToken(**row._mapping) for row in self._rows(statement)]

    def revoke_token(self, token_id: str) -> bool:
        c = t.api_tokens.c
        with write_connection(self.engine) as connection, connection.begin():
            result = connection.execute(
                update(t.api_tokens)
                .where(c.id == token_id, c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        return bool(result.rowcount)
