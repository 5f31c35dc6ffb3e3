"""Salesforce's error shapes: one exception type, rendered as the vendor's JSON bodies.

REST answers carry a JSON array ``[{"message", "errorCode", "fields"}]``; per-record
results inside collections and composite answers use ``statusCode`` instead of
``errorCode``. Both come from :class:`SalesforceApiError` so every layer raises the same
thing and only the edge decides the shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse


class SalesforceApiError(Exception):
    """An error Salesforce would answer with ``status`` and ``code``."""

    def __init__(self, status: int, code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)

    def rest_body(self) -> list[dict[str, Any]]:
        """The array body of a plain REST error answer."""
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]

    def record_error(self) -> dict[str, Any]:
        """One entry of a per-record ``errors`` list (collections, composite results)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def response(self) -> JSONResponse:
        return JSONResponse(self.rest_body(), status_code=self.status)


def not_found() -> SalesforceApiError:
    return SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> SalesforceApiError:
    return SalesforceApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def malformed_query(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "MALFORMED_QUERY", message)


def invalid_field(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_FIELD", message)


def invalid_type(object_name: str) -> SalesforceApiError:
    return SalesforceApiError(
        404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{object_name}'"
    )


def json_parser_error(detail: str) -> SalesforceApiError:
    return SalesforceApiError(400, "JSON_PARSER_ERROR", detail)


def injected_item_failure() -> SalesforceApiError:
    return SalesforceApiError(
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred (injected by the sandbox's partial_failure_rate). "
        "Retry the record.",
    )


def server_error_body(status: int) -> tuple[bytes, str]:
    """Error body for injected 5xx/429 answers, in Salesforce's array shape."""
    code = "SERVER_UNAVAILABLE" if status in (502, 503, 504) else "UNKNOWN_EXCEPTION"
    if status == 429:
        code = "REQUEST_LIMIT_EXCEEDED"
    message = f"Injected fault: HTTP {status} from the sandbox. Retry the request later."
    return json.dumps([{"message": message, "errorCode": code}]).encode(), "application/json"


def parse_json_body(raw: bytes) -> Any:
    """Decode a request body, failing the way Salesforce does on bad JSON."""
    if not raw.strip():
        raise json_parser_error("The request body is empty; send a JSON object.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise json_parser_error(f"Unexpected character in JSON body: {exc}") from exc
