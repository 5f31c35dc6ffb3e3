"""``/query`` and ``/queryAll``: SOQL with server-side cursors and ``nextRecordsUrl`` paging.

A query's matching ids are fixed when it runs; each page renders the current values of
its records. Pages hold 2,000 records unless ``Sforce-Query-Options: batchSize=N`` asks
for another size (clamped to 200..2,000, as Salesforce treats it as a hint). The locator
in ``nextRecordsUrl`` is ``{cursor id}-{offset}``, like Salesforce's
``01gRO0000016PIAYA2-2000``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from isthmus.sandbox.salesforce.errors import SalesforceApiError, malformed_query
from isthmus.sandbox.salesforce.ids import make_id
from isthmus.sandbox.salesforce.soql_eval import (
    CompiledQuery,
    aggregate_row,
    compile_query,
    render_record,
    run,
)
from isthmus.sandbox.salesforce.state import SandboxState, SessionDep, check_version, sandbox

router = APIRouter()

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
MAX_OPEN_CURSORS = 200
_cursor_numbers = itertools.count(1)


@dataclass
class QueryCursor:
    compiled: CompiledQuery
    record_ids: list[str]
    batch_size: int
    endpoint: str
    locator: str | None = None


def batch_size_from(request: Request) -> int:
    """The page size asked for in ``Sforce-Query-Options``, clamped to Salesforce's range."""
    options = request.headers.get("sforce-query-options", "")
    match = re.search(r"batchSize\s*=\s*(\d+)", options, re.IGNORECASE)
    if not match:
        return DEFAULT_BATCH_SIZE
    return max(MIN_BATCH_SIZE, min(DEFAULT_BATCH_SIZE, int(match.group(1))))


def execute_query(
    state: SandboxState, text: str, *, include_deleted: bool
) -> tuple[CompiledQuery, list[str]]:
    """Compile and run ``text``; return the compiled query and the matching ids in order."""
    compiled = compile_query(text, state.schema, state.today())
    rows = run(compiled, state.store, include_deleted=include_deleted)
    return compiled, [row["Id"] for row in rows]


def _page(state: SandboxState, cursor: QueryCursor, offset: int, version: str) -> dict[str, Any]:
    compiled = cursor.compiled
    total = len(cursor.record_ids)
    if compiled.counts:
        records = []
        if not compiled.count_only:
            rows = [state.store.get(i) for i in cursor.record_ids]
            records = [aggregate_row(compiled, state.store, [r[1] for r in rows if r])]
            total = len(records)
        return {"totalSize": total, "done": True, "records": records}
    page_ids = cursor.record_ids[offset : offset + cursor.batch_size]
    records = []
    for record_id in page_ids:
        found = state.store.get(record_id)
        if found is not None:
            records.append(render_record(compiled, state.store, found[1], version))
    answer: dict[str, Any] = {"totalSize": total, "done": True, "records": records}
    next_offset = offset + cursor.batch_size
    if next_offset < total:
        locator = _remember(state, cursor)
        answer["done"] = False
        answer["nextRecordsUrl"] = (
            f"/services/data/v{version}/{cursor.endpoint}/{locator}-{next_offset}"
        )
    return answer


def _remember(state: SandboxState, cursor: QueryCursor) -> str:
    if cursor.locator is None:
        cursor.locator = make_id("01g", next(_cursor_numbers))
        state.cursors[cursor.locator] = cursor
        while len(state.cursors) > MAX_OPEN_CURSORS:
            state.cursors.popitem(last=False)  # the oldest cursor expires first
    return cursor.locator


async def _query(request: Request, version: str, endpoint: str) -> dict[str, Any]:
    check_version(version)
    state = sandbox(request)
    text = request.query_params.get("q")
    if not text:
        raise malformed_query("Missing the q parameter: send ?q=SELECT ... FROM ...")
    compiled, ids = execute_query(state, text, include_deleted=endpoint == "queryAll")
    cursor = QueryCursor(compiled, ids, batch_size_from(request), endpoint)
    return _page(state, cursor, 0, version)


async def _more(request: Request, version: str, endpoint: str, locator: str) -> dict[str, Any]:
    check_version(version)
    state = sandbox(request)
    cursor_id, _, offset_text = locator.partition("-")
    cursor = state.cursors.get(cursor_id)
    if cursor is None or not offset_text.isdigit():
        raise SalesforceApiError(
            400,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator: the cursor expired or never existed; run the query again",
        )
    return _page(state, cursor, int(offset_text), version)


@router.get("/services/data/v{version}/query")
async def query(request: Request, version: str, session: SessionDep) -> dict[str, Any]:
    return await _query(request, version, "query")


@router.get("/services/data/v{version}/queryAll")
async def query_all(request: Request, version: str, session: SessionDep) -> dict[str, Any]:
    return await _query(request, version, "queryAll")


@router.get("/services/data/v{version}/query/{locator}")
async def query_more(
    request: Request, version: str, locator: str, session: SessionDep
) -> dict[str, Any]:
    return await _more(request, version, "query", locator)


@router.get("/services/data/v{version}/queryAll/{locator}")
async def query_all_more(
    request: Request, version: str, locator: str, session: SessionDep
) -> dict[str, Any]:
    return await _more(request, version, "queryAll", locator)
