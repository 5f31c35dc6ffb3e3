"""Error classes the engine decides on. Classified by type, never by matching strings.

Two shapes exist on purpose:
- exceptions (``IsthmusError`` subclasses) for failures of a whole call: a config that
  does not load, an ERP that is down, a spent API budget;
- ``RecordError`` values for one record inside a batch, because a batch of 200 with one
  bad record must give 199 results and one error, not one exception.

Every message says what happened, to which record and field, and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal[
    "transient", "rate_limited", "auth", "validation", "business", "conflict", "not_found"
]


class IsthmusError(Exception):
    """Base of all errors Isthmus raises on purpose."""


class ConfigError(IsthmusError):
    """A config or mapping file is wrong. ``where`` is ``file:line`` when known."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class TransientError(IsthmusError):
    """Worth retrying later: a timeout, a 5xx, a dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class AmbiguousWriteError(TransientError):
    """The request was sent but no answer came: the write may or may not have happened.

    The executor never repeats a create after this; it looks the record up by its
    idempotency key first (see docs/architecture.md, "Crash-safe write protocol").
    """


class RateLimitedError(TransientError):
    """The system asked us to slow down (429, REQUEST_LIMIT_EXCEEDED)."""


class CircuitOpenError(TransientError):
    """A system failed several calls in a row: calls to it fail fast until a cool-down
    ends, so a down ERP stops the runs that need it instead of burning their records."""


class AuthError(IsthmusError):
    """Credentials were refused. ``expired`` means a refresh may fix it."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(message)


class SafetyValveError(IsthmusError):
    """A run would do something drastic (mass delete, empty side) and needs ``--force``."""


class LookupUnresolved(IsthmusError):
    """A reference points at a record with no link yet (a contact whose account is unsynced)."""

    def __init__(self, entity: str, system: str, native_id: str, field: str) -> None:
        self.entity = entity
        self.system = system
        self.native_id = native_id
        self.field = field
        super().__init__(
            f"field {field!r} refers to {entity} {native_id!r} in {system}, "
            f"which is not linked yet; sync that {entity} first"
        )


@dataclass(frozen=True)
class RecordError:
    """Why one record could not be written or mapped; a value, not an exception."""

    kind: ErrorKind
    message: str
    field: str | None = None
    vendor_code: str | None = None
    vendor_message: str | None = None
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in ("transient", "rate_limited")

    def describe(self) -> str:
        parts = [self.message]
        if self.field:
            parts.append(f"field: {self.field}")
        if self.vendor_code or self.vendor_message:
            said = f"{self.vendor_code or ''} {self.vendor_message or ''}".strip()
            parts.append(f"vendor said: {said}")
        return "; ".join(parts)
