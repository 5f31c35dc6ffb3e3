"""Business Central's errors, classified once: what each means for the engine and a person.

BC answers a failed call with ``{"error": {"code", "message"}}``. The code says whether
the data was refused by the ERP's business logic (a blocked customer, a credit limit),
by the API's validation (an unknown or read-only property), or whether the call can be
tried again (429, 5xx). ``record_error`` gives one record's error as a value (a batch
of 100 with one refused order gives 99 results and one error); ``classify_call`` gives
the exception for a whole call.
"""

from __future__ import annotations

import re
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

# code -> (kind, what the person should do)
CODES: Mapping[str, tuple[ErrorKind, str]] = {
    "Internal_CustomerBlocked": (
        "business",
        "the customer is blocked in Business Central: unblock it there (or clear the "
        "credit hold), then replay this record",
    ),
    "Internal_CreditLimitExceeded": (
        "business",
        "the order would exceed the customer's credit limit: raise the limit, collect "
        "payment or reduce the order in Business Central, then replay",
    ),
    "Internal_ItemBlocked": (
        "business",
        "an item on the document is blocked in Business Central: unblock it, then replay",
    ),
    "Internal_QuantityTooLarge": (
        "business",
        "a quantity exceeds what is left to ship or invoice: correct the line, then replay",
    ),
    "Internal_AlreadyPosted": ("business", "the document is already posted in Business Central"),
    "Internal_NotPosted": ("business", "the document must be posted first"),
    "Internal_NothingToPost": ("business", "the document has nothing left to post"),
    "Internal_WrongCustomer": ("business", "the document belongs to another customer"),
    "Internal_RecordNotFound": ("not_found", "the record does not exist in Business Central"),
    "BadRequest_PropertyNotFound": (
        "validation",
        "the field does not exist on this entity: check the mapping's native field name",
    ),
    "BadRequest_ReadOnly": (
        "validation",
        "the field is read-only in Business Central: remove it from the mapping's writes",
    ),
    "Internal_EntityWithSameKeyExists": (
        "conflict",
        "a record with this number already exists in Business Central: link the two "
        "records (or give this one another number), then replay",
    ),
    "Request_EntityChanged": (
        "conflict",
        "the record changed in Business Central after it was read; it is read again and "
        "merged on the next run",
    ),
}
_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")


def error_of(body: Any) -> tuple[str, str]:
    """(code, message) of a BC error body, whatever arrived."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return str(inner.get("code") or "Unknown"), str(inner.get("message") or "")
        if isinstance(inner, str):  # the token endpoint: {"error", "error_description"}
            return inner, str(body.get("error_description") or "")
    return "Unknown", str(body)[:300]


def record_error(status: int, body: Any, retry_after: float | None = None) -> RecordError:
    """One record's failure (a single call's or one ``$batch`` item's answer)."""
    code, message = error_of(body)
    if status == 429:
        return RecordError(
            "rate_limited",
            "Business Central asked to slow down (429); retried after its Retry-After",
            vendor_code=code,
            vendor_message=message,
            retry_after=retry_after,
        )
    if status >= 500 or status == 408:
        return RecordError(
            "transient",
            f"Business Central failed ({status}); retried",
            vendor_code=code,
            vendor_message=message,
            retry_after=retry_after,
        )
    kind, advice = CODES.get(code, _default(code))
    field = None
    if kind == "validation":
        quoted = _QUOTED.search(message)
        field = quoted.group(1) if quoted else None
    return RecordError(
        kind,
        f"Business Central refused the record: {message} ({advice})",
        field=field,
        vendor_code=code,
        vendor_message=message,
    )


def _default(code: str) -> tuple[ErrorKind, str]:
    if code.startswith("BadRequest"):
        return "validation", "the request does not fit the entity: check the mapping"
    # BC's business logic (posting, numbering, checks) reports Internal_* codes.
    return "business", "Business Central's business rules refused it: fix the data there"


def classify_call(status: int, body: Any, retry_after: float | None, what: str) -> IsthmusError:
    """The exception for a whole call that failed with ``status``."""
    code, message = error_of(body)
    said = f"{what}: Business Central answered {status} {code}: {message}"
    if status == 401:
        return AuthError(f"{said}; check tenant, client_id and client_secret", expired=True)
    if status == 403:
        return AuthError(
            f"{said}; grant the app registration the API permission "
            "(Financials.ReadWrite.All) and a permission set in Business Central"
        )
    if status == 429:
        return RateLimitedError(
            f"{said}; Business Central allows 6,000 calls per 5 minutes: the flow waits "
            "and resumes",
            retry_after=retry_after,
        )
    if status >= 500 or status == 408:
        return TransientError(f"{said}; retried", retry_after=retry_after)
    if code == "Internal_SubscriptionValidation":
        return IsthmusError(
            f"{said}; the notification URL must be reachable from Business Central and "
            "answer its validationToken (Isthmus's /webhooks/<system> does, while "
            "`isthmus run` serves it)"
        )
    if status == 404 and code in ("Internal_CompanyNotFound", "BadRequest_NotFound"):
        return IsthmusError(f"{said}; check the company and environment in the config")
    return IsthmusError(f"{said}; this is a bug in the request or the mapping, not the data")
