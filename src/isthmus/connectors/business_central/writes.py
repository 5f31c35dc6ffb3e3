"""Writing to Business Central: creates (deep insert), PATCH with ETags, deletes, ``$batch``.

Optimistic concurrency: every update carries ``If-Match`` with the ETag of the record as
it was read when the engine planned the change (``SeenCache``). A 412 means someone
changed the record in BC since: the record is read again and compared field by field
with what was read before. If the other writer touched none of the fields being
written, the update goes again with the fresh ETag (both edits kept). If it changed one
of them, nothing is overwritten: the record fails as a retryable value, and the next run
reads the new state and merges both edits by the flow's policy against the base.

Idempotent creates: BC has no external-id upsert. The engine's idempotency key is
written into a field chosen per entity set (``externalDocumentNumber`` on documents,
optionally ``number`` on master data), shortened deterministically to the field's length,
so after a lost answer the engine finds the create by that key instead of sending it
twice.

Volume: more than one operation goes as ``$batch`` requests of at most 100 operations,
not atomic, so one refused record fails alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from isthmus.connectors.base import NativeRecord, WriteOp, WriteResult
from isthmus.connectors.business_central.client import (
    BusinessCentralClient,
    body_of,
    reply_retry_after,
    retry_after,
)
from isthmus.connectors.business_central.errors import record_error
from isthmus.connectors.business_central.reads import Reader, is_guid, parse_stamp, to_native
from isthmus.connectors.business_central.seen import SeenCache
from isthmus.errors import RecordError

BATCH_LIMIT = 100  # operations per $batch, BC's documented maximum
KEY_LENGTHS = {"externalDocumentNumber": 35, "number": 20}
_ACCEPT = (400, 404, 409, 412, 422)


def stored_key(key: str, field_name: str) -> str:
    """The idempotency key as it fits ``field_name`` (BC codes are short and upper-case
    insensitive): as given when it fits, else its hex digits, else a stable digest."""
    length = KEY_LENGTHS.get(field_name, 250)
    if len(key) <= length:
        return key
    compact = key.replace("-", "").lower()
    if len(compact) <= length:
        return compact
    return hashlib.sha256(key.encode()).hexdigest()[:length]


@dataclass
class Outcome:
    """One operation's answer, from a plain call or from a ``$batch`` item."""

    status: int
    body: Any
    retry_after: float | None = None


class Writer:
    def __init__(self, client: BusinessCentralClient, seen: SeenCache, reader: Reader) -> None:
        self.client = client
        self.seen = seen
        self.reader = reader

    async def write(
        self, set_name: str, ops: Sequence[WriteOp], key_field: str | None
    ) -> list[WriteResult]:
        company = await self.client.company_url()
        unseen = [
            op.id
            for op in ops
            if op.kind == "update" and op.id and self.seen.get(set_name, op.id) is None
        ]
        if unseen:  # their ETags, read together (the reader remembers them)
            await self.reader.where_in(set_name, "id", [i for i in unseen if is_guid(i)])
        requests = [self._request(company, set_name, op, key_field) for op in ops]
        if len(ops) == 1:
            outcomes = [await self._single(*requests[0], what=f"{ops[0].kind} {set_name}")]
        else:
            outcomes = []
            for start in range(0, len(requests), BATCH_LIMIT):
                outcomes += await self._batch(requests[start : start + BATCH_LIMIT], set_name)
        results = []
        for op, outcome in zip(ops, outcomes, strict=True):
            if outcome.status == 412 and op.kind == "update" and op.id:
                results.append(await self._remerge(company, set_name, op))
            else:
                results.append(self._result(set_name, op, outcome))
        return results

    # -- requests -------------------------------------------------------------------------
    def _request(
        self, company: str, set_name: str, op: WriteOp, key_field: str | None
    ) -> tuple[str, str, dict[str, str], Any]:
        if op.kind in ("create", "upsert"):
            body = dict(op.fields)
            if op.external_key and key_field:
                body[key_field] = stored_key(op.external_key, key_field)
            return "POST", f"{company}/{set_name}", {}, body
        url = f"{company}/{set_name}({op.id})"
        if op.kind == "delete":
            # A delete the engine decided on goes whatever the record's version.
            return "DELETE", url, {"If-Match": "*"}, None
        seen = self.seen.get(set_name, op.id or "")
        etag = op.if_match or (seen[0] if seen else "*")
        return "PATCH", url, {"If-Match": etag}, dict(op.fields)

    async def _single(
        self, method: str, url: str, headers: dict[str, str], body: Any, *, what: str
    ) -> Outcome:
        answer = await self.client.call(
            method, url, json=body, headers=headers, accept=(*_ACCEPT, 429), what=what
        )
        if answer.status_code == 204:
            return Outcome(204, None)
        return Outcome(answer.status_code, body_of(answer), retry_after(answer))

    async def _batch(
        self, requests: list[tuple[str, str, dict[str, str], Any]], set_name: str
    ) -> list[Outcome]:
        items = []
        for index, (method, url, headers, body) in enumerate(requests):
            item: dict[str, Any] = {
                "id": str(index),
                "method": method,
                "url": url.split("/api/v2.0/", 1)[-1],
                "headers": {"Content-Type": "application/json", **headers},
            }
            if body is not None:
                item["body"] = body
            items.append(item)
        answer = await self.client.call(
            "POST",
            f"{self.client.api}/$batch",
            json={"requests": items},
            what=f"$batch of {len(items)} {set_name}",
        )
        by_id = {str(r.get("id")): r for r in answer.json().get("responses", [])}
        outcomes = []
        for index in range(len(requests)):
            reply = by_id.get(str(index))
            if reply is None:
                outcomes.append(
                    Outcome(500, {"error": {"code": "Missing", "message": "no answer"}})
                )
                continue
            outcomes.append(
                Outcome(int(reply.get("status", 500)), reply.get("body"), reply_retry_after(reply))
            )
        return outcomes

    # -- answers --------------------------------------------------------------------------
    def _result(self, set_name: str, op: WriteOp, outcome: Outcome) -> WriteResult:
        if outcome.status >= 400:
            error = record_error(outcome.status, outcome.body, outcome.retry_after)
            if op.kind == "delete" and error.kind == "not_found":
                return WriteResult(op.ref, "deleted", id=op.id)  # already gone: the goal holds
            return WriteResult(op.ref, "failed", id=op.id, error=error)
        if op.kind == "delete":
            self.seen.forget(set_name, op.id or "")
            return WriteResult(op.ref, "deleted", id=op.id)
        row = outcome.body if isinstance(outcome.body, dict) else {}
        if "id" not in row:
            return WriteResult(op.ref, "updated" if op.kind == "update" else "created", id=op.id)
        record = to_native(row)
        if row.get("@odata.etag"):
            self.seen.remember(set_name, record, str(row["@odata.etag"]))
        return WriteResult(
            op.ref,
            "created" if op.kind in ("create", "upsert") else "updated",
            id=record.id,
            modified_at=record.modified_at,
        )

    async def _read_one(self, company: str, set_name: str, record_id: str) -> dict[str, Any] | None:
        answer = await self.client.call(
            "GET",
            f"{company}/{set_name}({record_id})",
            accept=(404,),
            what=f"read {set_name}({record_id})",
        )
        if answer.status_code == 404:
            self.seen.forget(set_name, record_id)
            return None
        row: dict[str, Any] = answer.json()
        self.seen.remember(set_name, to_native(row), str(row.get("@odata.etag", "*")))
        return row

    async def _remerge(self, company: str, set_name: str, op: WriteOp) -> WriteResult:
        """A 412: the record changed in BC since it was read. Keep both edits when they
        touch different fields; never overwrite the other writer's value."""
        assert op.id is not None
        before = self.seen.get(set_name, op.id)
        read_before = before[1] if before else {}
        current = await self._read_one(company, set_name, op.id)
        if current is None:
            return WriteResult(
                op.ref,
                "failed",
                id=op.id,
                error=RecordError(
                    "not_found",
                    f"{set_name}({op.id}) was deleted in Business "
                    "Central while the update was on its way",
                ),
            )
        clashes = sorted(
            name
            for name, value in op.fields.items()
            if not _same(current.get(name), read_before.get(name))
            and not _same(current.get(name), value)
        )
        if clashes:
            # Drop the fresh read from the cache: the retry must not overwrite either.
            if before is not None:
                self.seen.remember(set_name, NativeRecord(op.id, read_before), before[0])
            return WriteResult(
                op.ref,
                "failed",
                id=op.id,
                error=RecordError(
                    "transient",
                    f"{set_name}({op.id}) was changed in Business Central after it was read "
                    f"({', '.join(clashes)} now differ); nothing was overwritten: the next "
                    "run reads it again and merges both edits by the flow's policy",
                    field=clashes[0],
                    vendor_code="Request_EntityChanged",
                    vendor_message="Another user has already changed the record.",
                    retry_after=None,
                ),
            )
        changes = {n: v for n, v in op.fields.items() if not _same(current.get(n), v)}
        if not changes:
            stamp = current.get("lastModifiedDateTime")
            return WriteResult(
                op.ref,
                "unchanged",
                id=op.id,
                modified_at=parse_stamp(stamp) if isinstance(stamp, str) else None,
            )
        etag = str(current.get("@odata.etag", "*"))
        outcome = await self._single(
            "PATCH",
            f"{company}/{set_name}({op.id})",
            {"If-Match": etag},
            changes,
            what=f"update {set_name} after a concurrent edit",
        )
        return self._result(set_name, op, outcome)


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:  # BC answers decimals as JSON numbers; the mapping may send strings or Decimals
        return a is not None and b is not None and float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b) if a is not None and b is not None else False
