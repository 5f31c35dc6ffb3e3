"""Reading from Business Central: the change feed, records by id, look-ups by value.

The change feed is ``$filter=lastModifiedDateTime ge T`` ordered by
``lastModifiedDateTime, id``, paged by the server's ``@odata.nextLink``. BC stamps
records to the millisecond, and several records can share one stamp, so the cursor is
``(stamp, id)``: a read starts at the cursor's stamp and drops what sorts at or before
the cursor. An optional overlap re-reads a few seconds before the cursor for
transactions that commit late with an older stamp; the engine's content hashes make
those re-reads free. BC's feed has no deletes: they come from webhook ``deleted``
notifications and from reconciliation.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from isthmus.connectors.base import ChangePage, Cursor, NativeRecord
from isthmus.connectors.business_central.client import BusinessCentralClient, reply_retry_after
from isthmus.connectors.business_central.errors import classify_call
from isthmus.connectors.business_central.seen import SeenCache

STAMP = "lastModifiedDateTime"
# Ids per ``$filter`` of or-ed equalities: keeps the URL well under BC's limits.
FILTER_CHUNK = 15
BATCH_GETS = 100  # requests per $batch, BC's limit
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def parse_stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_stamp(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_native(row: dict[str, Any]) -> NativeRecord:
    fields = {k: v for k, v in row.items() if not k.startswith("@odata.")}
    stamp = fields.get(STAMP)
    return NativeRecord(
        str(fields["id"]), fields, parse_stamp(stamp) if isinstance(stamp, str) else None
    )


def literal(value: Any) -> str:
    """An OData literal: GUIDs bare, numbers as they are, strings quoted with '' escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if is_guid(text):
        return text
    return "'" + text.replace("'", "''") + "'"


class Reader:
    """Reads of one entity set; remembers each record's ETag and fields as last read, for
    the writes' optimistic concurrency (see ``writes``)."""

    def __init__(
        self,
        client: BusinessCentralClient,
        seen: SeenCache,
        *,
        expand: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.seen = seen
        self.expand = expand or {}

    def _params(self, set_name: str) -> dict[str, str]:
        lines = self.expand.get(set_name)
        return {"$expand": lines} if lines else {}

    async def pages(
        self, set_name: str, params: dict[str, str], *, page_size: int, what: str
    ) -> AsyncIterator[list[NativeRecord]]:
        """Each server page of a query, following ``@odata.nextLink``."""
        url: str | None = f"{await self.client.company_url()}/{set_name}"
        query: dict[str, str] | None = {**self._params(set_name), **params}
        headers = {"Prefer": f"odata.maxpagesize={page_size}"}
        while url:
            answer = await self.client.call("GET", url, params=query, headers=headers, what=what)
            body = answer.json()
            yield self._natives(set_name, body)
            url, query = body.get("@odata.nextLink"), None  # the link carries the query

    def _natives(self, set_name: str, body: dict[str, Any]) -> list[NativeRecord]:
        """The records of a collection answer, each remembered with its ETag."""
        records = []
        for row in body.get("value", []):
            if not isinstance(row, dict):
                continue
            record = to_native(row)
            if row.get("@odata.etag"):
                self.seen.remember(set_name, record, str(row["@odata.etag"]))
            records.append(record)
        return records

    async def read_changes(
        self, set_name: str, cursor: Cursor | None, *, page_size: int, overlap: timedelta
    ) -> AsyncIterator[ChangePage]:
        params = {"$orderby": f"{STAMP},id"}
        after: tuple[datetime, str] | None = None
        if cursor:
            since = parse_stamp(cursor["ts"])
            after = (since, str(cursor["id"]))
            params["$filter"] = f"{STAMP} ge {format_stamp(since - overlap)}"
        last: Cursor = dict(cursor or {})
        emitted = False
        async for records in self.pages(
            set_name, params, page_size=page_size, what=f"changes of {set_name}"
        ):
            if after is not None and not overlap:
                records = [r for r in records if r.modified_at is None or _key(r) > after]
            for start in range(0, len(records), page_size):
                chunk = records[start : start + page_size]
                stamped = [r for r in chunk if r.modified_at is not None]
                if stamped and (not last or _key(stamped[-1]) > _cursor_key(last)):
                    last = {"ts": format_stamp(_stamp(stamped[-1])), "id": stamped[-1].id}
                emitted = True
                yield ChangePage(chunk, last, full=cursor is None)
        if not emitted:
            yield ChangePage([], last, full=cursor is None)

    async def where_in(
        self, set_name: str, field_name: str, values: Sequence[Any]
    ) -> list[NativeRecord]:
        """Records whose ``field_name`` is one of ``values``. Filters of 15 values go
        together in ``$batch`` requests of up to 100, so 1,500 ids cost one call."""
        filters = [
            " or ".join(f"{field_name} eq {literal(v)}" for v in values[i : i + FILTER_CHUNK])
            for i in range(0, len(values), FILTER_CHUNK)
        ]
        if len(filters) <= 1:
            found: list[NativeRecord] = []
            for clause in filters:
                async for records in self.pages(
                    set_name, {"$filter": clause}, page_size=1000, what=f"look up {set_name}"
                ):
                    found.extend(records)
            return found
        found = []
        for start in range(0, len(filters), BATCH_GETS):
            found += await self._batched(set_name, filters[start : start + BATCH_GETS])
        return found

    async def _batched(self, set_name: str, filters: list[str]) -> list[NativeRecord]:
        company = (await self.client.company_url()).split("/api/v2.0/", 1)[1]
        expand = self._params(set_name).get("$expand")
        requests = []
        for index, clause in enumerate(filters):
            query = urlencode({"$filter": clause, **({"$expand": expand} if expand else {})})
            requests.append(
                {"id": str(index), "method": "GET", "url": f"{company}/{set_name}?{query}"}
            )
        answer = await self.client.call(
            "POST",
            f"{self.client.api}/$batch",
            json={"requests": requests},
            read_only=True,
            what=f"look up {set_name} ($batch of {len(requests)})",
        )
        found: list[NativeRecord] = []
        for reply in answer.json().get("responses", []):
            status = int(reply.get("status", 500))
            body = reply.get("body") or {}
            if status >= 400:
                raise classify_call(status, body, reply_retry_after(reply), f"look up {set_name}")
            found += self._natives(set_name, body)
            next_link = body.get("@odata.nextLink")
            while next_link:  # more matches than a page: rare for look-ups, followed plainly
                page = await self.client.call("GET", next_link, what=f"look up {set_name}")
                more = page.json()
                found += self._natives(set_name, more)
                next_link = more.get("@odata.nextLink")
        return found


def _stamp(record: NativeRecord) -> datetime:
    assert record.modified_at is not None
    return record.modified_at


def _key(record: NativeRecord) -> tuple[datetime, str]:
    return _stamp(record), record.id.lower()


def _cursor_key(cursor: Cursor) -> tuple[datetime, str]:
    return parse_stamp(cursor["ts"]), str(cursor["id"]).lower()
