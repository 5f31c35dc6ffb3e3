"""Writing to Salesforce through sObject Collections: up to 200 records a request, one
result per record, ``allOrNone`` off so one bad record fails alone.

A batch of mixed ops is sent as runs of one kind (create, update, upsert, delete), each
run in chunks of the collection limit; results go back to the caller in op order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from isthmus.connectors.base import WriteOp, WriteResult
from isthmus.connectors.salesforce.bulk import bulk_write, can_bulk
from isthmus.connectors.salesforce.client import SalesforceClient
from isthmus.connectors.salesforce.errors import record_error
from isthmus.errors import AmbiguousWriteError, RecordError, TransientError

COLLECTION_LIMIT = 200


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # Salesforce number fields are doubles on the wire
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _record(object_name: str, op: WriteOp, external_key: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"attributes": {"type": object_name}}
    record.update({k: _json_value(v) for k, v in op.fields.items() if k != "Id"})
    if op.kind == "update":
        record["Id"] = op.id
    if op.external_key and external_key and op.kind in ("create", "upsert"):
        record[external_key] = op.external_key
    return record


def _results(ops: Sequence[WriteOp], answers: list[dict[str, Any]]) -> list[WriteResult]:
    results = []
    for op, answer in zip(ops, answers, strict=True):
        if answer.get("success"):
            if op.kind == "delete":
                outcome = "deleted"
            elif op.kind == "update" or (op.kind == "upsert" and not answer.get("created")):
                outcome = "updated"
            else:
                outcome = "created"
            results.append(WriteResult(op.ref, outcome, str(answer.get("id") or op.id)))  # type: ignore[arg-type]
            continue
        errors = answer.get("errors") or [{"statusCode": "UNKNOWN", "message": "no reason"}]
        results.append(WriteResult(op.ref, "failed", op.id, error=record_error(errors[0])))
    return results


async def _send(
    client: SalesforceClient,
    object_name: str,
    kind: str,
    ops: Sequence[WriteOp],
    external_key: str | None,
) -> list[WriteResult]:
    api, what = client.api, f"write {len(ops)} {object_name} ({kind})"
    if kind == "delete":
        answer = await client.call(
            "DELETE",
            f"{api}/composite/sobjects",
            params={"ids": ",".join(op.id or "" for op in ops), "allOrNone": "false"},
            what=what,
        )
        return _results(ops, answer.json())
    records = [_record(object_name, op, external_key) for op in ops]
    body = {"allOrNone": False, "records": records}
    if kind == "upsert":
        if not external_key:
            error = RecordError(
                "validation",
                f"{object_name} has no external key field to upsert by; set objects."
                f"{object_name}.external_key in the system's options",
            )
            return [WriteResult(op.ref, "failed", error=error) for op in ops]
        path = f"{api}/composite/sobjects/{object_name}/{external_key}"
        answer = await client.call("PATCH", path, json=body, what=what)
    elif kind == "update":
        answer = await client.call("PATCH", f"{api}/composite/sobjects", json=body, what=what)
    else:
        answer = await client.call("POST", f"{api}/composite/sobjects", json=body, what=what)
    return _results(ops, answer.json())


async def write(
    client: SalesforceClient,
    object_name: str,
    ops: Sequence[WriteOp],
    external_key: str | None,
    bulk_threshold: int = 0,
) -> list[WriteResult]:
    by_ref: dict[str, WriteResult] = {}
    for kind, run in groupby(ops, key=lambda op: op.kind):
        batch = list(run)
        if bulk_threshold and len(batch) >= bulk_threshold and can_bulk(batch, kind, external_key):
            # One job instead of len/200 calls: cheaper on the daily API budget.
            for result in await bulk_write(client, object_name, kind, batch, external_key):
                by_ref[result.ref] = result
            continue
        for start in range(0, len(batch), COLLECTION_LIMIT):
            chunk = batch[start : start + COLLECTION_LIMIT]
            try:
                results = await _send(client, object_name, kind, chunk, external_key)
            except TransientError as error:
                if by_ref and not isinstance(error, AmbiguousWriteError):
                    # Earlier requests of this batch were written: a plain retry of the
                    # batch would write them twice, so the engine must look them up.
                    raise AmbiguousWriteError(
                        f"{error}; {len(by_ref)} record(s) of the batch were already written"
                    ) from None
                raise
            for result in results:
                by_ref[result.ref] = result
    return [by_ref[op.ref] for op in ops]
