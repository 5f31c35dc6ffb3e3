"""``connector: salesforce`` options -> a ``SalesforceConnector``.

Options::

    login_url: https://login.salesforce.com     # or https://test.salesforce.com, or a sandbox
    client_id: ${SF_CLIENT_ID}
    client_secret: ${SF_CLIENT_SECRET}
    grant: client_credentials                   # or password (with username, password)
    api_version: "59.0"
    objects: {Account: {external_key: Isthmus_Id__c}}   # default: Isthmus_Id__c if present
    overlap_seconds: 0                          # re-read window for late commits
    budget_reserve: 1000                        # daily API calls left for people
    webhook_secret: ${SF_WEBHOOK_SECRET}        # enables change-event webhooks
    timeout_seconds: 30
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from isthmus.connectors.salesforce.client import Credentials, SalesforceClient
from isthmus.connectors.salesforce.connector import SalesforceConnector
from isthmus.errors import ConfigError

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
}


def from_config(name: str, options: dict[str, Any]) -> SalesforceConnector:
    unknown = set(options) - _KNOWN
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KNOWN))}"
        )
    for required in ("login_url", "client_id", "client_secret"):
        if not options.get(required):
            raise ConfigError(f"system {name!r}: options.{required} is required")
    grant = options.get("grant", "client_credentials")
    if grant not in ("client_credentials", "password"):
        raise ConfigError(
            f"system {name!r}: options.grant must be client_credentials or password, not {grant!r}"
        )
    if grant == "password" and not (options.get("username") and options.get("password")):
        raise ConfigError(f"system {name!r}: the password grant needs username and password")
    objects = options.get("objects") or {}
    if not isinstance(objects, dict):
        raise ConfigError(f"system {name!r}: options.objects maps object names to options")
    credentials = Credentials(
        login_url=str(options["login_url"]),
        client_id=str(options["client_id"]),
        client_secret=str(options["client_secret"]),
        grant=grant,
        username=options.get("username"),
        password=options.get("password"),
        refresh_token=options.get("refresh_token"),
    )
    client = SalesforceClient(
        credentials,
        str(options.get("api_version", "59.0")),
        timeout=float(options.get("timeout_seconds", 30)),
        reserve=int(options.get("budget_reserve", 0)),
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
    )
