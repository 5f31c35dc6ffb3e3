"""Sandbox-only endpoints under ``/__sandbox`` (no session needed, never rate limited).

- ``GET /__sandbox/events?replayId=N&limit=M&entity=Account``: change events after N;
- ``POST /__sandbox/events/callbacks`` ``{"url": ..., "replayId": N?}``: push events there;
  ``DELETE`` the same path with ``?url=`` to stop;
- ``POST /__sandbox/sessions/expire``: end every access token (refresh tokens still work);
  with ``{"after_calls": N}``, once N more API calls were answered (mid-sync expiry),
  and with ``"repeat": true`` again every N calls;
- ``POST /__sandbox/sessions/revoke`` (optional ``{"after_calls": N}``): revoke the app's
  access: sessions and refresh tokens end and every grant answers ``invalid_grant``
  until ``POST /__sandbox/sessions/restore``;
- ``GET|POST /__sandbox/limits`` ``{"daily_api_requests": N, "used": M}``: read or set
  the API budget;
- ``/__sandbox/faults`` is served by the fault middleware (see ``sandbox.common``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from isthmus.sandbox.salesforce.state import json_object, sandbox

router = APIRouter(prefix="/__sandbox")


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "message": message}, status_code=400)


@router.get("/events")
async def read_events(request: Request) -> dict[str, Any]:
    params = request.query_params
    try:
        after = int(params.get("replayId", "-1"))
        limit = int(params.get("limit", "1000"))
    except ValueError:
        return {"events": [], "error": "replayId and limit must be integers"}
    events = sandbox(request).events.after(after, limit, params.get("entity"))
    return {"events": events, "latestReplayId": sandbox(request).events.last_replay_id}


@router.post("/events/callbacks")
async def register_callback(request: Request) -> JSONResponse:
    body = await json_object(request)
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _bad_request('send {"url": "http(s)://..."} naming where to POST events')
    replay_id = body.get("replayId")
    if replay_id is not None and not isinstance(replay_id, int):
        return _bad_request("replayId must be an integer (events after it are pushed)")
    sandbox(request).events.register(url, replay_id)
    return JSONResponse({"url": url, "registered": True}, status_code=201)


@router.delete("/events/callbacks")
async def unregister_callback(request: Request) -> dict[str, Any]:
    url = request.query_params.get("url", "")
    return {"url": url, "removed": sandbox(request).events.unregister(url)}


async def _after_calls(request: Request) -> tuple[int | None, bool]:
    body = await json_object(request) if await request.body() else {}
    after = body.get("after_calls")
    if after is not None and (not isinstance(after, int) or after < 0):
        raise ValueError("after_calls must be a non-negative integer")
    return after, body.get("repeat") is True


@router.post("/sessions/expire")
async def expire_sessions(request: Request) -> JSONResponse:
    try:
        after, repeat = await _after_calls(request)
    except ValueError as error:
        return _bad_request(str(error))
    if after is not None:
        sandbox(request).tokens.expire_after(after, repeat)
        return JSONResponse({"expire_after_calls": after, "repeat": repeat})
    return JSONResponse({"expired": sandbox(request).tokens.expire_all()})


@router.post("/sessions/revoke")
async def revoke_sessions(request: Request) -> JSONResponse:
    try:
        after, _ = await _after_calls(request)
    except ValueError as error:
        return _bad_request(str(error))
    sandbox(request).tokens.revoke_all(after or 0)
    return JSONResponse({"revoke_after_calls": after or 0})


@router.post("/sessions/restore")
async def restore_sessions(request: Request) -> dict[str, bool]:
    sandbox(request).tokens.restore()
    return {"revoked": False}


@router.get("/limits")
async def read_limits(request: Request) -> dict[str, int]:
    usage = sandbox(request).usage
    return {"daily_api_requests": usage.daily_limit, "used": usage.used}


@router.post("/limits")
async def set_limits(request: Request) -> JSONResponse:
    body = await json_object(request)
    limit, used = body.get("daily_api_requests"), body.get("used")
    if any(v is not None and (not isinstance(v, int) or v < 0) for v in (limit, used)):
        return _bad_request("daily_api_requests and used must be non-negative integers")
    usage = sandbox(request).usage
    usage.configure(daily_limit=limit, used=used)
    return JSONResponse({"daily_api_requests": usage.daily_limit, "used": usage.used})
