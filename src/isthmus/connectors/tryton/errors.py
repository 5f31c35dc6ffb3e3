"""Tryton's errors, classified once: what each means for the engine, and for a person.

Over JSON-RPC a refusal arrives as ``{"error": [NAME, ARGS]}`` with HTTP 200:

- ``["UserError", [message, description, domain]]``: Tryton refused the record (its
  validation, a workflow rule, a credit limit, access rights). Access and validation
  errors are subclasses of ``UserError`` on the server but reach the wire under the same
  name, so they are told apart only where the connector can check first (required
  fields, lengths, selections: ``describe``), never by reading the message;
- ``["UserWarning", [name, message, description]]``: Tryton asks a person to confirm
  (a credit limit reached for a user allowed to override it). An integration does not
  click "yes" on a person's behalf: this is a business refusal too;
- ``["ConcurrencyException", message]``: the record changed since it was read;
- ``[text, traceback]``: the server failed (a bug, or data it cannot handle).

Whole-call failures come as HTTP statuses: 401 (session expired or login refused),
429 (login rate limit), 5xx (server down).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from isthmus.errors import RecordError


class TrytonFault(Exception):
    """Tryton answered a call with an error value (see the module docstring)."""

    def __init__(self, name: str, message: str, description: str = "", method: str = "") -> None:
        self.name = name
        self.message = message
        self.description = description
        self.method = method
        super().__init__(name, message)

    def __str__(self) -> str:
        said = f"{self.message} - {self.description}" if self.description else self.message
        return f"{self.method}: Tryton {self.name}: {said}"


def parse_fault(error: Any, method: str) -> TrytonFault:
    """The ``error`` member of a JSON-RPC answer, whatever its shape."""
    if isinstance(error, Sequence) and not isinstance(error, str) and error:
        name, args = str(error[0]), error[1] if len(error) > 1 else ""
        if name == "UserError" and isinstance(args, Sequence) and not isinstance(args, str):
            return TrytonFault(
                name, str(args[0]), str(args[1] or "") if len(args) > 1 else "", method
            )
        if name == "UserWarning" and isinstance(args, Sequence) and not isinstance(args, str):
            message = str(args[1]) if len(args) > 1 else str(args[0])
            description = str(args[2] or "") if len(args) > 2 else ""
            return TrytonFault(name, message, description, method)
        if name == "ConcurrencyException":
            return TrytonFault(name, str(args), "", method)
        # A server-side exception: [str(exception), traceback]; keep only the first part.
        return TrytonFault("ServerError", name, "", method)
    return TrytonFault("ServerError", str(error)[:300], "", method)


def record_error(fault: TrytonFault, object_name: str) -> RecordError:
    """One record's error from a fault that concerned only that record."""
    said = f"{fault.message} - {fault.description}" if fault.description else fault.message
    if fault.name == "ConcurrencyException":
        return RecordError(
            "conflict",
            f"Tryton refused the {object_name} write: the record changed since it was read "
            "(the next run reads it again and re-plans)",
            vendor_code=fault.name,
            vendor_message=said,
        )
    if fault.name in ("UserError", "UserWarning"):
        return RecordError(
            "business",
            f"Tryton refused the {object_name}: {said} (fix the data in the source or "
            "the rule in Tryton, then replay the dead letter)",
            vendor_code=fault.name,
            vendor_message=said,
        )
    return RecordError(
        "validation",
        f"Tryton failed on the {object_name} ({said}); its server log has the traceback: "
        "usually a field the mapping leaves empty that Tryton needs (see "
        "docs/connectors/tryton.md, 'What a raw create must set')",
        vendor_code=fault.name,
        vendor_message=said,
    )
