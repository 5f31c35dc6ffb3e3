"""``BusinessCentralConnector``: a Dynamics 365 Business Central company as a system.

Reads through the OData change feed (``reads``), writes through single calls or
``$batch`` with ETags (``writes``), tokens and errors in ``client`` and ``errors``,
webhook subscriptions kept alive in ``subscriptions``. Entity sets are the objects:
``customers``, ``contacts``, ``items``, ``salesOrders`` … as in BC's API v2.0.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

from isthmus.connectors.base import (
    Capabilities,
    ChangePage,
    Cursor,
    NativeRecord,
    ObjectDescription,
    WebhookEvent,
    WriteOp,
    WriteResult,
)
from isthmus.connectors.business_central.client import BusinessCentralClient, body_of
from isthmus.connectors.business_central.describe import (
    DEFAULT_KEYS,
    LINES,
    Properties,
    entity_types,
    to_description,
)
from isthmus.connectors.business_central.errors import record_error
from isthmus.connectors.business_central.reads import Reader, is_guid
from isthmus.connectors.business_central.seen import SeenCache
from isthmus.connectors.business_central.subscriptions import SubscriptionPlan, Subscriptions
from isthmus.connectors.business_central.writes import BATCH_LIMIT, Writer, stored_key
from isthmus.errors import IsthmusError, RecordError

_RESOURCE = re.compile(r"/companies\(([^)]*)\)/([A-Za-z]+)(?:\(([^)]*)\))?")
_CHANGES: Mapping[str, Literal["created", "updated", "deleted", "unknown"]] = {
    "created": "created",
    "updated": "updated",
    "deleted": "deleted",
    "collection": "unknown",
}


class BusinessCentralConnector:
    def __init__(
        self,
        name: str,
        client: BusinessCentralClient,
        *,
        external_keys: Mapping[str, str | None] | None = None,
        overlap: timedelta = timedelta(seconds=1),
        subscriptions: SubscriptionPlan | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.capabilities = Capabilities(
            batch_size=BATCH_LIMIT,
            bulk=True,
            upsert_by_external_id=False,
            webhooks=subscriptions is not None,
            delete_feed=False,  # BC's feed has no deletes: webhooks and reconciliation
        )
        self.external_keys: dict[str, str | None] = {**DEFAULT_KEYS, **(external_keys or {})}
        self.overlap = overlap
        self.seen = SeenCache()
        self.reader = Reader(client, self.seen, expand=dict(LINES))
        self.writer = Writer(client, self.seen, self.reader)
        self.subscriptions = Subscriptions(client, subscriptions) if subscriptions else None
        self._metadata: dict[str, Properties] | None = None
        self._described: dict[str, ObjectDescription] = {}

    async def describe(self, object_name: str) -> ObjectDescription:
        if object_name not in self._described:
            if self._metadata is None:
                answer = await self.client.call(
                    "GET", f"{self.client.api}/$metadata", what="read $metadata"
                )
                self._metadata = entity_types(answer.text)
            properties = self._metadata.get(object_name)
            if properties is None:
                known = ", ".join(sorted(self._metadata))
                raise IsthmusError(
                    f"{self.name}: Business Central has no entity set {object_name!r}; "
                    f"entity sets: {known}"
                )
            key = self.external_keys.get(object_name)
            if key and key not in {prop[0] for prop in properties}:
                raise IsthmusError(
                    f"{self.name}: objects.{object_name}.external_key names {key!r}, which "
                    f"{object_name} does not have"
                )
            self._described[object_name] = to_description(object_name, properties, key)
        return self._described[object_name]

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        if self.subscriptions is not None:
            await self.subscriptions.ensure_if_due()
        async for page in self.reader.read_changes(
            object_name, cursor, page_size=page_size, overlap=self.overlap
        ):
            yield page

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        # BC refuses a whole filter over one malformed GUID; such an id exists nowhere.
        wellformed = [i for i in ids if is_guid(i)]
        found = await self.reader.where_in(object_name, "id", wellformed)
        by_id = {record.id.lower(): record for record in found}
        return {i: by_id[i.lower()] for i in ids if i.lower() in by_id}

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        description = await self.describe(object_name)
        # The idempotency key is stored shortened to its field: look up that form.
        is_key = field_name == description.external_key
        sent = {stored_key(v, field_name) if is_key else v: v for v in values}
        found = await self.reader.where_in(object_name, field_name, list(sent))
        grouped: dict[str, list[NativeRecord]] = {}
        for record in found:
            value = str(record.fields.get(field_name))
            grouped.setdefault(sent.get(value, value), []).append(record)
        return grouped

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        description = await self.describe(object_name)
        return await self.writer.write(object_name, ops, description.external_key)

    async def invoke(self, object_name: str, record_id: str, action: str) -> RecordError | None:
        """Run a bound action (``makeOrder``, ``shipAndInvoice``, ``post``,
        ``makeCorrectiveCreditMemo``); a refusal comes back as the ERP's business error."""
        company = await self.client.company_url()
        answer = await self.client.call(
            "POST",
            f"{company}/{object_name}({record_id})/Microsoft.NAV.{action}",
            accept=(400, 404, 409, 412),
            what=f"{object_name}({record_id}) {action}",
        )
        if answer.status_code < 400:
            self.seen.forget(object_name, record_id)
            return None
        return record_error(answer.status_code, body_of(answer))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """BC's notifications (``{"value": [{subscriptionId, clientState, resource,
        changeType, lastModifiedDateTime}]}``), accepted only with our clientState."""
        if self.subscriptions is None:
            raise ValueError(f"{self.name}: webhooks are off; set options.webhook")
        try:
            items = json.loads(body)["value"]
            if not isinstance(items, list):
                raise TypeError("value is not a list")
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{self.name}: not a Business Central notification: {error!r}"
            ) from None
        expected = self.subscriptions.plan.client_state.encode()
        events = []
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"{self.name}: a notification item is not an object")
            given = str(item.get("clientState", "")).encode()
            if not hmac.compare_digest(given, expected):
                raise ValueError(f"{self.name}: clientState missing or wrong; refused")
            events.append(_event(item))
        return events

    async def close(self) -> None:
        await self.client.close()


def _event(item: dict[str, Any]) -> WebhookEvent:
    resource = str(item.get("resource", ""))
    match = _RESOURCE.search(resource)
    if match is None:
        raise ValueError(f"cannot read the notification's resource {resource[:200]!r}")
    _, set_name, record_id = match.groups()
    change = _CHANGES.get(str(item.get("changeType")), "unknown")
    record_id = record_id.strip("'") if record_id else None
    if change == "unknown":
        record_id = None  # a collection notification: only a poll finds what changed
    stamp = item.get("lastModifiedDateTime", "")
    return WebhookEvent(
        f"{item.get('subscriptionId')}:{resource}:{change}:{stamp}", set_name, record_id, change
    )
