"""Webhook subscriptions: created, validated, and renewed before BC's 3-day expiry.

BC calls the notification URL with ``?validationToken=…`` on create and on renew and
needs the token echoed (Isthmus's ``/webhooks/{system}`` does that). A subscription
lives three days; ``ensure`` creates what is missing and renews what expires within the
renewal margin, and the connector calls it from its polls, so a running Isthmus keeps
its subscriptions alive with no scheduler of its own. A subscription that cannot be
made (the URL unreachable from BC, say) never stops a sync: polling still finds every
change; the problem is kept for the logs and the systems page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from isthmus.connectors.business_central.client import BusinessCentralClient
from isthmus.connectors.business_central.reads import parse_stamp
from isthmus.errors import IsthmusError

log = structlog.get_logger(__name__)


@dataclass
class SubscriptionPlan:
    notification_url: str
    client_state: str
    sets: tuple[str, ...]
    renew_within: timedelta = timedelta(days=1)
    check_every_seconds: float = 3600.0


@dataclass
class SubscriptionState:
    last_check: float | None = None
    problem: str | None = None
    active: dict[str, datetime] = field(default_factory=dict)  # set -> expiry


class Subscriptions:
    def __init__(self, client: BusinessCentralClient, plan: SubscriptionPlan) -> None:
        self.client = client
        self.plan = plan
        self.state = SubscriptionState()

    def due(self) -> bool:
        last = self.state.last_check
        return last is None or time.monotonic() - last >= self.plan.check_every_seconds

    async def ensure_if_due(self) -> None:
        if not self.due():
            return
        try:
            await self.ensure()
        except IsthmusError as error:
            self.state.problem = str(error)
            log.warning("bc_subscription_problem", error=str(error))

    async def ensure(self) -> dict[str, datetime]:
        """Create the missing subscriptions and renew those close to expiry."""
        self.state.last_check = time.monotonic()
        company = await self.client.company_url()
        resource_root = "/api/v2.0/" + company.split("/api/v2.0/", 1)[1]
        answer = await self.client.call(
            "GET", f"{self.client.api}/subscriptions", what="list subscriptions"
        )
        existing: dict[str, dict[str, Any]] = {}
        for sub in answer.json().get("value", []):
            if sub.get("notificationUrl") == self.plan.notification_url:
                existing[str(sub.get("resource", "")).rsplit("/", 1)[-1]] = sub
        problems = []
        now = datetime.now(UTC)
        for set_name in self.plan.sets:
            sub = existing.get(set_name)
            try:
                if sub is None:
                    sub = await self._create(f"{resource_root}/{set_name}")
                elif parse_stamp(str(sub["expirationDateTime"])) - now < self.plan.renew_within:
                    sub = await self._renew(sub)
            except IsthmusError as error:
                problems.append(f"{set_name}: {error}")
                continue
            self.state.active[set_name] = parse_stamp(str(sub["expirationDateTime"]))
        self.state.problem = "; ".join(problems) or None
        if problems:
            raise IsthmusError(
                "Business Central webhook subscriptions failed ("
                + "; ".join(problems)
                + "); polling still finds every change. Check that BC can reach "
                f"{self.plan.notification_url} and that it echoes validationToken"
            )
        return dict(self.state.active)

    async def _create(self, resource: str) -> dict[str, Any]:
        answer = await self.client.call(
            "POST",
            f"{self.client.api}/subscriptions",
            json={
                "notificationUrl": self.plan.notification_url,
                "resource": resource,
                "clientState": self.plan.client_state,
            },
            what=f"subscribe to {resource}",
        )
        body: dict[str, Any] = answer.json()
        log.info(
            "bc_subscription_created", resource=resource, expires=body.get("expirationDateTime")
        )
        return body

    async def _renew(self, sub: dict[str, Any]) -> dict[str, Any]:
        sub_id = sub["subscriptionId"]
        answer = await self.client.call(
            "PATCH",
            f"{self.client.api}/subscriptions('{sub_id}')",
            json={
                "notificationUrl": self.plan.notification_url,
                "clientState": self.plan.client_state,
            },
            headers={"If-Match": str(sub.get("@odata.etag") or "*")},
            what=f"renew subscription {sub_id}",
        )
        body: dict[str, Any] = answer.json()
        log.info(
            "bc_subscription_renewed", subscription=sub_id, expires=body.get("expirationDateTime")
        )
        return body
