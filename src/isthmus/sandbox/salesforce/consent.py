"""The OAuth2 web-server flow (authorization code), answering like Salesforce.

``GET /services/oauth2/authorize?response_type=code&client_id=...&redirect_uri=...``
stands for the consent page: the sandbox has one user, so it approves at once and
redirects to ``redirect_uri?code=...&state=...``. The token endpoint then exchanges the
code (once, within ten minutes, with the same redirect URI and the client secret) for
an access token and a refresh token (``auth.token_endpoint``).
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

CODE_SECONDS = 600


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    expires_at: float


class CodeRegistry:
    """Authorization codes: each one works once, for its client and redirect URI."""

    def __init__(self) -> None:
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, redirect_uri: str) -> str:
        code = f"aPrx{secrets.token_urlsafe(40)}"
        with self._lock:
            self._codes[code] = _Grant(client_id, redirect_uri, time.time() + CODE_SECONDS)
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str) -> bool:
        with self._lock:
            grant = self._codes.pop(code, None)
        return (
            grant is not None
            and grant.expires_at >= time.time()
            and (grant.client_id, grant.redirect_uri) == (client_id, redirect_uri)
        )


def _error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=400)


async def authorize_endpoint(request: Request) -> Response:
    """``GET /services/oauth2/authorize``: approve and redirect with a code."""
    state = request.app.state.sandbox
    params = request.query_params
    if params.get("response_type") != "code":
        return _error("unsupported_response_type", "response type not supported")
    if params.get("client_id") != state.tokens.credentials.client_id:
        return _error("invalid_client_id", "client identifier invalid")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri.startswith(("http://", "https://")):
        return _error("redirect_uri_mismatch", "redirect_uri must be an http(s) URL")
    if state.tokens.revoked:
        return _error("access_denied", "access to this app was revoked by an administrator")
    answer = {"code": state.codes.issue(params["client_id"], redirect_uri)}
    if params.get("state"):
        answer["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urllib.parse.urlencode(answer), 302)
