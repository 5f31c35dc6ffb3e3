"""Reading from Salesforce: the change feed, records by id, look-ups by value.

The change feed is a SOQL keyset on ``(SystemModstamp, Id)`` through ``queryAll``, so
deleted records come back as tombstones (``IsDeleted``) from the recycle bin. SOQL
compares whole seconds, so each read starts at the cursor's second (minus an optional
overlap for transactions that commit late with an older stamp) and drops what it has
already passed; with an overlap, the engine's content hashes make re-reads free.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from isthmus.connectors.base import ChangePage, Cursor, NativeRecord
from isthmus.connectors.salesforce.client import SalesforceClient
from isthmus.connectors.salesforce.soql import changes_query, in_list, parse_stamp

ID_CHUNK = 200  # ids per SOQL IN list: keeps the URL far below Salesforce's 16 KB


def to_native(row: dict[str, Any]) -> NativeRecord:
    fields = {k: v for k, v in row.items() if k != "attributes"}
    stamp = fields.get("SystemModstamp")
    return NativeRecord(
        str(fields["Id"]),
        fields,
        parse_stamp(stamp) if isinstance(stamp, str) else None,
        deleted=bool(fields.get("IsDeleted")),
    )


async def query_pages(
    client: SalesforceClient, soql: str, *, include_deleted: bool, batch_size: int = 2000
) -> AsyncIterator[list[dict[str, Any]]]:
    """Each page of a query's records, following ``nextRecordsUrl``."""
    resource = "queryAll" if include_deleted else "query"
    headers = {"Sforce-Query-Options": f"batchSize={max(200, min(batch_size, 2000))}"}
    answer = await client.call(
        "GET",
        f"{client.api}/{resource}",
        params={"q": soql},
        headers=headers,
        what=f"SOQL {soql[:80]}",
    )
    while True:
        # Numbers as Decimal: canonical money refuses floats (a price of 25.5 read as a
        # float would dead-letter every record that carries one).
        body = json.loads(answer.content, parse_float=Decimal)
        yield list(body.get("records", []))
        next_url = body.get("nextRecordsUrl")
        if body.get("done", True) or not next_url:
            return
        answer = await client.call("GET", next_url, headers=headers, what="next query page")


async def read_changes(
    client: SalesforceClient,
    object_name: str,
    fields: Sequence[str],
    cursor: Cursor | None,
    *,
    page_size: int,
    overlap: timedelta,
) -> AsyncIterator[ChangePage]:
    since = datetime.fromisoformat(cursor["ts"]) if cursor else None
    after: tuple[datetime, str] | None = (since, cursor["id"]) if cursor and since else None
    soql = changes_query(object_name, fields, since, overlap)
    last = cursor or {}
    async for rows in query_pages(
        client, soql, include_deleted=cursor is not None, batch_size=page_size
    ):
        records = [to_native(row) for row in rows]
        if after is not None and not overlap:
            # Within the cursor's second, keep only what comes after it in key order.
            records = [r for r in records if r.modified_at is None or (r.modified_at, r.id) > after]
        # Salesforce pages hold 200 to 2,000 records; the engine asked for page_size.
        for start in range(0, max(len(records), 1), page_size):
            chunk = records[start : start + page_size]
            if chunk and chunk[-1].modified_at is not None:
                last = {"ts": chunk[-1].modified_at.isoformat(), "id": chunk[-1].id}
            yield ChangePage(chunk, last, full=cursor is None)


async def where_in(
    client: SalesforceClient,
    object_name: str,
    fields: Sequence[str],
    field_name: str,
    values: Sequence[str],
) -> list[NativeRecord]:
    found: list[NativeRecord] = []
    for start in range(0, len(values), ID_CHUNK):
        chunk = values[start : start + ID_CHUNK]
        soql = (
            f"SELECT {', '.join(fields)} FROM {object_name} WHERE {field_name} IN {in_list(chunk)}"
        )
        async for rows in query_pages(client, soql, include_deleted=False):
            found.extend(to_native(row) for row in rows)
    return found
