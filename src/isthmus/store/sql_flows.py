"""Flow state on the SQL store: which flows a person paused (the ``Store`` flow methods).

A mixin of ``SqlStore``; each call is one short transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, select, update

from isthmus.store import tables as t
from isthmus.store.sql_engine import write_connection
from isthmus.store.sql_uow import now


class SqlFlowState:
    """Needs ``engine`` and ``_rows`` from ``SqlStore``."""

    engine: Engine

    def _rows(self, statement: Select[Any]) -> list[Any]:
        raise NotImplementedError  # provided by SqlStore

    def paused_flows(self) -> set[str]:
        c = t.flow_state.c
        return {row.flow for row in self._rows(select(c.flow).where(c.paused.is_(True)))}

    def set_flow_paused(self, flow: str, paused: bool, actor: str | None = None) -> None:
        c = t.flow_state.c
        values = {"paused": paused, "changed_by": actor, "changed_at": now()}
        with write_connection(self.engine) as connection, connection.begin():
            # Update, else insert, in one write transaction (see ``SqlAccess.add_user``).
            changed = connection.execute(
                update(t.flow_state).where(c.flow == flow).values(**values)
            ).rowcount
            if not changed:
                connection.execute(t.flow_state.insert().values(flow=flow, **values))
