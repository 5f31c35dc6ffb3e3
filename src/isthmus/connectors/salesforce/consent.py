"""A user's consent for the refresh-token grant: the OAuth2 web-server flow.

Some orgs allow an integration only on behalf of a user who consented once. The user
opens ``authorize_url`` in a browser and approves; Salesforce redirects to the connected
app's callback URL with a one-time ``code``; ``exchange_code`` trades it for a refresh
token, which ``isthmus oauth exchange`` stores encrypted in the vault. From then on the
system runs with ``grant: refresh_token`` and ``refresh_token: ${secret:NAME}``.
"""

from __future__ import annotations

import ssl
import urllib.parse

import httpx

from isthmus.connectors.salesforce.errors import first_error
from isthmus.errors import AuthError, TransientError
from isthmus.security.redact import register
from isthmus.security.tls import check_tls


def authorize_url(login_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": "api refresh_token",
        }
    )
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{query}"


async def exchange_code(
    system: str,
    login_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    verify: ssl.SSLContext | bool = True,
) -> str:
    """The refresh token for an authorization ``code``.

    Raises:
        AuthError: Salesforce refused the code (used, expired, or another redirect URI).
        TlsVerificationError: the login server's certificate is not trusted.
    """
    url = login_url.rstrip("/") + "/services/oauth2/token"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    async with httpx.AsyncClient(timeout=30, verify=verify) as http:
        try:
            answer = await http.post(url, data=form)
        except httpx.HTTPError as error:
            check_tls(error, system, url)
            raise TransientError(f"Salesforce login at {url} failed: {error!r}") from None
    try:
        body = answer.json()
    except ValueError:
        body = {"message": answer.text[:300]}
    if answer.status_code != 200 or not isinstance(body, dict) or "refresh_token" not in body:
        code_name, message = first_error(body)
        raise AuthError(
            f"system {system!r}: Salesforce refused the authorization code ({code_name}: "
            f"{message}); a code works once, for ten minutes, with the same redirect URI: "
            "open the authorization URL again and use the new code"
        )
    refresh_token = str(body["refresh_token"])
    register(refresh_token, body.get("access_token"))
    return refresh_token
