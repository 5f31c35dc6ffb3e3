"""Webhook subscriptions: validation handshake, 3-day expiry, delayed and batched delivery.

Changes are collected per subscription and sent after ``webhook_delay_seconds``; more than
``webhook_collection_threshold`` changes in one window become one ``collection``
notification. A delivery answered with 408, 429 or 5xx is retried for the retry window;
any other failure deletes the subscription, as Business Central does. A line change
notifies its document's entity set.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.business_central.documents import BusinessRuleError
from isthmus.sandbox.business_central.entities import SPECS
from isthmus.sandbox.business_central.store import now_iso

RESOURCE = re.compile(r"^/?api/v2\.0/companies\(([0-9a-fA-F-]{36})\)/(\w+)$")
HEADER_OF_LINES = {spec.lines_set: spec.set_name for spec in SPECS if spec.lines_set}
RETRYABLE = frozenset({408, 429})


@dataclass
class Subscription:
    subscription_id: str
    notification_url: str
    resource: str
    client_state: str
    company_id: str
    set_name: str
    expires: datetime
    pending: list[dict[str, Any]] = field(default_factory=list)
    window_started: float | None = None
    first_failure: float | None = None
    next_attempt: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "subscriptionId": self.subscription_id,
            "notificationUrl": self.notification_url,
            "resource": self.resource,
            "clientState": self.client_state,
            "expirationDateTime": _iso(self.expires),
            "systemCreatedAt": None,
            "lastModifiedDateTime": now_iso(),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class WebhookHub:
    """Subscriptions, their pending changes and the thread that delivers them."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self.subscriptions: dict[str, Subscription] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- management (called from request handlers) --------------------------------------
    def create(self, body: dict[str, Any]) -> Subscription:
        url, resource = body.get("notificationUrl"), body.get("resource")
        client_state = str(body.get("clientState") or "")
        if not isinstance(url, str) or not isinstance(resource, str):
            raise BusinessRuleError(
                "BadRequest", "A subscription needs notificationUrl and resource."
            )
        if len(client_state) > 2048:
            raise BusinessRuleError("BadRequest", "clientState may hold at most 2048 characters.")
        match = RESOURCE.match(resource)
        if match is None:
            raise BusinessRuleError(
                "BadRequest",
                f"resource {resource!r} must look like /api/v2.0/companies(<id>)/<entitySet>.",
            )
        self._handshake(url)
        sub = Subscription(
            secrets.token_hex(16),
            url,
            resource,
            client_state,
            match.group(1).lower(),
            match.group(2),
            self._expiry(),
        )
        with self._lock:
            self.subscriptions[sub.subscription_id] = sub
        return sub

    def renew(self, subscription_id: str, body: dict[str, Any]) -> Subscription:
        sub = self.get(subscription_id)
        self._handshake(body.get("notificationUrl") or sub.notification_url)
        sub.notification_url = body.get("notificationUrl") or sub.notification_url
        sub.client_state = str(body.get("clientState") or sub.client_state)
        sub.expires = self._expiry()
        return sub

    def get(self, subscription_id: str) -> Subscription:
        sub = self.subscriptions.get(subscription_id)
        if sub is None or sub.expires < datetime.now(UTC):
            raise BusinessRuleError(
                "Internal_RecordNotFound", f"No subscription {subscription_id!r}."
            )
        return sub

    def delete(self, subscription_id: str) -> None:
        self.get(subscription_id)
        with self._lock:
            self.subscriptions.pop(subscription_id, None)

    def _expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._config.subscription_lifetime_seconds)

    def _handshake(self, url: str) -> None:
        token = secrets.token_urlsafe(16)
        try:
            reply = httpx.post(url, params={"validationToken": token}, timeout=5.0)
        except httpx.HTTPError as exc:
            raise BusinessRuleError(
                "Internal_SubscriptionValidation",
                f"The notification URL could not be reached: {exc}.",
            ) from exc
        if reply.status_code != 200 or reply.text.strip() != token:
            raise BusinessRuleError(
                "Internal_SubscriptionValidation",
                f"The notification URL answered {reply.status_code} without echoing the "
                "validationToken; reply 200 with the token as the body.",
            )

    # -- change capture (called by the store) -------------------------------------------
    def record_change(
        self, company_id: str, set_name: str, record: dict[str, Any], change: str
    ) -> None:
        target = HEADER_OF_LINES.get(set_name, set_name)
        record_id = str(record["id"])
        if target != set_name:
            # A line change is reported as an update of its document, as BC does.
            change, record_id = "updated", str(record["documentId"])
        with self._lock:
            for sub in self.subscriptions.values():
                if sub.company_id != company_id or sub.set_name != target:
                    continue
                if sub.window_started is None:
                    sub.window_started = time.monotonic()
                resource = sub.resource + (f"({record_id})" if record_id else "")
                sub.pending.append(
                    {
                        "subscriptionId": sub.subscription_id,
                        "clientState": sub.client_state,
                        "expirationDateTime": _iso(sub.expires),
                        "resource": resource,
                        "changeType": change,
                        "lastModifiedDateTime": now_iso(),
                    }
                )

    # -- delivery ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bc-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        tick = min(0.5, max(self._config.webhook_delay_seconds / 5, 0.01))
        with httpx.Client(timeout=10.0) as client:
            while not self._stop.wait(tick):
                self.deliver_due(client)

    def deliver_due(self, client: httpx.Client) -> None:
        now = time.monotonic()
        with self._lock:
            due = [
                s
                for s in self.subscriptions.values()
                if s.window_started is not None
                and s.pending
                and now - s.window_started >= self._config.webhook_delay_seconds
                and now >= s.next_attempt
            ]
        for sub in due:
            self._deliver(client, sub, now)

    def _deliver(self, client: httpx.Client, sub: Subscription, now: float) -> None:
        with self._lock:
            batch = list(sub.pending)
        payload = batch
        if len(batch) > self._config.webhook_collection_threshold:
            since = batch[0]["lastModifiedDateTime"]
            payload = [
                {
                    **batch[-1],
                    "changeType": "collection",
                    "resource": f"{sub.resource}?$filter=lastModifiedDateTime gt {since}",
                }
            ]
        try:
            status = client.post(sub.notification_url, json={"value": payload}).status_code
        except httpx.HTTPError:
            status = 503  # unreachable counts as a transient failure
        with self._lock:
            if 200 <= status < 300:
                del sub.pending[: len(batch)]
                sub.window_started = time.monotonic() if sub.pending else None
                sub.first_failure = None
                return
            retryable = status in RETRYABLE or status >= 500
            sub.first_failure = sub.first_failure or now
            if not retryable or now - sub.first_failure > self._config.webhook_retry_window_seconds:
                self.subscriptions.pop(sub.subscription_id, None)
            else:
                sub.next_attempt = now + self._config.webhook_retry_seconds
