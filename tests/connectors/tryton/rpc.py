"""A plain JSON-RPC client for the tests to act as Tryton's own users (order desk,
accounting) and to check what Tryton holds, independent of the connector under test."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from isthmus.connectors.tryton import wire
from tests.connectors.tryton.server import TrytonServer


class Rpc:
    def __init__(self, server: TrytonServer) -> None:
        self.http = httpx.Client(timeout=60)
        self.url = server.rpc
        uid, token = self._call(
            "common.db.login", [server.user, {"password": server.password}, "en"]
        )[:2]
        session = base64.b64encode(f"{server.user}:{uid}:{token}".encode()).decode()
        self.http.headers["Authorization"] = f"Session {session}"
        preferences = self._call("model.res.user.get_preferences", [True, {}])
        self.context = {"company": preferences["company"], "companies": preferences["companies"]}

    def _call(self, method: str, params: list[Any]) -> Any:
        answer = self.http.post(
            self.url, json={"id": 1, "method": method, "params": wire.encode(params)}
        )
        answer.raise_for_status()
        body = answer.json()
        if body.get("error"):
            raise RuntimeError(f"{method}: {body['error']}")
        return wire.decode(body["result"])

    def __call__(self, model: str, method: str, *args: Any, **context: Any) -> Any:
        return self._call(f"model.{model}.{method}", [*args, {**self.context, **context}])

    def wizard(self, name: str, model: str, ids: list[int], state: str) -> None:
        """Run one state of a wizard on records, as the client's action button does."""
        session = self._call(f"wizard.{name}.create", [self.context])[0]
        context = {**self.context, "active_model": model, "active_id": ids[0], "active_ids": ids}
        self._call(f"wizard.{name}.execute", [session, {}, state, context])
        self._call(f"wizard.{name}.delete", [session, context])

    def find(self, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self(model, "search_read", domain, 0, None, None, fields)
        return rows

    def close(self) -> None:
        self.http.close()
