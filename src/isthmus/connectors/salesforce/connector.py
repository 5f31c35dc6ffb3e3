"""``SalesforceConnector``: a Salesforce org (or the Salesforce sandbox) as a system.

Reads through SOQL (``reads``), writes through sObject Collections (``writes``), the
session, the API budget and error classes in ``client`` and ``errors``. Change events
shaped like Change Data Capture's (``ChangeEventHeader``) arrive as webhooks from a relay
(or the sandbox's event push) and only queue a re-read of the records they name.
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
from isthmus.connectors.salesforce import reads, writes
from isthmus.connectors.salesforce.client import SalesforceClient
from isthmus.connectors.salesforce.describe import readable_fields, to_description

TOKEN_HEADER = "x-isthmus-token"
_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_CHANGES: Mapping[str, Literal["created", "updated", "deleted", "unknown"]] = {
    "CREATE": "created",
    "UPDATE": "updated",
    "DELETE": "deleted",
    "UNDELETE": "updated",
}


class SalesforceConnector:
    def __init__(
        self,
        name: str,
        client: SalesforceClient,
        *,
        external_keys: Mapping[str, str] | None = None,
        overlap: timedelta = timedelta(0),
        webhook_secret: str | None = None,
        bulk_threshold: int = 2000,
    ) -> None:
        self.name = name
        self.client = client
        self.bulk_threshold = bulk_threshold
        self.capabilities = Capabilities(
            # With bulk on, the engine may hand over large batches: those at or above
            # the threshold go as one Bulk API job, the rest as collections of 200.
            batch_size=max(writes.COLLECTION_LIMIT, bulk_threshold * 5)
            if bulk_threshold
            else writes.COLLECTION_LIMIT,
            bulk=bulk_threshold > 0,
            upsert_by_external_id=True,
            webhooks=webhook_secret is not None,
        )
        self.external_keys = dict(external_keys or {})
        self.overlap = overlap
        self.webhook_secret = webhook_secret
        self._described: dict[str, tuple[ObjectDescription, list[str]]] = {}

    async def _object(self, object_name: str) -> tuple[ObjectDescription, list[str]]:
        if object_name not in self._described:
            answer = await self.client.call(
                "GET",
                f"{self.client.api}/sobjects/{object_name}/describe",
                what=f"describe {object_name}",
            )
            raw = answer.json()
            description = to_description(raw, self.external_keys.get(object_name))
            self._described[object_name] = (description, readable_fields(raw))
        return self._described[object_name]

    async def describe(self, object_name: str) -> ObjectDescription:
        return (await self._object(object_name))[0]

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        _, fields = await self._object(object_name)
        async for page in reads.read_changes(
            self.client, object_name, fields, cursor, page_size=page_size, overlap=self.overlap
        ):
            yield page

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        _, fields = await self._object(object_name)
        # Salesforce refuses a whole query over one malformed id; such an id exists nowhere.
        wellformed = [i for i in ids if _SF_ID.match(i)]
        found = await reads.where_in(self.client, object_name, fields, "Id", wellformed)
        by_id = {record.id: record for record in found}
        # Salesforce also answers to the 15-character form of an id.
        return {i: by_id.get(i) or by_id[i[:15]] for i in ids if i in by_id or i[:15] in by_id}

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        _, fields = await self._object(object_name)
        found = await reads.where_in(self.client, object_name, fields, field_name, list(values))
        grouped: dict[str, list[NativeRecord]] = {}
        for record in found:
            grouped.setdefault(str(record.fields.get(field_name)), []).append(record)
        return grouped

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        description, _ = await self._object(object_name)
        return await writes.write(
            self.client, object_name, ops, description.external_key, self.bulk_threshold
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Change events (``{"events": [{"event": {"replayId"}, "payload": {...}}]}``),
        accepted only with the shared secret (``x-isthmus-token`` header or ``?token=``
        in the URL the relay calls)."""
        if self.webhook_secret is None:
            raise ValueError(f"{self.name}: webhooks are off; set options.webhook_secret")
        given = {k.lower(): v for k, v in headers.items()}.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            raise ValueError(f"{self.name}: webhook token missing or wrong; refused")
        try:
            return list(_events(json.loads(body)))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{self.name}: not a change event list: {error!r}") from None

    async def close(self) -> None:
        await self.client.close()


def _events(payload: Any) -> list[WebhookEvent]:
    events = []
    for item in payload["events"]:
        header = item["payload"]["ChangeEventHeader"]
        replay = item.get("event", {}).get("replayId", header.get("transactionKey"))
        change = _CHANGES.get(str(header.get("changeType")), "unknown")
        for record_id in header.get("recordIds", []):
            if str(record_id).endswith("*"):
                continue  # a wildcard (overflow): only a poll can find what changed
            events.append(
                WebhookEvent(f"{replay}:{record_id}", str(header["entityName"]), record_id, change)
            )
    return events
