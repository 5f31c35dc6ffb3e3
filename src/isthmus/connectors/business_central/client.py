"""The HTTP side of the Business Central connector: OAuth2 tokens and one request loop.

Every call goes through ``BusinessCentralClient.call``. It fetches an app-only token
from the Microsoft identity platform (client credentials) and renews it a minute before
it expires, or once when BC answers 401; it resolves the company once (by id or by
name) so configs can name it the way people do; and it turns failures into the
engine's errors. A write whose request left but whose answer never came raises
``AmbiguousWriteError``, so the engine looks creates up by their key instead of sending
them twice.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import httpx

from isthmus.connectors.business_central.errors import classify_call, error_of
from isthmus.errors import AmbiguousWriteError, AuthError, ConfigError, TransientError
from isthmus.security.redact import register
from isthmus.security.tls import check_tls

DEFAULT_LOGIN = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://api.businesscentral.dynamics.com/.default"
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_RENEW_BEFORE = 60.0  # seconds before expiry a token is renewed


@dataclass(frozen=True)
class Credentials:
    tenant: str
    client_id: str
    client_secret: str = field(repr=False)  # a repr can reach a log line or a traceback
    login_url: str = DEFAULT_LOGIN
    scope: str = DEFAULT_SCOPE

    @property
    def token_url(self) -> str:
        return f"{self.login_url.rstrip('/')}/{self.tenant}/oauth2/v2.0/token"


class BusinessCentralClient:
    def __init__(
        self,
        base_url: str,
        environment: str,
        company: str,
        credentials: Credentials,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool | str = True,
        system: str = "business_central",
    ) -> None:
        self.credentials = credentials
        self.system = system
        self.api = f"{base_url.rstrip('/')}/v2.0/{credentials.tenant}/{environment}/api/v2.0"
        self.company = company
        self.calls = 0  # API calls made, for reports and benchmarks
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, verify=verify)
        self._token: str | None = None
        self._had_token = False
        self._expires_at = 0.0
        self._company_id: str | None = None

    # -- tokens ---------------------------------------------------------------------------
    async def token(self) -> str:
        if self._token is None or time.monotonic() >= self._expires_at - _RENEW_BEFORE:
            await self._fetch_token()
        assert self._token is not None
        return self._token

    async def _fetch_token(self) -> None:
        c = self.credentials
        form = {
            "grant_type": "client_credentials",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "scope": c.scope,
        }
        try:
            answer = await self._http.post(c.token_url, data=form)
        except httpx.HTTPError as error:
            # An untrusted certificate stops the flow with the fix; it is never retried.
            check_tls(error, self.system, c.token_url)
            raise TransientError(f"Business Central token from {c.token_url}: {error!r}") from None
        body = body_of(answer)
        if answer.status_code == 429 or answer.status_code >= 500:
            raise classify_call(
                answer.status_code, body, retry_after(answer), "Business Central token"
            )
        if answer.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            code, message = error_of(body)
            if self._had_token:
                # It worked before: the secret expired or the app's access was withdrawn.
                raise AuthError(
                    f"the identity platform no longer gives tokens for tenant {c.tenant!r} "
                    f"({answer.status_code} {code}: {message}): the client secret expired or "
                    "the app's access to Business Central was revoked. Create a new secret "
                    "(or re-grant the app in BC's Microsoft Entra Applications page), store it "
                    "with `isthmus secrets set`, then run the flow again; nothing was lost"
                )
            raise AuthError(
                f"the identity platform refused a token for tenant {c.tenant!r} "
                f"({answer.status_code} {code}: {message}); check tenant, client_id and "
                "client_secret of the app registration"
            )
        self._token = str(body["access_token"])
        register(self._token)  # hidden from logs and messages from now on
        self._had_token = True
        self._expires_at = time.monotonic() + float(body.get("expires_in", 3599))

    # -- the company ----------------------------------------------------------------------
    async def company_url(self) -> str:
        """``.../companies({id})``, the company found once by id or name."""
        if self._company_id is None:
            answer = await self.call("GET", f"{self.api}/companies", what="list companies")
            companies = answer.json().get("value", [])
            wanted = self.company.strip().lower()
            for company in companies:
                names = {str(company.get(k, "")).lower() for k in ("id", "name", "displayName")}
                if wanted in names:
                    self._company_id = str(company["id"])
                    break
            else:
                known = ", ".join(repr(c.get("name")) for c in companies) or "none"
                raise ConfigError(
                    f"Business Central has no company {self.company!r} in this environment; "
                    f"companies: {known}"
                )
        return f"{self.api}/companies({self._company_id})"

    # -- calls ----------------------------------------------------------------------------
    async def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        accept: Collection[int] = (),
        read_only: bool = False,
        what: str = "Business Central call",
    ) -> httpx.Response:
        """One API call. Answers below 400 and those in ``accept`` are returned; other
        failures raise the engine's error for them. ``read_only`` marks a POST that
        changes nothing (a ``$batch`` of GETs): a lost answer is then merely transient."""
        for attempt in (1, 2):
            request_headers = {
                "Authorization": f"Bearer {await self.token()}",
                "Accept": "application/json",
                **(headers or {}),
            }
            self.calls += 1
            try:
                answer = await self._http.request(
                    method, url, params=params, json=json, headers=request_headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                check_tls(error, self.system, url)
                raise TransientError(f"{what}: cannot reach Business Central ({error!r})") from None
            except httpx.HTTPError as error:
                if method in _WRITES and not read_only:
                    # The request left; no answer came. The write may have happened.
                    raise AmbiguousWriteError(
                        f"{what}: sent, but Business Central gave no answer ({error!r})"
                    ) from None
                raise TransientError(
                    f"{what}: no answer from Business Central ({error!r})"
                ) from None
            if answer.status_code == 401 and attempt == 1:
                self._token = None  # revoked or expired early: one fresh token, then give up
                continue
            if answer.status_code < 400 or answer.status_code in accept:
                return answer
            raise classify_call(answer.status_code, body_of(answer), retry_after(answer), what)
        raise AuthError(f"{what}: Business Central refused a fresh token; check the app's access")

    async def close(self) -> None:
        await self._http.aclose()


def body_of(answer: httpx.Response) -> Any:
    """The JSON of an answer, or a BC-shaped error body when it is not JSON."""
    try:
        return answer.json()
    except ValueError:
        return {"error": {"code": f"HTTP{answer.status_code}", "message": answer.text[:300]}}


def seconds(value: Any) -> float | None:
    """A ``Retry-After`` value in seconds; None when absent or not a number."""
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


def retry_after(answer: httpx.Response) -> float | None:
    return seconds(answer.headers.get("retry-after"))


def reply_retry_after(reply: dict[str, Any]) -> float | None:
    """``Retry-After`` of one ``$batch`` reply (its header names in any case)."""
    headers = {str(k).lower(): v for k, v in (reply.get("headers") or {}).items()}
    return seconds(headers.get("retry-after"))
