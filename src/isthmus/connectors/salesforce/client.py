"""The HTTP side of the Salesforce connector: OAuth2, one request loop, the API budget.

Every call goes through ``SalesforceClient.call``: it attaches the bearer token (and
logs in again once when Salesforce says the session expired), reads the daily API
budget from ``Sforce-Limit-Info`` on every answer, refuses to spend the reserve kept
for people and real-time flows, and turns failures into the engine's errors. A write
whose request left but whose answer never came raises ``AmbiguousWriteError``: the
engine then looks creates up by their external id instead of sending them twice.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from isthmus.connectors.salesforce.errors import classify_call, first_error
from isthmus.errors import AmbiguousWriteError, AuthError, RateLimitedError, TransientError

Grant = Literal["client_credentials", "password", "jwt_bearer"]
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class Credentials:
    login_url: str
    client_id: str
    client_secret: str
    grant: Grant = "client_credentials"
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    private_key: str | None = None  # PEM, for the JWT bearer grant
    audience: str | None = None  # the login server the JWT names (default: login_url)

    def assertion(self) -> str:
        """A signed JWT for the bearer grant, valid for three minutes."""
        import jwt  # PyJWT

        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": (self.audience or self.login_url).rstrip("/"),
            "exp": int(time.time()) + 180,
        }
        return jwt.encode(claims, self.private_key or "", algorithm="RS256")


@dataclass
class ApiBudget:
    """The org's daily API calls as Salesforce last reported them."""

    used: int | None = None
    limit: int | None = None
    reserve: int = 0  # calls left for people and real-time flows
    updated_at: float | None = field(default=None, repr=False)

    @property
    def remaining(self) -> int | None:
        return None if self.used is None or self.limit is None else self.limit - self.used

    def read(self, header: str | None) -> None:
        match = _LIMIT_INFO.search(header or "")
        if match:
            self.used, self.limit = int(match.group(1)), int(match.group(2))
            self.updated_at = time.time()

    def check(self) -> None:
        remaining = self.remaining
        if remaining is not None and remaining <= self.reserve:
            raise RateLimitedError(
                f"Salesforce API budget: {self.used} of {self.limit} daily calls used; the "
                f"last {self.reserve} are kept in reserve, so this flow pauses until the "
                "org's 24-hour window frees calls (or lower budget_reserve)",
                retry_after=3600,
            )


class SalesforceClient:
    def __init__(
        self,
        credentials: Credentials,
        api_version: str = "59.0",
        *,
        timeout: float = 30.0,
        reserve: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.credentials = credentials
        self.api_version = api_version
        self.budget = ApiBudget(reserve=reserve)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._token: str | None = None
        self._instance_url: str | None = None
        self._refresh_token = credentials.refresh_token

    @property
    def api(self) -> str:
        return f"/services/data/v{self.api_version}"

    async def login(self) -> None:
        """Get an access token with the configured grant (or the refresh token)."""
        c = self.credentials
        form: dict[str, str] = {"client_id": c.client_id, "client_secret": c.client_secret}
        if c.grant == "jwt_bearer":
            form = {"grant_type": JWT_BEARER, "assertion": c.assertion()}
        elif self._refresh_token and c.grant != "client_credentials":
            form |= {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        elif c.grant == "password":
            form |= {
                "grant_type": "password",
                "username": c.username or "",
                "password": c.password or "",
            }
        else:
            form["grant_type"] = "client_credentials"
        url = c.login_url.rstrip("/") + "/services/oauth2/token"
        try:
            answer = await self._http.post(url, data=form)
        except httpx.HTTPError as error:
            raise TransientError(f"Salesforce login at {url} failed: {error!r}") from None
        body = _json(answer)
        if answer.status_code == 429 or answer.status_code >= 500:
            raise classify_call(
                answer.status_code,
                body,
                _seconds(answer.headers.get("retry-after")),
                "Salesforce login",
            )
        if answer.status_code != 200 or not isinstance(body, dict):
            if form["grant_type"] == "refresh_token":
                self._refresh_token = None  # expired or revoked: fall back to the grant
                return await self.login()
            code, message = first_error(body)
            raise AuthError(
                f"Salesforce refused the login ({code}: {message}); check client_id, "
                "client_secret and the user's credentials"
            )
        self._token = str(body["access_token"])
        self._instance_url = str(body.get("instance_url") or c.login_url).rstrip("/")
        self._refresh_token = body.get("refresh_token") or self._refresh_token

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        what: str = "Salesforce call",
    ) -> httpx.Response:
        """One API call; answers 2xx and 300 are returned, others raise."""
        self.budget.check()
        for attempt in (1, 2):
            if self._token is None:
                await self.login()
            url = path if path.startswith("http") else f"{self._instance_url}{path}"
            request_headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
            try:
                answer = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=request_headers,
                    content=content,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                raise TransientError(f"{what}: cannot reach Salesforce ({error!r})") from None
            except httpx.HTTPError as error:
                # The request left; no answer came. For a write it may have happened.
                if method in _WRITES:
                    raise AmbiguousWriteError(
                        f"{what}: sent, but no answer came ({error!r})"
                    ) from None
                raise TransientError(f"{what}: no answer from Salesforce ({error!r})") from None
            self.budget.read(answer.headers.get("sforce-limit-info"))
            if answer.status_code == 401 and attempt == 1:
                self._token = None  # the session expired: log in again, once
                continue
            if answer.status_code < 400:
                return answer
            retry_after = _seconds(answer.headers.get("retry-after"))
            raise classify_call(answer.status_code, _json(answer), retry_after, what)
        raise AuthError(f"{what}: Salesforce refused a fresh session; check the connected app")

    async def close(self) -> None:
        await self._http.aclose()


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return {"message": answer.text[:300]}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
