"""OAuth2 client credentials in the Microsoft identity platform's shape, and the rate limit.

``POST /{tenant}/oauth2/v2.0/token`` issues bearer tokens; every API call must carry one
(else 401). Each client may make ``rate_limit`` requests per sliding window, after which
it gets 429 with ``Retry-After`` (seconds until the oldest request leaves the window).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from isthmus.sandbox.business_central.config import SandboxConfig


@dataclass(frozen=True)
class TokenGrant:
    client_id: str
    expires_at: float


class TokenIssuer:
    """Issues and checks bearer tokens for the one configured client."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._tokens: dict[str, TokenGrant] = {}
        self._lock = threading.Lock()

    def issue(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """Answer a token request: (status, JSON body) as Entra ID would."""
        if form.get("grant_type") != "client_credentials":
            return 400, _oauth_error(
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type; use client_credentials.",
            )
        if form.get("client_id") != self._config.client_id:
            return 400, _oauth_error(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not "
                f"found in the directory '{self._config.tenant}'.",
            )
        if form.get("client_secret") != self._config.client_secret:
            return 401, _oauth_error(
                "invalid_client", "AADSTS7000215: Invalid client secret provided."
            )
        token = secrets.token_urlsafe(32)
        lifetime = self._config.token_lifetime_seconds
        with self._lock:
            self._tokens[token] = TokenGrant(form["client_id"], time.monotonic() + lifetime)
        return 200, {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def client_of(self, authorization: str | None) -> str | None:
        """The client id behind a valid ``Authorization: Bearer`` header, else None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        with self._lock:
            grant = self._tokens.get(authorization.removeprefix("Bearer ").strip())
        if grant is None or grant.expires_at < time.monotonic():
            return None
        return grant.client_id


def _oauth_error(code: str, description: str) -> dict[str, object]:
    return {"error": code, "error_description": description}


class RateLimiter:
    """A sliding-window request counter per client."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, client: str) -> float | None:
        """Count one request; returns None if admitted, else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(client, deque())
            while calls and calls[0] <= now - self._window:
                calls.popleft()
            if len(calls) >= self._limit:
                return calls[0] + self._window - now
            calls.append(now)
            return None
