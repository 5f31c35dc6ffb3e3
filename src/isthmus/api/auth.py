"""API tokens and roles: who may read, who may act.

Tokens are random (``ist_`` + 32 bytes, URL-safe); the config keeps only their SHA-256,
so a leaked config file gives no access. Roles are ordered: a viewer reads, an operator
also replays, resolves, reconciles and runs flows, an admin may do everything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import HTTPException, Request

from isthmus.engine.config import ApiToken, Role

RANK: dict[Role, int] = {"viewer": 0, "operator": 1, "admin": 2}


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to put in the config."""
    token = "ist_" + secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role


def authenticate(tokens: Sequence[ApiToken], header: str | None) -> Caller:
    if not tokens:
        raise HTTPException(
            401,
            {
                "error": "no API tokens are configured, so the API is closed",
                "what_to_do": "create one with `isthmus token new NAME --role viewer` and "
                "add the printed line under api.tokens in the config",
            },
        )
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            {"error": "no bearer token", "what_to_do": "send Authorization: Bearer TOKEN"},
        )
    wanted = digest(token.strip())
    for known in tokens:
        if hmac.compare_digest(known.sha256, wanted):
            return Caller(known.name, known.role)
    raise HTTPException(
        401, {"error": "unknown token", "what_to_do": "check the token, or create a new one"}
    )


def require(role: Role) -> Callable[[Request], Caller]:
    """A FastAPI dependency: the caller, if their role is at least ``role``."""

    def check(request: Request) -> Caller:
        tokens: Sequence[ApiToken] = request.app.state.tokens
        caller = authenticate(tokens, request.headers.get("authorization"))
        if RANK[caller.role] < RANK[role]:
            raise HTTPException(
                403,
                {
                    "error": f"{caller.name} is a {caller.role}; this needs {role}",
                    "what_to_do": f"use a token with the {role} role",
                },
            )
        return caller

    return check
