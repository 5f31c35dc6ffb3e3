"""The HTTP side of the Salesforce connector: OAuth2, one request loop, the API budget.

Every call goes through ``SalesforceClient.call``: it attaches the bearer token, reads the daily API
budget from ``Sforce-Limit-Info`` on every answer, refuses to spend the reserve kept
for people and real-time flows, and turns failures into the engine's errors. A write
whose request left but whose answer never came raises ``AmbiguousWriteError``: the
engine then looks creates up by their external id instead of sending them twice.

Token lifecycle, as explicit actions (not a generic retry):
- a call answered 401 (``INVALID_SESSION_ID``: the access token expired) renews the
  session once (refresh token, or the configured grant again) and repeats that call;
  the 401 means Salesforce did nothing, so repeating a write cannot duplicate it;
- a renewal refused by the token endpoint (``invalid_grant``: the refresh token or the
  app's access was revoked) raises ``CredentialsRevokedError``: the flow stops and the
  message says which system and how to authorise it again.

TLS certificates are always verified; ``ca_bundle`` adds a private CA (security.tls).
"""

from __future__ import annotations

import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from isthmus.connectors.salesforce.errors import classify_call, first_error
from isthmus.errors import AmbiguousWriteError, AuthError, RateLimitedError, TransientError
from isthmus.security.redact import register
from isthmus.security.tls import check_tls

Grant = Literal["client_credentials", "password", "jwt_bearer", "refresh_token"]
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class Credentials:
    login_url: str
    client_id: str
    # Secrets stay out of repr: a repr can reach a log line or a traceback.
    client_secret: str = field(repr=False)
    grant: Grant = "client_credentials"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)  # PEM, for the JWT bearer grant
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


class CredentialsRevokedError(AuthError):
    """Salesforce refused to renew the session: the refresh token or the connected app's
    access was revoked. Not retried; a person must authorise Isthmus again."""


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
        system: str = "salesforce",
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.credentials = credentials
        self.api_version = api_version
        self.system = system
        self.budget = ApiBudget(reserve=reserve)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, verify=verify)
        self._token: str | None = None
        self._instance_url: str | None = None
        self._refresh_token = credentials.refresh_token
        # Set once a login succeeded: a later refusal is a revocation, not a typo.
        self._had_session = False
        self.renewals = 0

    @property
    def api(self) -> str:
        return f"/services/data/v{self.api_version}"

    async def login(self) -> None:
        """Get an access token with the configured grant (or the refresh token).

        Raises:
            AuthError: the first login was refused (wrong credentials).
            CredentialsRevokedError: a renewal was refused (access revoked).
            TlsVerificationError: the login server's certificate is not trusted.
        """
        c = self.credentials
        form = self._login_form()
        url = c.login_url.rstrip("/") + "/services/oauth2/token"
        try:
            answer = await self._http.post(url, data=form)
        except httpx.HTTPError as error:
            check_tls(error, self.system, url)
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
            refused_refresh = form["grant_type"] == "refresh_token"
            if refused_refresh and c.grant == "password":
                # A password login still works without the refresh token it once gave.
                self._refresh_token = None
                return await self.login()
            code, message = first_error(body)
            if self._had_session or refused_refresh:
                raise self._revoked(code, message)
            raise AuthError(
                f"Salesforce refused the login ({code}: {message}); check client_id, "
                "client_secret and the user's credentials"
            )
        self._token = str(body["access_token"])
        self._instance_url = str(body.get("instance_url") or c.login_url).rstrip("/")
        self._refresh_token = body.get("refresh_token") or self._refresh_token
        register(self._token, self._refresh_token)
        self._had_session = True

    def _login_form(self) -> dict[str, str]:
        c = self.credentials
        form: dict[str, str] = {"client_id": c.client_id, "client_secret": c.client_secret}
        if c.grant == "jwt_bearer":
            return {"grant_type": JWT_BEARER, "assertion": c.assertion()}
        if self._refresh_token and c.grant != "client_credentials":
            return form | {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        if c.grant == "password":
            return form | {
                "grant_type": "password",
                "username": c.username or "",
                "password": c.password or "",
            }
        if c.grant == "refresh_token":
            raise AuthError(
                f"system {self.system!r}: the refresh_token grant needs options.refresh_token "
                "(store it with `isthmus secrets set` and refer to it as ${secret:NAME})"
            )
        return form | {"grant_type": "client_credentials"}

    def _revoked(self, code: str, message: str) -> CredentialsRevokedError:
        return CredentialsRevokedError(
            f"system {self.system!r} (Salesforce at {self.credentials.login_url}): the "
            f"session could not be renewed ({code}: {message}); its refresh token or the "
            "connected app's access was revoked. The flow stopped; nothing more is read or "
            "written. To resume: authorise the connected app again for the integration user "
            "(a new refresh token: `isthmus secrets set -c CONFIG NAME`; or check the app's "
            "client secret, certificate and policies), then run the flow again."
        )

    async def refresh(self) -> None:
        """Renew an expired session once (the explicit action for a 401)."""
        self._token = None
        self.renewals += 1
        await self.login()

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
                check_tls(error, self.system, url)
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
                # The session expired (INVALID_SESSION_ID): Salesforce did nothing, so
                # renewing it and repeating this call once cannot duplicate a write.
                await self.refresh()
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
