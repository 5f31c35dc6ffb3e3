"""Salesforce's errors, classified once: what each means for the engine, and for a person.

Two levels, as Salesforce reports them:
- a whole call fails with an HTTP status and an array ``[{"errorCode", "message",
  "fields"}]``: ``classify_call`` turns that into the exception the engine acts on;
- one record inside a collection fails with ``{"statusCode", "message", "fields"}``:
  ``record_error`` turns that into a ``RecordError`` value naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from isthmus.errors import (
    AuthError,
    ErrorKind,
    IsthmusError,
    RateLimitedError,
    RecordError,
    TransientError,
)

# statusCode / errorCode -> (kind, what the person should do)
RECORD_ERRORS: Mapping[str, tuple[ErrorKind, str]] = {
    "REQUIRED_FIELD_MISSING": ("validation", "fill the field at the source or map a default"),
    "STRING_TOO_LONG": ("validation", "shorten the value or set truncate: true on the rule"),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": (
        "validation",
        "map the value to one of the picklist's values (value_map)",
    ),
    "INVALID_FIELD": ("validation", "the field does not exist: check the mapping's native name"),
    "INVALID_FIELD_FOR_INSERT_UPDATE": (
        "validation",
        "the field is read-only in Salesforce: remove it from the mapping's writes",
    ),
    "INVALID_CROSS_REFERENCE_KEY": (
        "validation",
        "a reference points at a record that does not exist: sync the parent first",
    ),
    "MALFORMED_ID": ("validation", "a reference is not a Salesforce id: check the lookup"),
    "INVALID_TYPE_ON_FIELD_IN_RECORD": ("validation", "the value has the wrong type"),
    "JSON_PARSER_ERROR": ("validation", "the value could not be sent as JSON"),
    "DUPLICATE_VALUE": ("conflict", "another record holds this unique value: review both"),
    "DUPLICATES_DETECTED": ("conflict", "a Salesforce duplicate rule matched: review both"),
    "ENTITY_IS_DELETED": ("not_found", "the record was deleted in Salesforce meanwhile"),
    "NOT_FOUND": ("not_found", "the record does not exist in Salesforce"),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": (
        "business",
        "a Salesforce validation rule refused the record: fix the data or the rule",
    ),
    "FIELD_INTEGRITY_EXCEPTION": ("business", "Salesforce refused the combination of values"),
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": ("business", "a trigger or flow refused the record"),
    "UNABLE_TO_LOCK_ROW": ("transient", "another process holds the record; retried"),
    "UNKNOWN_EXCEPTION": ("transient", "Salesforce failed internally; retried"),
    "SERVER_UNAVAILABLE": ("transient", "Salesforce is unavailable; retried"),
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": ("transient", "rolled back with its batch; retried"),
    "PROCESSING_HALTED": ("transient", "halted with its batch; retried"),
    "REQUEST_LIMIT_EXCEEDED": ("rate_limited", "the org's API limit is reached; resumes later"),
}


def record_error(error: Mapping[str, Any]) -> RecordError:
    """One record's error from a collection result."""
    code = str(error.get("statusCode") or error.get("errorCode") or "UNKNOWN")
    message = str(error.get("message") or code)
    fields = error.get("fields") or []
    kind, advice = RECORD_ERRORS.get(code, ("validation", "see Salesforce's message"))
    field = str(fields[0]) if fields else None
    return RecordError(
        kind,
        f"Salesforce refused the record: {message} ({advice})",
        field=field,
        vendor_code=code,
        vendor_message=message,
    )


def first_error(body: Any) -> tuple[str, str]:
    """(errorCode, message) of an error body, whatever its shape."""
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return str(body[0].get("errorCode", "UNKNOWN")), str(body[0].get("message", ""))
    if isinstance(body, Mapping):
        code = body.get("error") or body.get("errorCode") or "UNKNOWN"
        return str(code), str(body.get("error_description") or body.get("message") or "")
    return "UNKNOWN", str(body)[:300]


def classify_call(status: int, body: Any, retry_after: float | None, what: str) -> IsthmusError:
    """The exception for a whole call that failed with ``status``."""
    code, message = first_error(body)
    said = f"{what}: Salesforce answered {status} {code}: {message}"
    if status == 401:
        return AuthError(f"{said}; check the connected app's credentials", expired=True)
    if code == "REQUEST_LIMIT_EXCEEDED" or status == 429:
        return RateLimitedError(
            f"{said}; the flow resumes when the org has API calls again", retry_after=retry_after
        )
    if status >= 500:
        return TransientError(f"{said}; retried", retry_after=retry_after)
    if status == 403:
        return AuthError(f"{said}; the integration user lacks a permission")
    return IsthmusError(f"{said}; this is a bug in the request or the mapping, not the data")
