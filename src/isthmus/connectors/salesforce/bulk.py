"""Bulk API 2.0 ingest: large writes in one CSV job instead of a call per 200 records.

A job is created, its CSV uploaded, closed with ``UploadComplete`` (nothing happens
before), and polled until ``JobComplete``. Salesforce does not keep the rows' order in
its result files, so each row carries a key the results echo back: the record's ``Id``
for updates and deletes, its external key (the canonical id) for inserts and upserts.
Once the job exists, any failure is ambiguous: some rows may be written, so the engine
looks the records up by their keys instead of sending them again.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from isthmus.connectors.base import WriteOp, WriteResult
from isthmus.connectors.salesforce.client import SalesforceClient
from isthmus.connectors.salesforce.errors import record_error
from isthmus.errors import AmbiguousWriteError, IsthmusError, RecordError

OPERATIONS = {"create": "insert", "update": "update", "upsert": "upsert", "delete": "delete"}
NULL = "#N/A"  # Bulk API's way to set a field to null (an empty cell leaves it alone)
POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
MAX_WAIT_SECONDS = 1800


def key_column(kind: str, external_key: str | None) -> str | None:
    if kind in ("update", "delete"):
        return "Id"
    return external_key


def can_bulk(ops: Sequence[WriteOp], kind: str, external_key: str | None) -> bool:
    """Every row must carry the key its result is matched by."""
    if kind in ("update", "delete"):
        return all(op.id for op in ops)
    return external_key is not None and all(op.external_key for op in ops)


def _cell(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_csv(ops: Sequence[WriteOp], kind: str, external_key: str | None) -> tuple[str, bytes]:
    key = key_column(kind, external_key) or "Id"
    columns = [key]
    if kind != "delete":
        for op in ops:
            columns.extend(name for name in op.fields if name not in columns and name != "Id")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for op in ops:
        row = {**op.fields, "Id": op.id}
        if key == external_key:
            row[key] = op.external_key
        writer.writerow([_cell(row.get(column)) for column in columns])
    return key, out.getvalue().encode()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _bulk_error(text: str) -> RecordError:
    """``CODE:message:field1,field2 --`` as Salesforce writes ``sf__Error``."""
    code, _, rest = text.partition(":")
    message, _, fields = rest.rpartition(":")
    field_names = [f for f in fields.replace("--", "").strip().split(",") if f]
    return record_error(
        {"statusCode": code.strip(), "message": message.strip() or text, "fields": field_names}
    )


async def _wait(client: SalesforceClient, path: str) -> dict[str, Any]:
    waited = 0.0
    for attempt in range(10_000):
        info: dict[str, Any] = (await client.call("GET", path, what="bulk job state")).json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        pause = POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)]
        if waited > MAX_WAIT_SECONDS:
            break
        await asyncio.sleep(pause)
        waited += pause
    raise AmbiguousWriteError(f"bulk job {path} did not finish in {MAX_WAIT_SECONDS} s")


async def bulk_write(
    client: SalesforceClient,
    object_name: str,
    kind: str,
    ops: Sequence[WriteOp],
    external_key: str | None,
) -> list[WriteResult]:
    key, data = to_csv(ops, kind, external_key)
    spec: dict[str, Any] = {"object": object_name, "operation": OPERATIONS[kind]}
    if kind == "upsert":
        spec["externalIdFieldName"] = external_key
    base = f"{client.api}/jobs/ingest"
    job = (await client.call("POST", base, json=spec, what="create bulk job")).json()
    path = f"{base}/{job['id']}"
    try:
        await client.call(
            "PUT",
            f"{path}/batches",
            content=data,
            headers={"Content-Type": "text/csv"},
            what=f"upload {len(ops)} {object_name} rows",
        )
        await client.call("PATCH", path, json={"state": "UploadComplete"}, what="close job")
        info = await _wait(client, path)
        answers = {
            name: _rows((await client.call("GET", f"{path}/{name}", what=name)).text)
            for name in ("successfulResults", "failedResults", "unprocessedrecords")
        }
    except IsthmusError as error:
        raise AmbiguousWriteError(f"bulk job {job['id']}: {error}") from None
    return _results(ops, key, external_key, info, answers)


def _results(
    ops: Sequence[WriteOp],
    key: str,
    external_key: str | None,
    info: dict[str, Any],
    answers: dict[str, list[dict[str, str]]],
) -> list[WriteResult]:
    done = {row.get(key, ""): row for row in answers["successfulResults"]}
    failed = {row.get(key, ""): row for row in answers["failedResults"]}
    results = []
    for op in ops:
        handle = (op.external_key if key == external_key else op.id) or ""
        if handle in done:
            row = done[handle]
            created = row.get("sf__Created", "").lower() == "true"
            outcome = "deleted" if op.kind == "delete" else "created" if created else "updated"
            results.append(WriteResult(op.ref, outcome, row.get("sf__Id") or op.id))  # type: ignore[arg-type]
        elif handle in failed:
            error = _bulk_error(failed[handle].get("sf__Error", "UNKNOWN_EXCEPTION:no reason:"))
            results.append(WriteResult(op.ref, "failed", op.id, error=error))
        else:
            reason = f"not processed: the bulk job ended {info.get('state')}; retried"
            results.append(
                WriteResult(op.ref, "failed", op.id, error=RecordError("transient", reason))
            )
    return results
