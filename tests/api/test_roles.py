"""Every route x every role: no token is 401, a role too low is 403, else the answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from isthmus.store import ROLES, Role
from tests.api.conftest import Api

RANK = {role: n for n, role in enumerate(ROLES)}
# (method, path, body, lowest role allowed, status for an allowed role). Ids that do
# not exist give 404 after the role check, so the table changes nothing but two flows'
# paused state and one user.
ROUTES: list[tuple[str, str, Any, Role, int]] = [
    ("GET", "/systems", None, "viewer", 200),
    ("GET", "/flows", None, "viewer", 200),
    ("POST", "/flows/customers/pause", None, "admin", 200),
    ("POST", "/flows/customers/enable", None, "admin", 200),
    ("POST", "/flows/nope/run", None, "operator", 404),
    ("GET", "/runs", None, "viewer", 200),
    ("GET", "/records/crm/nope", None, "viewer", 404),
    ("GET", "/audit", None, "viewer", 200),
    ("GET", "/dead-letters", None, "viewer", 200),
    ("GET", "/dead-letters/999", None, "viewer", 404),
    ("POST", "/dead-letters/999/replay", None, "operator", 404),
    ("POST", "/dead-letters/replay", {"ids": [999]}, "operator", 404),
    ("GET", "/review", None, "viewer", 200),
    ("GET", "/review/999", None, "viewer", 404),
    ("POST", "/review/999/resolve", {"take": "crm"}, "operator", 404),
    ("POST", "/reconcile?flow=nope", None, "operator", 404),
    ("GET", "/reconcile/reports", None, "viewer", 200),
    ("GET", "/users", None, "admin", 200),
    ("POST", "/users", {"name": "zed", "role": "viewer"}, "admin", 200),
    ("GET", "/tokens", None, "admin", 200),
    ("POST", "/users/nobody/tokens", None, "admin", 404),
    ("DELETE", "/tokens/nope", None, "admin", 404),
    ("GET", "/metrics", None, "viewer", 200),
    ("POST", "/mappings/preview", {"mapping": "name: nothing_uses_it"}, "operator", 422),
]


@pytest.mark.parametrize(("method", "path", "body", "lowest", "allowed"), ROUTES)
def test_each_role_gets_what_it_may(
    api: Api, method: str, path: str, body: Any, lowest: Role, allowed: int
) -> None:
    answer = api.client.request(method, path, json=body)
    assert answer.status_code == 401, "no token"
    assert answer.json()["what_to_do"]
    answer = api.client.request(
        method, path, json=body, headers={"Authorization": "Bearer ist_forged_secret"}
    )
    assert answer.status_code == 401, "a forged token"
    for role in ROLES:
        answer = api.client.request(method, path, json=body, headers=api.auth(role))
        expected = allowed if RANK[role] >= RANK[lowest] else 403
        assert answer.status_code == expected, (role, answer.text)


def test_the_table_covers_every_route(api: Api) -> None:
    served = {
        (method, route.path)
        for route in api.client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }
    tested = {(method, path.split("?")[0]) for method, path, *_ in ROUTES}
    templated = {
        (method, path)
        for method, path in served
        if any(m == method and _matches(path, p) for m, p in tested)
    }
    assert templated == served


def _matches(template: str, path: str) -> bool:
    parts, actual = template.split("/"), path.split("/")
    return len(parts) == len(actual) and all(
        p == a or p.startswith("{") for p, a in zip(parts, actual, strict=True)
    )


def test_a_revoked_token_stops_working(api: Api) -> None:
    (token,) = api.engine.store.tokens("viewer")
    assert api.client.get("/flows", headers=api.auth("viewer")).status_code == 200
    answer = api.client.delete(f"/tokens/{token.id}", headers=api.auth("admin"))
    assert answer.status_code == 200
    assert answer.json()["revoked"] is True
    assert api.client.get("/flows", headers=api.auth("viewer")).status_code == 401
    again = api.client.delete(f"/tokens/{token.id}", headers=api.auth("admin"))
    assert again.status_code == 409


@pytest.mark.parametrize(
    "path", ["/dead-letters/9223372036854775808", "/review/9223372036854775808", "/review/0"]
)
def test_an_id_beyond_the_database_is_bad_input(api: Api, path: str) -> None:
    # Found by schemathesis: SQLite refused the integer and the API answered 500.
    answer = api.client.get(path, headers=api.auth("viewer"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["what_to_do"]
