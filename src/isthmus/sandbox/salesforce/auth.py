"""OAuth2 token endpoint and bearer-token checks, answering like Salesforce.

Grants: ``password`` (password plus optional security token), JWT bearer (RS256, with
the connected app's public key), ``client_credentials``
(form fields or HTTP Basic), ``authorization_code`` (codes from ``consent``) and
``refresh_token``. Success bodies carry
``access_token, instance_url, id, token_type, issued_at, signature``; failures are
``{"error", "error_description"}`` with status 400 (401 for bad client credentials in the
client-credentials grant). API calls without a valid, unexpired token get 401
``INVALID_SESSION_ID`` in the REST error array shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse

from isthmus.sandbox.salesforce.errors import invalid_session
from isthmus.sandbox.salesforce.objects import SANDBOX_ORG_ID, SANDBOX_USER_ID
from isthmus.sandbox.salesforce.settings import Credentials


@dataclass(frozen=True)
class Session:
    access_token: str
    user_id: str
    expires_at: float


class TokenRegistry:
    """Issued access and refresh tokens; shared by all requests."""

    def __init__(self, credentials: Credentials, session_seconds: int) -> None:
        self.credentials = credentials
        self.session_seconds = session_seconds
        self._sessions: dict[str, Session] = {}
        self._refresh_tokens: set[str] = set()
        self._lock = threading.Lock()
        # Test hooks (``/__sandbox/sessions``): end the sessions after this many more
        # API calls; and an administrator's revocation of the app's access.
        self._expire_countdown: int | None = None
        self._expire_every: int | None = None
        self._revoke_countdown: int | None = None
        self.revoked = False
        # Every token ever handed out, for tests that check none leaked anywhere.
        self.issued: list[str] = []

    def issue(self) -> Session:
        token = f"{SANDBOX_ORG_ID[:15]}!{secrets.token_urlsafe(48)}"
        session = Session(token, SANDBOX_USER_ID, time.time() + self.session_seconds)
        with self._lock:
            self._sessions[token] = session
            self.issued.append(token)
        return session

    def issue_refresh_token(self) -> str:
        token = f"5Aep{secrets.token_urlsafe(60)}"
        with self._lock:
            self._refresh_tokens.add(token)
            self.issued.append(token)
        return token

    def knows_refresh_token(self, token: str) -> bool:
        with self._lock:
            return token in self._refresh_tokens

    def revoke(self, token: str) -> bool:
        with self._lock:
            found = self._sessions.pop(token, None) is not None
            if token in self._refresh_tokens:
                self._refresh_tokens.discard(token)
                found = True
            return found

    def expire_all(self) -> int:
        """End every access token now (refresh tokens stay valid) and any expiry set
        with ``expire_after``; return how many."""
        with self._lock:
            self._expire_countdown = self._expire_every = None
            count = len(self._sessions)
            self._sessions.clear()
            return count

    def expire_after(self, calls: int, repeat: bool = False) -> None:
        """End every access token once ``calls`` more API calls were answered (and
        again every ``calls`` calls after that when ``repeat``)."""
        with self._lock:
            self._expire_countdown = calls
            self._expire_every = calls if repeat else None

    def revoke_all(self, after_calls: int = 0) -> None:
        """Revoke the app's access (now, or after ``after_calls`` API calls): every
        session and refresh token ends and every grant is refused until ``restore``."""
        with self._lock:
            self._revoke_countdown = after_calls - 1 if after_calls == 0 else after_calls
        if after_calls == 0:
            self._countdown()

    def restore(self) -> None:
        with self._lock:
            self.revoked = False
            self._revoke_countdown = None

    def _countdown(self) -> None:
        with self._lock:
            if self._expire_countdown is not None:
                self._expire_countdown -= 1
                if self._expire_countdown < 0:
                    self._expire_countdown = self._expire_every
                    self._sessions.clear()
            if self._revoke_countdown is not None:
                self._revoke_countdown -= 1
                if self._revoke_countdown < 0:
                    self._revoke_countdown = None
                    self.revoked = True
                    self._sessions.clear()
                    self._refresh_tokens.clear()

    def check(self, request: Request) -> Session:
        """The session of ``request``'s bearer token.

        Raises:
            SalesforceApiError: 401 INVALID_SESSION_ID when missing, unknown or expired.
        """
        self._countdown()
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            raise invalid_session()
        with self._lock:
            session = self._sessions.get(token.strip())
        if session is None or session.expires_at < time.time():
            raise invalid_session()
        return session


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def token_endpoint(request: Request) -> JSONResponse:
    """``POST /services/oauth2/token``."""
    registry: TokenRegistry = request.app.state.sandbox.tokens
    expected = registry.credentials
    fields = await _form_fields(request)
    grant = fields.get("grant_type", "")
    if registry.revoked:
        return _oauth_error("invalid_grant", "access to this app was revoked by an administrator")
    if grant == JWT_BEARER:
        return _jwt_bearer(request, registry, fields.get("assertion", ""))
    client_id, client_secret = _client_credentials(request, fields)
    if grant not in ("password", "client_credentials", "refresh_token", "authorization_code"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    if client_id != expected.client_id:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    refresh_token: str | None = None
    if grant == "authorization_code":
        if client_secret != expected.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        codes = request.app.state.sandbox.codes
        if not codes.redeem(fields.get("code", ""), client_id, fields.get("redirect_uri", "")):
            return _oauth_error("invalid_grant", "invalid authorization code")
        refresh_token = registry.issue_refresh_token()
    elif grant == "password":
        if client_secret != expected.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        passwords = {expected.password + expected.security_token}
        if not expected.security_token:
            passwords.add(expected.password)
        if fields.get("username") != expected.username or fields.get("password") not in passwords:
            return _oauth_error("invalid_grant", "authentication failure")
        refresh_token = registry.issue_refresh_token()
    elif grant == "client_credentials":
        if client_secret != expected.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials", 401)
    elif not registry.knows_refresh_token(fields.get("refresh_token", "")):
        return _oauth_error("invalid_grant", "expired access/refresh token")
    return JSONResponse(_success_body(request, registry, expected.client_secret, refresh_token))


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce wants the login server as the audience; the sandbox also takes its own URL.
_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


def _jwt_bearer(request: Request, registry: TokenRegistry, assertion: str) -> JSONResponse:
    """The JWT bearer grant: an RS256 assertion signed with the connected app's key,
    ``iss`` the client id, ``sub`` the user, ``aud`` the login server, ``exp`` ahead."""
    import jwt  # PyJWT

    expected = registry.credentials
    if expected.jwt_public_key is None:
        return _oauth_error("invalid_grant", "no certificate uploaded for JWT bearer flow")
    own_url = str(request.base_url).rstrip("/")
    try:
        claims = jwt.decode(
            assertion,
            expected.jwt_public_key,
            algorithms=["RS256"],
            audience=[*_AUDIENCES, own_url],
            options={"require": ["iss", "sub", "aud", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        return _oauth_error("invalid_grant", "expired authorization code")
    except jwt.PyJWTError:
        return _oauth_error("invalid_grant", "invalid assertion")
    if claims["iss"] != expected.client_id:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if claims["sub"] != expected.username:
        return _oauth_error("invalid_grant", "user hasn't approved this consumer")
    return JSONResponse(_success_body(request, registry, expected.client_secret, None))


async def _form_fields(request: Request) -> dict[str, str]:
    # OAuth bodies are application/x-www-form-urlencoded; parsing them here avoids a
    # multipart dependency for the one content type the endpoint accepts.
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(urllib.parse.parse_qsl(body, keep_blank_values=True))


def _client_credentials(request: Request, fields: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return fields.get("client_id", ""), fields.get("client_secret", "")


def _success_body(
    request: Request, registry: TokenRegistry, secret: str, refresh_token: str | None
) -> dict[str, str]:
    session = registry.issue()
    instance_url = request.app.state.sandbox.instance_url(request)
    identity = f"{instance_url}/id/{SANDBOX_ORG_ID}/{session.user_id}"
    issued_at = str(int(time.time() * 1000))
    # Salesforce signs id + issued_at with the client secret so clients can check the answer.
    digest = hmac.new(secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    body = {
        "access_token": session.access_token,
        "instance_url": instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64.b64encode(digest).decode(),
        "scope": "api refresh_token",
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


async def revoke_endpoint(request: Request) -> JSONResponse:
    """``POST /services/oauth2/revoke``: end an access or refresh token."""
    registry: TokenRegistry = request.app.state.sandbox.tokens
    fields = await _form_fields(request)
    token = fields.get("token") or request.query_params.get("token", "")
    if not registry.revoke(token):
        return _oauth_error("unsupported_token_type", "this token type is not supported")
    return JSONResponse({})
