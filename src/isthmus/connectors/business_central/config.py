"""``connector: business_central`` options -> a ``BusinessCentralConnector``.

Options::

    base_url: https://api.businesscentral.dynamics.com   # or a sandbox's URL
    login_url: https://login.microsoftonline.com         # token endpoint host
    tenant: contoso.onmicrosoft.com                      # directory (tenant) id or domain
    environment: production
    company: CRONUS USA, Inc.                            # company name or id
    client_id: ${BC_CLIENT_ID}
    client_secret: ${BC_CLIENT_SECRET}
    scope: https://api.businesscentral.dynamics.com/.default
    objects:                                             # per entity set
      customers: {external_key: number}                  # idempotent creates (see docs)
    overlap_seconds: 1                                   # re-read window for late commits
    timeout_seconds: 30
    webhook:                                             # keeps subscriptions alive
      notification_url: https://isthmus.example.com/webhooks/bc
      client_state: ${BC_WEBHOOK_SECRET}
      objects: [customers, salesOrders]                  # default: every object of objects:
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from isthmus.connectors.business_central.client import (
    DEFAULT_LOGIN,
    DEFAULT_SCOPE,
    BusinessCentralClient,
    Credentials,
)
from isthmus.connectors.business_central.connector import BusinessCentralConnector
from isthmus.connectors.business_central.subscriptions import SubscriptionPlan
from isthmus.errors import ConfigError

_KNOWN = {
    "base_url",
    "login_url",
    "tenant",
    "environment",
    "company",
    "client_id",
    "client_secret",
    "scope",
    "objects",
    "overlap_seconds",
    "timeout_seconds",
    "webhook",
    "ca_bundle",
}
_WEBHOOK_KNOWN = {"notification_url", "client_state", "objects", "renew_hours", "check_minutes"}


def from_config(name: str, options: dict[str, Any]) -> BusinessCentralConnector:
    unknown = set(options) - _KNOWN
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KNOWN))}"
        )
    for required in ("tenant", "environment", "company", "client_id", "client_secret"):
        if not options.get(required):
            raise ConfigError(f"system {name!r}: options.{required} is required")
    objects = options.get("objects") or {}
    if not isinstance(objects, dict) or not all(
        isinstance(spec, dict) or spec is None for spec in objects.values()
    ):
        raise ConfigError(
            f"system {name!r}: options.objects maps entity sets to options, e.g. "
            "{customers: {external_key: number}}"
        )
    credentials = Credentials(
        tenant=str(options["tenant"]),
        client_id=str(options["client_id"]),
        client_secret=str(options["client_secret"]),
        login_url=str(options.get("login_url") or DEFAULT_LOGIN),
        scope=str(options.get("scope") or DEFAULT_SCOPE),
    )
    client = BusinessCentralClient(
        str(options.get("base_url") or "https://api.businesscentral.dynamics.com"),
        str(options["environment"]),
        str(options["company"]),
        credentials,
        timeout=float(options.get("timeout_seconds", 30)),
        verify=str(options["ca_bundle"]) if options.get("ca_bundle") else True,
    )
    return BusinessCentralConnector(
        name,
        client,
        external_keys={
            set_name: (spec or {}).get("external_key") for set_name, spec in objects.items()
        },
        overlap=timedelta(seconds=float(options.get("overlap_seconds", 1))),
        subscriptions=_webhook(name, options.get("webhook"), list(objects)),
    )


def _webhook(name: str, spec: Any, objects: list[str]) -> SubscriptionPlan | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ConfigError(f"system {name!r}: options.webhook is a mapping")
    unknown = set(spec) - _WEBHOOK_KNOWN
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown webhook option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_WEBHOOK_KNOWN))}"
        )
    for required in ("notification_url", "client_state"):
        if not spec.get(required):
            raise ConfigError(f"system {name!r}: options.webhook.{required} is required")
    client_state = str(spec["client_state"])
    if len(client_state) > 2048 or len(client_state) < 16:
        raise ConfigError(
            f"system {name!r}: options.webhook.client_state must hold 16 to 2048 characters "
            "(it is the secret BC sends back with every notification)"
        )
    sets = spec.get("objects") or objects
    if not sets:
        raise ConfigError(
            f"system {name!r}: options.webhook.objects names the entity sets to subscribe to"
        )
    return SubscriptionPlan(
        notification_url=str(spec["notification_url"]),
        client_state=client_state,
        sets=tuple(str(s) for s in sets),
        renew_within=timedelta(hours=float(spec.get("renew_hours", 24))),
        check_every_seconds=float(spec.get("check_minutes", 60)) * 60,
    )
