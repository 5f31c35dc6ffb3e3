"""Dashboard sessions: an API token, checked once at login, becomes a signed cookie.

The cookie holds the token's id and an expiry, signed with HMAC-SHA256 under a key of
this process (generated at start, so a restart signs everyone out). Every request
re-reads the token and its user from the store, so a revoked token or a changed role
takes effect on the next page, not when the cookie expires. Forms carry a CSRF value
derived from the cookie, so another site cannot make a signed-in browser act.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from isthmus.api.auth import Principal, verify_token
from isthmus.store import Store

COOKIE = "isthmus_session"
LIFETIME_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, and the value its forms must echo."""

    principal: Principal
    csrf: str


class SessionKeys:
    """Signs and checks session cookies with one secret key."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)

    def _sign(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()

    def login(self, store: Store, token_text: str) -> str | None:
        """The cookie value for a valid token, or None when the token is not valid."""
        if verify_token(store, token_text) is None:
            return None
        token_id = token_text.split("_")[1]
        data = json.dumps({"t": token_id, "exp": int(time.time()) + LIFETIME_SECONDS})
        payload = base64.urlsafe_b64encode(data.encode()).decode()
        return f"{payload}.{self._sign(payload)}"

    def session(self, store: Store, cookie: str | None) -> Session | None:
        """The session a cookie proves, or None (missing, forged, expired, revoked)."""
        if not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
            token_id, expires = str(data["t"]), int(data["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires < time.time():
            return None
        token = store.token(token_id)
        if token is None or token.revoked_at is not None:
            return None
        user = store.user(token.user_name)
        if user is None:
            return None
        return Session(Principal(user), self._sign(f"csrf:{cookie}"))
