"""sObject rows: create, read, update, delete, upsert by external id, getUpdated/getDeleted.

Status codes follow the REST API guide: 201 with ``{"id", "success", "errors"}`` on
create, 204 on update and delete, 200 on read, 304 with ``If-Modified-Since`` when
nothing changed; upsert answers 201 (created) or, from v46.0, 200 with ``created: false``
(204 before), and 300 with the matching URLs when the key is ambiguous.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from isthmus.sandbox.salesforce.errors import SalesforceApiError
from isthmus.sandbox.salesforce.ids import format_datetime, parse_datetime
from isthmus.sandbox.salesforce.schema import ObjectDef
from isthmus.sandbox.salesforce.soql_eval import attributes
from isthmus.sandbox.salesforce.state import SessionDep, check_version, json_object, sandbox
from isthmus.sandbox.salesforce.transaction import Record
from isthmus.sandbox.salesforce.writes import MultipleMatchesError, external_id_field, upsert

router = APIRouter()
_BASE = "/services/data/v{version}/sobjects/{object_name}"
_UPDATED_WINDOW_DAYS = 30
_DELETED_WINDOW_DAYS = 15


def render_fields(
    obj: ObjectDef, record: Record, version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """A record as GET answers it: ``attributes`` then the fields (all, or those asked)."""
    answer: dict[str, Any] = {"attributes": attributes(obj, record, version)}
    if fields is None:
        answer.update(record)
        return answer
    for name in fields:
        field = obj.field(name.strip())
        if field is None:
            raise SalesforceApiError(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}"
            )
        answer[field.name] = record.get(field.name)
    return answer


@router.post(_BASE)
async def create(
    request: Request, version: str, object_name: str, session: SessionDep
) -> JSONResponse:
    check_version(version)
    store = sandbox(request).store
    obj = store.object_def(object_name)
    record = store.create(obj.name, await json_object(request), user_id=session.user_id)
    return JSONResponse({"id": record["Id"], "success": True, "errors": []}, status_code=201)


@router.get(_BASE + "/updated")
async def get_updated(
    request: Request, version: str, object_name: str, session: SessionDep
) -> dict[str, Any]:
    check_version(version)
    state = sandbox(request)
    obj = state.store.object_def(object_name)
    start, end = _replication_window(request, _UPDATED_WINDOW_DAYS, state.store.clock())
    ids = [
        r["Id"]
        for r in state.store.records(obj.name)
        if format_datetime(start) <= r["SystemModstamp"] < format_datetime(end)
    ]
    _check_id_limit(len(ids), state.settings.limits.max_replication_ids)
    return {"ids": ids, "latestDateCovered": format_datetime(end)}


@router.get(_BASE + "/deleted")
async def get_deleted(
    request: Request, version: str, object_name: str, session: SessionDep
) -> dict[str, Any]:
    check_version(version)
    state = sandbox(request)
    obj = state.store.object_def(object_name)
    now = state.store.clock()
    start, end = _replication_window(request, _DELETED_WINDOW_DAYS, now)
    low, high = format_datetime(start), format_datetime(end)
    deleted: list[dict[str, str]] = []
    earliest = format_datetime(now - dt.timedelta(days=_DELETED_WINDOW_DAYS))
    for record in state.store.records(obj.name, include_deleted=True):
        when = state.store.deleted_at(record["Id"])
        if when is not None and low <= when < high:
            deleted.append({"id": record["Id"], "deletedDate": when})
    _check_id_limit(len(deleted), state.settings.limits.max_replication_ids)
    return {
        "deletedRecords": deleted,
        "earliestDateAvailable": earliest,
        "latestDateCovered": high,
    }


def _replication_window(
    request: Request, max_days: int, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    try:
        start = parse_datetime(request.query_params["start"])
        end = parse_datetime(request.query_params["end"])
    except (KeyError, ValueError) as exc:
        raise SalesforceApiError(
            400,
            "INVALID_REPLICATION_DATE",
            "start and end must be ISO 8601 date-times, e.g. ?start=2024-05-01T00:00:00Z"
            "&end=2024-05-02T00:00:00Z",
        ) from exc
    # Salesforce ignores the seconds of start and end: the window is whole minutes.
    start, end = (moment.replace(second=0, microsecond=0) for moment in (start, end))
    if end <= start:
        raise SalesforceApiError(
            400, "INVALID_REPLICATION_DATE", "end date must be after the start date"
        )
    if start < now - dt.timedelta(days=max_days):
        raise SalesforceApiError(
            400,
            "INVALID_REPLICATION_DATE",
            f"start date cannot be more than {max_days} days ago",
        )
    return start, min(end, now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1))


def _check_id_limit(count: int, limit: int) -> None:
    if count > limit:
        raise SalesforceApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"{count} ids match, more than the {limit} allowed; narrow start and end.",
        )


@router.get(_BASE + "/{record_id}")
async def read(
    request: Request, version: str, object_name: str, record_id: str, session: SessionDep
) -> Response:
    check_version(version)
    store = sandbox(request).store
    obj = store.object_def(object_name)
    record = store.live(obj.name, record_id)
    since = request.headers.get("if-modified-since")
    if since and _not_modified_since(record, since):
        return Response(status_code=304)
    fields = request.query_params.get("fields")
    return JSONResponse(render_fields(obj, record, version, fields.split(",") if fields else None))


def _not_modified_since(record: Record, header: str) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return parse_datetime(record["LastModifiedDate"]).replace(microsecond=0) <= since


@router.patch(_BASE + "/{record_id}")
async def update(
    request: Request, version: str, object_name: str, record_id: str, session: SessionDep
) -> Response:
    check_version(version)
    store = sandbox(request).store
    obj = store.object_def(object_name)
    store.update(obj.name, record_id, await json_object(request), user_id=session.user_id)
    return Response(status_code=204)


@router.delete(_BASE + "/{record_id}")
async def delete(
    request: Request, version: str, object_name: str, record_id: str, session: SessionDep
) -> Response:
    check_version(version)
    store = sandbox(request).store
    store.delete(store.object_def(object_name).name, record_id, user_id=session.user_id)
    return Response(status_code=204)


@router.post(_BASE + "/{field_name}")
async def create_with_id_key(
    request: Request, version: str, object_name: str, field_name: str, session: SessionDep
) -> Response:
    """``POST /sobjects/{Object}/Id``: create, treating Id as an external id with no value."""
    check_version(version)
    if field_name.lower() != "id":
        raise SalesforceApiError(
            405, "METHOD_NOT_ALLOWED", "HTTP Method 'POST' not allowed. Allowed are PATCH"
        )
    return await _upsert(request, version, object_name, "Id", None, session.user_id)


@router.get(_BASE + "/{field_name}/{value}")
async def read_by_external_id(
    request: Request,
    version: str,
    object_name: str,
    field_name: str,
    value: str,
    session: SessionDep,
) -> Response:
    check_version(version)
    state = sandbox(request)
    obj = state.store.object_def(object_name)
    key = external_id_field(obj, field_name)
    matches = state.store.find(obj.name, key, value) if key != "Id" else []
    if key == "Id":
        matches = [state.store.live(obj.name, value)]
    if len(matches) > 1:
        raise MultipleMatchesError(obj, key, matches, version)
    if not matches:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return JSONResponse(render_fields(obj, matches[0], version))


@router.patch(_BASE + "/{field_name}/{value}")
async def upsert_by_external_id(
    request: Request,
    version: str,
    object_name: str,
    field_name: str,
    value: str,
    session: SessionDep,
) -> Response:
    check_version(version)
    return await _upsert(request, version, object_name, field_name, value, session.user_id)


async def _upsert(
    request: Request,
    version: str,
    object_name: str,
    field_name: str,
    value: str | None,
    user_id: str,
) -> Response:
    store = sandbox(request).store
    obj = store.object_def(object_name)
    update_only = request.query_params.get("updateOnly", "false").lower() == "true"
    outcome = upsert(
        store,
        obj,
        field_name,
        value,
        await json_object(request),
        version=version,
        user_id=user_id,
        update_only=update_only,
    )
    modern = float(version) >= 46.0
    body: dict[str, Any] = {"id": outcome.record["Id"], "success": True, "errors": []}
    if modern:
        body["created"] = outcome.created
    if outcome.created:
        return JSONResponse(body, status_code=201)
    return JSONResponse(body, status_code=200) if modern else Response(status_code=204)
