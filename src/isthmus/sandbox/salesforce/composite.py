"""sObject Collections (``/composite/sobjects``) and Composite (``/composite``).

Collections create, update, upsert, delete or retrieve up to 200 records in one call and
answer one result per record, in order. Each record runs in its own savepoint, so a
failing record leaves nothing behind; with ``allOrNone`` any failure rolls back the whole
call and every other record reports ``ALL_OR_NONE_OPERATION_ROLLED_BACK``. The fault
injector's ``partial_failure_rate`` fails single records here.

Composite runs up to 25 subrequests through the same routes, in one transaction, with
``@{referenceId.path}`` references to earlier answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from isthmus.sandbox.salesforce.errors import SalesforceApiError, injected_item_failure
from isthmus.sandbox.salesforce.rest_records import render_fields
from isthmus.sandbox.salesforce.state import (
    SandboxState,
    SessionDep,
    check_version,
    json_object,
    sandbox,
)
from isthmus.sandbox.salesforce.writes import ROLLED_BACK, upsert

router = APIRouter()
MAX_COLLECTION_RECORDS = 200
MAX_TYPE_CHUNKS = 10
MAX_SUBREQUESTS = 25
_BASE = "/services/data/v{version}/composite"
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")

Operation = Callable[[], dict[str, Any]]


def _records_of(body: dict[str, Any]) -> list[Any]:
    records = body.get("records")
    if not isinstance(records, list):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Send {'records': [...]} (a list).")
    if len(records) > MAX_COLLECTION_RECORDS:
        raise SalesforceApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COLLECTION_RECORDS} records "
            "into this call",
        )
    types = [r.get("attributes", {}).get("type") if isinstance(r, dict) else None for r in records]
    chunks = sum(1 for i, t in enumerate(types) if i == 0 or t != types[i - 1])
    if chunks > MAX_TYPE_CHUNKS:
        raise SalesforceApiError(
            400,
            "INVALID_BATCH_REQUEST",
            f"Records switch object type {chunks} times; at most {MAX_TYPE_CHUNKS} chunks "
            "are allowed. Sort the records by type.",
        )
    return records


def _type_of(record: Any) -> str:
    kind = record.get("attributes", {}).get("type") if isinstance(record, dict) else None
    if not isinstance(kind, str) or not kind:
        raise SalesforceApiError(
            400, "INVALID_TYPE", "Each record needs attributes.type naming its sObject."
        )
    return kind


def _run_all(
    state: SandboxState, operations: list[Operation], all_or_none: bool
) -> list[dict[str, Any]]:
    """Run each operation in its own savepoint; roll all back if asked and one failed."""
    results: list[dict[str, Any] | SalesforceApiError] = []
    with state.store.atomic() as whole:
        for operation in operations:
            try:
                with state.store.atomic():
                    if state.injector.item_fails():
                        raise injected_item_failure()
                    results.append(operation())
            except SalesforceApiError as error:
                results.append(error)
        failed = any(isinstance(r, SalesforceApiError) for r in results)
        if all_or_none and failed:
            whole.rollback()
            results = [r if isinstance(r, SalesforceApiError) else ROLLED_BACK for r in results]
    return [
        {"success": False, "errors": [r.record_error()]} if isinstance(r, SalesforceApiError) else r
        for r in results
    ]


def _ok(record_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": record_id, "success": True, "errors": [], **extra}


@router.post(_BASE + "/sobjects")
async def create_collection(request: Request, version: str, session: SessionDep) -> Any:
    check_version(version)
    state, body = sandbox(request), await json_object(request)

    def create(record: Any) -> Operation:
        def run() -> dict[str, Any]:
            kind = _type_of(record)
            if any(key.lower() == "id" for key in record):
                raise SalesforceApiError(
                    400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                )
            created = state.store.create(kind, record, user_id=session.user_id)
            return _ok(created["Id"])

        return run

    operations = [create(r) for r in _records_of(body)]
    return _run_all(state, operations, bool(body.get("allOrNone", False)))


@router.patch(_BASE + "/sobjects")
async def update_collection(request: Request, version: str, session: SessionDep) -> Any:
    check_version(version)
    state, body = sandbox(request), await json_object(request)

    def update(record: Any) -> Operation:
        def run() -> dict[str, Any]:
            kind = _type_of(record)
            fields = {k: v for k, v in record.items() if k.lower() != "id"}
            record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
            if not isinstance(record_id, str):
                raise SalesforceApiError(
                    400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]
                )
            updated = state.store.update(kind, record_id, fields, user_id=session.user_id)
            return _ok(updated["Id"])

        return run

    operations = [update(r) for r in _records_of(body)]
    return _run_all(state, operations, bool(body.get("allOrNone", False)))


@router.delete(_BASE + "/sobjects")
async def delete_collection(request: Request, version: str, session: SessionDep) -> Any:
    check_version(version)
    state = sandbox(request)
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    if not ids or len(ids) > MAX_COLLECTION_RECORDS:
        raise SalesforceApiError(
            400, "EXCEEDED_ID_LIMIT", f"Send 1 to {MAX_COLLECTION_RECORDS} ids in ?ids=a,b,c"
        )
    all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"

    def delete(record_id: str) -> Operation:
        def run() -> dict[str, Any]:
            state.store.delete(None, record_id, user_id=session.user_id)
            found = state.store.get(record_id)
            return _ok(found[1]["Id"] if found else record_id)

        return run

    results = _run_all(state, [delete(i) for i in ids], all_or_none)
    for record_id, result in zip(ids, results, strict=True):
        result.setdefault("id", record_id)
    return results


@router.get(_BASE + "/sobjects/{object_name}")
async def retrieve_collection(
    request: Request, version: str, object_name: str, session: SessionDep
) -> Any:
    check_version(version)
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    fields = [f for f in request.query_params.get("fields", "").split(",") if f]
    return _retrieve(sandbox(request), version, object_name, ids, fields)


@router.post(_BASE + "/sobjects/{object_name}")
async def retrieve_collection_by_post(
    request: Request, version: str, object_name: str, session: SessionDep
) -> Any:
    check_version(version)
    body = await json_object(request)
    return _retrieve(
        sandbox(request), version, object_name, list(body.get("ids", [])), body.get("fields", [])
    )


def _retrieve(
    state: SandboxState, version: str, object_name: str, ids: list[str], fields: list[str]
) -> list[dict[str, Any] | None]:
    obj = state.store.object_def(object_name)
    if not ids or not fields:
        raise SalesforceApiError(400, "MISSING_ARGUMENT", "Both ids and fields are required.")
    if len(ids) > 2000:
        raise SalesforceApiError(400, "EXCEEDED_ID_LIMIT", "Retrieve at most 2000 ids per call.")
    answer: list[dict[str, Any] | None] = []
    for record_id in ids:
        found = state.store.get(record_id)
        if found is None or found[0].name != obj.name or found[1]["IsDeleted"]:
            answer.append(None)
        else:
            answer.append(render_fields(obj, found[1], version, fields))
    return answer


@router.patch(_BASE + "/sobjects/{object_name}/{field_name}")
async def upsert_collection(
    request: Request, version: str, object_name: str, field_name: str, session: SessionDep
) -> Any:
    check_version(version)
    state, body = sandbox(request), await json_object(request)
    obj = state.store.object_def(object_name)

    def upsert_one(record: Any) -> Operation:
        def run() -> dict[str, Any]:
            if _type_of(record).lower() != obj.name.lower():
                raise SalesforceApiError(
                    400, "INVALID_TYPE", f"Every record must be a {obj.name} in this call."
                )
            value = next((v for k, v in record.items() if k.lower() == field_name.lower()), None)
            outcome = upsert(
                state.store,
                obj,
                field_name,
                value,
                record,
                version=version,
                user_id=session.user_id,
            )
            return _ok(outcome.record["Id"], created=outcome.created)

        return run

    operations = [upsert_one(r) for r in _records_of(body)]
    return _run_all(state, operations, bool(body.get("allOrNone", False)))


@router.post(_BASE)
async def composite(request: Request, version: str, session: SessionDep) -> JSONResponse:
    check_version(version)
    state, body = sandbox(request), await json_object(request)
    subrequests = body.get("compositeRequest")
    if not isinstance(subrequests, list) or not subrequests:
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Send a compositeRequest list.")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise SalesforceApiError(
            400,
            "INVALID_BATCH_REQUEST",
            f"A composite request may hold at most {MAX_SUBREQUESTS} subrequests.",
        )
    all_or_none = bool(body.get("allOrNone", False))
    answers: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    transport = httpx.ASGITransport(app=state.subrequest_app)
    headers = {"Authorization": request.headers.get("authorization", "")}
    async with httpx.AsyncClient(transport=transport, base_url="http://composite") as client:
        with state.store.atomic() as whole:
            for sub in subrequests:
                result = await _run_subrequest(client, headers, sub, answers)
                results.append(result)
                if all_or_none and result["httpStatusCode"] >= 400:
                    whole.rollback()
                    break
    if all_or_none and any(r["httpStatusCode"] >= 400 for r in results):
        results = _halted(subrequests, results)
    return JSONResponse({"compositeResponse": results})


async def _run_subrequest(
    client: httpx.AsyncClient, headers: dict[str, str], sub: Any, answers: dict[str, Any]
) -> dict[str, Any]:
    """Run one subrequest through the routes; remember its answer under its referenceId."""
    reference_id = str(sub.get("referenceId", "")) if isinstance(sub, dict) else ""
    try:
        if not isinstance(sub, dict) or not sub.get("url") or not sub.get("method"):
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", "Each subrequest needs method and url."
            )
        extra_headers = sub.get("httpHeaders") or {}
        if not isinstance(extra_headers, dict):
            raise SalesforceApiError(400, "JSON_PARSER_ERROR", "httpHeaders must be an object.")
        url = _substitute(str(sub["url"]), answers)
        payload = sub.get("body")
        content = None if payload is None else _substitute(json.dumps(payload), answers, quote=True)
    except SalesforceApiError as error:
        return _sub_result(reference_id, error.status, error.rest_body())
    answer = await client.request(
        str(sub["method"]).upper(),
        url,
        content=content,
        headers={**headers, "Content-Type": "application/json", **extra_headers},
    )
    parsed = answer.json() if answer.content else None
    if reference_id and answer.status_code < 400:
        answers[reference_id] = parsed
    location = {}
    if answer.status_code == 201 and isinstance(parsed, dict) and "id" in parsed:
        location["Location"] = f"{url}/{parsed['id']}"
    return _sub_result(reference_id, answer.status_code, parsed, location)


def _sub_result(
    reference_id: str, status: int, body: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "body": body,
        "httpHeaders": headers or {},
        "httpStatusCode": status,
        "referenceId": reference_id,
    }


def _follow(value: Any, path: str) -> Any:
    """Walk ``.field`` and ``[index]`` steps of a reference through a JSON answer."""
    for key, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        if key and isinstance(value, dict):
            value = value.get(key)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def _substitute(text: str, answers: dict[str, Any], *, quote: bool = False) -> str:
    """Replace each ``@{referenceId.path}`` in ``text`` by the value it points to.

    With ``quote`` the text is JSON and values are escaped to stay valid inside strings.
    """

    def replace(match: re.Match[str]) -> str:
        value = _follow(answers.get(match.group(1)), match.group(2))
        if value is None:
            raise SalesforceApiError(
                400,
                "INVALID_REFERENCE",
                f"Invalid reference specified. No value for {match.group(0)} found; "
                "check the referenceId and that its subrequest succeeded.",
            )
        text_value = str(value)
        return json.dumps(text_value)[1:-1] if quote else text_value

    return _REFERENCE.sub(replace, text)


def _halted(subrequests: list[Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    halted = SalesforceApiError(
        400,
        "PROCESSING_HALTED",
        "The transaction was rolled back since another operation in the same transaction failed.",
    )
    answer = []
    for index, sub in enumerate(subrequests):
        reference_id = str(sub.get("referenceId", "")) if isinstance(sub, dict) else ""
        if index < len(results) and results[index]["httpStatusCode"] >= 400:
            answer.append(results[index])
        else:
            answer.append(_sub_result(reference_id, 400, halted.rest_body()))
    return answer
