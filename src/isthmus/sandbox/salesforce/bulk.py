"""Bulk API 2.0: ingest jobs (CSV in, per-row results out) and query jobs (CSV pages).

Ingest: ``POST /jobs/ingest`` opens a job (``Open``); ``PUT .../batches`` uploads CSV;
``PATCH`` with ``{"state": "UploadComplete"}`` starts processing (without it nothing
happens, as in Salesforce); ``Aborted`` stops it and leaves the rows unprocessed. The
sandbox processes at once, but reports the states a client would see while polling: the
PATCH answers ``UploadComplete``, the next GET ``InProgress``, later ones ``JobComplete``.
Results: ``successfulResults`` (``sf__Id, sf__Created`` + the row),
``failedResults`` (``sf__Id, sf__Error`` + the row), ``unprocessedrecords`` (the row).

Query: ``POST /jobs/query`` runs the SOQL; ``GET .../results?locator=&maxRecords=`` pages
the CSV with ``Sforce-Locator`` (``null`` on the last page) and ``Sforce-NumberOfRecords``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from isthmus.sandbox.salesforce import bulk_csv
from isthmus.sandbox.salesforce.errors import SalesforceApiError, injected_item_failure
from isthmus.sandbox.salesforce.ids import format_datetime, make_id
from isthmus.sandbox.salesforce.rest_query import execute_query
from isthmus.sandbox.salesforce.soql_eval import CompiledQuery, value_of
from isthmus.sandbox.salesforce.state import (
    SandboxState,
    SessionDep,
    check_version,
    json_object,
    sandbox,
)
from isthmus.sandbox.salesforce.writes import upsert

router = APIRouter()
_BASE = "/services/data/v{version}/jobs"
_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
_FINAL_STATES = ("JobComplete", "Failed", "Aborted")
_job_numbers = itertools.count(1)
JobKind = Literal["ingest", "query"]


@dataclass
class BulkJob:
    id: str
    kind: JobKind
    operation: str
    object_name: str
    version: str
    created: str
    user_id: str
    delimiter_name: str = "COMMA"
    line_ending_name: str = "LF"
    external_id_field: str | None = None
    state: str = "Open"
    #: Transitional states still to report, oldest first (see :meth:`info`).
    states_to_report: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    successes: list[list[Any]] = field(default_factory=list)
    failures: list[list[Any]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    query: CompiledQuery | None = None
    query_ids: list[str] = field(default_factory=list)

    @property
    def delimiter(self) -> str:
        return bulk_csv.DELIMITERS[self.delimiter_name]

    @property
    def line_ending(self) -> str:
        return bulk_csv.LINE_ENDINGS[self.line_ending_name]

    def info(self) -> dict[str, Any]:
        """The job info body.

        The sandbox finishes a job at once, but clients poll through the states a real
        job passes: each read reports the next pending transitional state
        (``UploadComplete``, then ``InProgress``) before the final one.
        """
        state = self.states_to_report.pop(0) if self.states_to_report else self.state
        answer: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object_name,
            "createdById": self.user_id,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Ingest" if self.kind == "ingest" else "V2Query",
            "lineEnding": self.line_ending_name,
            "columnDelimiter": self.delimiter_name,
            "retries": 0,
            "totalProcessingTime": 0,
        }
        if self.kind == "ingest":
            answer.update(
                externalIdFieldName=self.external_id_field,
                contentUrl=f"services/data/v{self.version}/jobs/ingest/{self.id}/batches",
                numberRecordsProcessed=len(self.successes) + len(self.failures),
                numberRecordsFailed=len(self.failures),
                apiActiveProcessingTime=0,
                apexProcessingTime=0,
            )
        else:
            answer["numberRecordsProcessed"] = len(self.query_ids)
        return answer


def _invalid_job(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALIDJOB", message)


def _new_job(
    state: SandboxState, kind: JobKind, body: dict[str, Any], version: str, user: str
) -> BulkJob:
    delimiter = str(body.get("columnDelimiter", "COMMA"))
    line_ending = str(body.get("lineEnding", "LF"))
    if delimiter not in bulk_csv.DELIMITERS or line_ending not in bulk_csv.LINE_ENDINGS:
        raise _invalid_job(
            f"columnDelimiter must be one of {sorted(bulk_csv.DELIMITERS)} and lineEnding "
            f"one of {sorted(bulk_csv.LINE_ENDINGS)}"
        )
    return BulkJob(
        id=make_id("750", next(_job_numbers)),
        kind=kind,
        operation=str(body.get("operation", "")),
        object_name=str(body.get("object", "")),
        version=version,
        created=format_datetime(state.store.clock()),
        user_id=user,
        delimiter_name=delimiter,
        line_ending_name=line_ending,
    )


def _job(state: SandboxState, job_id: str, kind: JobKind) -> BulkJob:
    job = state.jobs.get(job_id)
    if not isinstance(job, BulkJob) or job.kind != kind:
        raise SalesforceApiError(404, "NOT_FOUND", f"Job {job_id} does not exist")
    return job


@router.post(_BASE + "/ingest")
async def create_ingest_job(request: Request, version: str, session: SessionDep) -> Any:
    check_version(version)
    state, body = sandbox(request), await json_object(request)
    job = _new_job(state, "ingest", body, version, session.user_id)
    if job.operation not in _OPERATIONS:
        raise _invalid_job(f"operation must be one of {', '.join(_OPERATIONS)}")
    job.object_name = state.store.object_def(job.object_name).name
    if job.operation == "upsert":
        key = body.get("externalIdFieldName")
        if not isinstance(key, str):
            raise _invalid_job("An upsert job needs externalIdFieldName")
        job.external_id_field = key
    state.jobs[job.id] = job
    return job.info()


@router.put(_BASE + "/ingest/{job_id}/batches")
async def upload_job_data(
    request: Request, version: str, job_id: str, session: SessionDep
) -> Response:
    check_version(version)
    job = _job(sandbox(request), job_id, "ingest")
    if job.state != "Open":
        raise _invalid_job(f"Job {job_id} is {job.state}; upload data only while it is Open")
    job.uploads.append((await request.body()).decode("utf-8-sig"))
    return Response(status_code=201)


@router.patch(_BASE + "/{kind}/{job_id}")
async def change_job_state(
    request: Request, version: str, kind: str, job_id: str, session: SessionDep
) -> Any:
    check_version(version)
    state = sandbox(request)
    job = _job(state, job_id, _kind(kind))
    wanted = (await json_object(request)).get("state")
    if wanted == "Aborted" and job.state not in _FINAL_STATES:
        job.state = "Aborted"
        if job.kind == "ingest":
            for data in job.uploads:
                job.header, rows = bulk_csv.parse_rows(data, job.delimiter)
                job.unprocessed.extend(rows)
        return job.info()
    if wanted == "UploadComplete" and job.kind == "ingest" and job.state == "Open":
        _process_ingest(state, job)
        job.states_to_report = ["UploadComplete", "InProgress"]
        return job.info()
    raise _invalid_job(f"Cannot change job {job_id} from {job.state} to {wanted}")


def _kind(text: str) -> JobKind:
    if text == "ingest":
        return "ingest"
    if text == "query":
        return "query"
    raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")


def _process_ingest(state: SandboxState, job: BulkJob) -> None:
    obj = state.store.object_def(job.object_name)
    for data in job.uploads:
        header, rows = bulk_csv.parse_rows(data, job.delimiter)
        job.header = header
        for row in rows:
            try:
                with state.store.atomic():
                    if state.injector.item_fails():
                        raise injected_item_failure()
                    record_id, created = _apply_row(state, job, obj.name, header, row)
                job.successes.append([record_id, "true" if created else "false", *row])
            except SalesforceApiError as error:
                row_id = next(
                    (c for h, c in zip(header, row, strict=False) if h.lower() == "id"), ""
                )
                job.failures.append([row_id, bulk_csv.error_text(error), *row])
    job.state = "JobComplete"


def _apply_row(
    state: SandboxState, job: BulkJob, object_name: str, header: list[str], row: list[str]
) -> tuple[str, bool]:
    obj = state.store.object_def(object_name)
    payload = bulk_csv.row_payload(state.store, obj, header, row)
    record_id = next((str(v) for k, v in payload.items() if k.lower() == "id"), None)
    fields = {k: v for k, v in payload.items() if k.lower() != "id"}
    if job.operation == "insert":
        return state.store.create(obj.name, payload, user_id=job.user_id)["Id"], True
    if job.operation == "upsert":
        assert job.external_id_field is not None
        value = next(
            (v for k, v in payload.items() if k.lower() == job.external_id_field.lower()), None
        )
        outcome = upsert(
            state.store,
            obj,
            job.external_id_field,
            value,
            payload,
            version=job.version,
            user_id=job.user_id,
        )
        return outcome.record["Id"], outcome.created
    if record_id is None:
        raise SalesforceApiError(400, "MISSING_ARGUMENT", "Id not specified in the row", ["Id"])
    if job.operation == "update":
        return state.store.update(obj.name, record_id, fields, user_id=job.user_id)["Id"], False
    state.store.delete(obj.name, record_id, user_id=job.user_id)
    return record_id, False


@router.get(_BASE + "/ingest/{job_id}/{result}")
async def ingest_results(
    request: Request, version: str, job_id: str, result: str, session: SessionDep
) -> Response:
    check_version(version)
    job = _job(sandbox(request), job_id, "ingest")
    if result == "successfulResults":
        header, rows = ["sf__Id", "sf__Created", *job.header], job.successes
    elif result == "failedResults":
        header, rows = ["sf__Id", "sf__Error", *job.header], job.failures
    elif result == "unprocessedrecords":
        header, rows = list(job.header), list(job.unprocessed)
    else:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    text = bulk_csv.write_csv(header, rows, job.delimiter, job.line_ending)
    return Response(text, media_type="text/csv")


@router.post(_BASE + "/query")
async def create_query_job(request: Request, version: str, session: SessionDep) -> Any:
    check_version(version)
    state, body = sandbox(request), await json_object(request)
    job = _new_job(state, "query", body, version, session.user_id)
    if job.operation not in ("query", "queryAll"):
        raise _invalid_job("operation must be query or queryAll")
    compiled, ids = execute_query(
        state, str(body.get("query", "")), include_deleted=job.operation == "queryAll"
    )
    if compiled.counts:
        raise SalesforceApiError(
            400, "FeatureNotEnabled", "Aggregate queries are not supported in Bulk API 2.0"
        )
    job.object_name, job.query, job.query_ids = compiled.obj.name, compiled, ids
    job.header = [column.column_name for column in compiled.columns]
    job.state, job.states_to_report = "JobComplete", ["UploadComplete", "InProgress"]
    state.jobs[job.id] = job
    return job.info()


@router.get(_BASE + "/query/{job_id}/results")
async def query_results(
    request: Request, version: str, job_id: str, session: SessionDep
) -> Response:
    check_version(version)
    state = sandbox(request)
    job = _job(state, job_id, "query")
    if job.state != "JobComplete" or job.query is None:
        raise _invalid_job(f"Job {job_id} is {job.state}; results exist once it is JobComplete")
    locator = request.query_params.get("locator") or "0"
    try:
        start = int(locator)
        size = int(request.query_params.get("maxRecords") or 50_000)
    except ValueError as exc:
        raise SalesforceApiError(400, "INVALID_LOCATOR", f"Invalid locator: {locator}") from exc
    page = job.query_ids[start : start + size]
    rows = []
    for record_id in page:
        found = state.store.get(record_id)
        record = found[1] if found else None
        rows.append([value_of(state.store, record, column) for column in job.query.columns])
    text = bulk_csv.write_csv(job.header, rows, job.delimiter, job.line_ending)
    next_start = start + len(page)
    headers = {
        "Sforce-Locator": str(next_start) if next_start < len(job.query_ids) else "null",
        "Sforce-NumberOfRecords": str(len(page)),
    }
    return Response(text, media_type="text/csv", headers=headers)


@router.get(_BASE + "/{kind}/{job_id}")
async def job_info(
    request: Request, version: str, kind: str, job_id: str, session: SessionDep
) -> Any:
    check_version(version)
    return _job(sandbox(request), job_id, _kind(kind)).info()


@router.get(_BASE + "/{kind}")
async def list_jobs(request: Request, version: str, kind: str, session: SessionDep) -> Any:
    check_version(version)
    wanted = _kind(kind)
    jobs = [j.info() for j in sandbox(request).jobs.values() if j.kind == wanted]
    return {"done": True, "records": jobs, "nextRecordsUrl": None}


@router.delete(_BASE + "/{kind}/{job_id}")
async def delete_job(
    request: Request, version: str, kind: str, job_id: str, session: SessionDep
) -> Response:
    check_version(version)
    state = sandbox(request)
    job = _job(state, job_id, _kind(kind))
    if job.state not in (*_FINAL_STATES, "UploadComplete"):
        raise _invalid_job(f"Job {job_id} is {job.state}; abort or close it before deleting")
    del state.jobs[job_id]
    return Response(status_code=204)
