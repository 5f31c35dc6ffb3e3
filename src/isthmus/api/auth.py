"""API tokens and roles: who may call which route.

A token is ``ist_<id>_<secret>``. The store keeps the id, a random salt and the scrypt
hash of the secret, never the secret; verification recomputes the hash and compares
with ``hmac.compare_digest`` so timing says nothing about how much matched. Roles are
ordered: viewer reads, operator also acts on records (run, replay, resolve,
reconcile), admin also manages users, tokens and flow state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from isthmus.api.errors import ApiError
from isthmus.store import ApiToken, Role, Store, User

RANK: dict[Role, int] = {"viewer": 0, "operator": 1, "admin": 2}
PREFIX = "ist"
# scrypt cost: ~10 ms per check on a laptop, small enough to check on every request,
# large enough that a stolen store's hashes are not a list of tokens.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1


def hash_secret(secret: str, salt: str) -> str:
    digest = hashlib.scrypt(
        secret.encode(), salt=bytes.fromhex(salt), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return digest.hex()


def issue_token(store: Store, user_name: str) -> tuple[ApiToken, str]:
    """Create a token for a user; returns it as stored and the only copy of its text.

    Raises:
        ApiError: 404 when the user does not exist.
    """
    if store.user(user_name) is None:
        raise ApiError(404, f"no user named {user_name!r}", "Add it first: `isthmus users add`.")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    token = ApiToken(token_id, user_name, salt, hash_secret(secret, salt))
    store.add_token(token)
    return token, f"{PREFIX}_{token_id}_{secret}"


def verify_token(store: Store, text: str) -> User | None:
    """The user a token text belongs to, or None (malformed, unknown, revoked)."""
    prefix, _, rest = text.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not token_id or not secret or len(token_id) > 32:
        return None
    token = store.token(token_id)
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(hash_secret(secret, token.salt), token.token_hash):
        return None
    return store.user(token.user_name)


@dataclass(frozen=True)
class Principal:
    """The caller of a request: a user and the role the request runs with."""

    user: User

    @property
    def actor(self) -> str:
        """How the audit log names this caller (the engine's ``actor``)."""
        return f"api:{self.user.name}"

    def at_least(self, role: Role) -> bool:
        return RANK[self.user.role] >= RANK[role]


def require(role: Role) -> Callable[[Request], Principal]:
    """A route dependency: a valid Bearer token of a user with at least ``role``."""

    def check(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, text = header.partition(" ")
        if scheme.lower() != "bearer" or not text.strip():
            raise ApiError(
                401,
                "no API token given",
                "Send `Authorization: Bearer TOKEN`; create one with `isthmus tokens create`.",
            )
        store: Store = request.app.state.context.engine.store
        user = verify_token(store, text.strip())
        if user is None:
            raise ApiError(
                401,
                "the API token is unknown, revoked or malformed",
                "Create a new one with `isthmus tokens create NAME`.",
            )
        principal = Principal(user)
        if not principal.at_least(role):
            raise ApiError(
                403,
                f"user {user.name!r} is a {user.role}; this needs the {role} role",
                "Ask an admin to change your role with `isthmus users add NAME --role ROLE`.",
            )
        return principal

    return check
