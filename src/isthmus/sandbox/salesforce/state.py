"""The live parts of one sandbox org, shared by all route modules via ``app.state``."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request

from isthmus.sandbox.common import FaultInjector
from isthmus.sandbox.salesforce.auth import Session, TokenRegistry
from isthmus.sandbox.salesforce.consent import CodeRegistry
from isthmus.sandbox.salesforce.errors import SalesforceApiError, not_found, parse_json_body
from isthmus.sandbox.salesforce.events import ChangeEventLog
from isthmus.sandbox.salesforce.limits import ApiUsage
from isthmus.sandbox.salesforce.schema import Schema
from isthmus.sandbox.salesforce.settings import SUPPORTED_VERSIONS, SandboxSettings
from isthmus.sandbox.salesforce.store import RecordStore


@dataclass
class SandboxState:
    settings: SandboxSettings
    schema: Schema
    store: RecordStore
    tokens: TokenRegistry
    usage: ApiUsage
    events: ChangeEventLog
    injector: FaultInjector
    #: Open query cursors by locator, oldest first (see :mod:`.rest_query`).
    cursors: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    #: Bulk API 2.0 jobs by id (see :mod:`.bulk`).
    jobs: dict[str, Any] = field(default_factory=dict)
    #: The routes without budget or faults, for composite subrequests (set by the app).
    subrequest_app: Any = None
    #: Authorization codes of the web-server flow (see :mod:`.consent`).
    codes: CodeRegistry = field(default_factory=CodeRegistry)

    def instance_url(self, request: Request) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    def today(self) -> dt.date:
        return self.store.clock().date()


def sandbox(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


async def require_session(request: Request) -> Session:
    """FastAPI dependency: the caller's session, or 401 INVALID_SESSION_ID."""
    return sandbox(request).tokens.check(request)


SessionDep = Annotated[Session, Depends(require_session)]


def check_version(version: str) -> str:
    """The version from a ``vXX.X`` path segment, or 404 if the sandbox does not serve it."""
    if version not in SUPPORTED_VERSIONS:
        raise not_found()
    return version


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or JSON_PARSER_ERROR."""
    body = parse_json_body(await request.body())
    if not isinstance(body, dict):
        raise SalesforceApiError(
            400, "JSON_PARSER_ERROR", "Expected a JSON object as the request body."
        )
    return body
