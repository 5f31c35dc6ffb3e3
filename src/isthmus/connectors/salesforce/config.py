"""``connector: salesforce`` options -> a ``SalesforceConnector``.

Options::

    login_url: https://login.salesforce.com     # or https://test.salesforce.com, or a sandbox
    client_id: ${SF_CLIENT_ID}
    client_secret: ${SF_CLIENT_SECRET}
    grant: client_credentials                   # or password (username, password), or
                                                # jwt_bearer (username, private_key_file), or
                                                # refresh_token (refresh_token: a user's
                                                # consent, kept as ${secret:NAME})
    ca_bundle: /etc/isthmus/corp-ca.pem         # trust a private CA (TLS is always verified)
    api_version: "59.0"
    objects: {Account: {external_key: Isthmus_Id__c}}   # default: Isthmus_Id__c if present
    overlap_seconds: 0                          # re-read window for late commits
    budget_reserve: 1000                        # daily API calls left for people
    webhook_secret: ${SF_WEBHOOK_SECRET}        # enables change-event webhooks
    timeout_seconds: 30
    bulk_threshold: 2000                        # writes of this many or more: Bulk API 2.0
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from isthmus.connectors.salesforce.client import Credentials, SalesforceClient
from isthmus.connectors.salesforce.connector import SalesforceConnector
from isthmus.errors import ConfigError
from isthmus.security.tls import verify_setting

_KNOWN = {
    "login_url",
    "client_id",
    "client_secret",
    "grant",
    "username",
    "password",
    "refresh_token",
    "api_version",
    "objects",
    "overlap_seconds",
    "budget_reserve",
    "webhook_secret",
    "timeout_seconds",
    "bulk_threshold",
    "private_key_file",
    "audience",
    "ca_bundle",
}


def from_config(name: str, options: dict[str, Any]) -> SalesforceConnector:
    unknown = set(options) - _KNOWN
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KNOWN))}"
        )
    grant = options.get("grant", "client_credentials")
    if grant not in ("client_credentials", "password", "jwt_bearer", "refresh_token"):
        raise ConfigError(
            f"system {name!r}: options.grant must be client_credentials, password, "
            f"jwt_bearer or refresh_token, not {grant!r}"
        )
    needed = ["login_url", "client_id"]
    needed += ["private_key_file", "username"] if grant == "jwt_bearer" else ["client_secret"]
    needed += ["refresh_token"] if grant == "refresh_token" else []
    for required in needed:
        if not options.get(required):
            raise ConfigError(f"system {name!r}: options.{required} is required")
    if grant == "password" and not (options.get("username") and options.get("password")):
        raise ConfigError(f"system {name!r}: the password grant needs username and password")
    private_key = None
    if grant == "jwt_bearer":
        try:
            private_key = Path(str(options["private_key_file"])).read_text()
        except OSError as error:
            raise ConfigError(
                f"system {name!r}: cannot read options.private_key_file: {error}"
            ) from None
    objects = options.get("objects") or {}
    if not isinstance(objects, dict):
        raise ConfigError(f"system {name!r}: options.objects maps object names to options")
    credentials = Credentials(
        login_url=str(options["login_url"]),
        client_id=str(options["client_id"]),
        client_secret=str(options.get("client_secret", "")),
        grant=grant,
        username=options.get("username"),
        password=options.get("password"),
        refresh_token=options.get("refresh_token"),
        private_key=private_key,
        audience=options.get("audience"),
    )
    client = SalesforceClient(
        credentials,
        str(options.get("api_version", "59.0")),
        timeout=float(options.get("timeout_seconds", 30)),
        reserve=int(options.get("budget_reserve", 0)),
        system=name,
        verify=verify_setting(name, options.get("ca_bundle")),
    )
    return SalesforceConnector(
        name,
        client,
        external_keys={
            obj: spec["external_key"]
            for obj, spec in objects.items()
            if isinstance(spec, dict) and spec.get("external_key")
        },
        overlap=timedelta(seconds=float(options.get("overlap_seconds", 0))),
        webhook_secret=options.get("webhook_secret"),
        bulk_threshold=int(options.get("bulk_threshold", 2000)),
    )
