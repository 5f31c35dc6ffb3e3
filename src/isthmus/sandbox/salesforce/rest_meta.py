"""Discovery resources: API versions, resources by version, limits, describe calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from isthmus.sandbox.salesforce.settings import SUPPORTED_VERSIONS
from isthmus.sandbox.salesforce.state import SessionDep, check_version, sandbox

router = APIRouter()

_RELEASE_NAMES = {59: "Winter '24", 60: "Spring '24", 61: "Summer '24", 62: "Winter '25"}
_RESOURCES = (
    "sobjects",
    "query",
    "queryAll",
    "limits",
    "composite",
    "jobs/ingest",
    "jobs/query",
    "search",
    "recent",
)


@router.get("/services/data")
async def versions() -> list[dict[str, str]]:
    """The Versions resource; needs no session and carries no limit header."""
    answer = []
    for version in SUPPORTED_VERSIONS:
        major = int(version.split(".")[0])
        label = _RELEASE_NAMES.get(major, f"Release {major}")
        answer.append({"label": label, "url": f"/services/data/v{version}", "version": version})
    return answer


@router.get("/services/data/v{version}")
async def resources(version: str, session: SessionDep) -> dict[str, str]:
    check_version(version)
    return {name: f"/services/data/v{version}/{name}" for name in _RESOURCES}


@router.get("/services/data/v{version}/limits")
async def limits(request: Request, version: str, session: SessionDep) -> dict[str, Any]:
    check_version(version)
    usage = sandbox(request).usage
    jobs = len(sandbox(request).jobs)
    return {
        "DailyApiRequests": {"Max": usage.daily_limit, "Remaining": usage.daily_limit - usage.used},
        "ConcurrentPerOrgLongTxn": {"Max": usage.max_concurrent, "Remaining": usage.max_concurrent},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000 - jobs},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000 - jobs},
        "DataStorageMB": {"Max": 1024, "Remaining": 1024},
    }


@router.get("/services/data/v{version}/sobjects")
async def describe_global(request: Request, version: str, session: SessionDep) -> dict[str, Any]:
    check_version(version)
    schema = sandbox(request).schema
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [obj.describe_summary(version) for obj in schema.objects.values()],
    }


@router.get("/services/data/v{version}/sobjects/{object_name}")
async def sobject_basic_info(
    request: Request, version: str, object_name: str, session: SessionDep
) -> dict[str, Any]:
    check_version(version)
    state = sandbox(request)
    obj = state.store.object_def(object_name)
    recent = state.store.latest(obj.name, 5)
    return {
        "objectDescribe": obj.describe_summary(version),
        "recentItems": [
            {
                "attributes": {
                    "type": obj.name,
                    "url": f"{obj.urls(version)['sobject']}/{r['Id']}",
                },
                "Id": r["Id"],
                **({"Name": r["Name"]} if "Name" in r else {}),
            }
            for r in recent
        ],
    }


@router.get("/services/data/v{version}/sobjects/{object_name}/describe")
async def sobject_describe(
    request: Request, version: str, object_name: str, session: SessionDep
) -> JSONResponse:
    check_version(version)
    state = sandbox(request)
    obj = state.store.object_def(object_name)
    return JSONResponse(obj.describe(version, state.schema.children_of(obj.name)))
