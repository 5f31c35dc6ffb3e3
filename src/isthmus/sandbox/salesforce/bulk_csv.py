"""CSV for Bulk API 2.0: reading uploaded job data and writing result files.

Upload rules kept from Salesforce: an empty cell leaves the field alone, ``#N/A`` sets it
to null, and a ``Relationship.ExternalIdField`` column (``Account.ERP_Customer_Number__c``)
fills the reference with the parent found by that external id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from isthmus.sandbox.salesforce.errors import SalesforceApiError
from isthmus.sandbox.salesforce.schema import ObjectDef
from isthmus.sandbox.salesforce.store import RecordStore

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL_MARKER = "#N/A"


def parse_rows(data: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of uploaded CSV (blank lines skipped).

    Raises:
        SalesforceApiError: 400 when there is no header row.
    """
    reader = csv.reader(io.StringIO(data), delimiter=delimiter)
    rows = [row for row in reader if row]
    if not rows:
        raise SalesforceApiError(400, "INVALIDJOB", "The CSV has no header row.")
    return rows[0], rows[1:]


def row_payload(
    store: RecordStore, obj: ObjectDef, header: Sequence[str], row: Sequence[str]
) -> dict[str, Any]:
    """The field map one CSV row asks to write.

    Raises:
        SalesforceApiError: unknown relationship column, or no parent with that key.
    """
    payload: dict[str, Any] = {}
    for column, cell in zip(header, row, strict=False):
        if cell == "":
            continue
        value = None if cell == NULL_MARKER else cell
        if "." not in column:
            payload[column] = value
            continue
        relationship, _, key_field = column.partition(".")
        reference = obj.reference_by_relationship(relationship)
        target = store.schema.get(reference.reference_to or "") if reference else None
        if reference is None or target is None:
            raise SalesforceApiError(
                400, "INVALID_FIELD", f"No such relationship '{relationship}' on {obj.name}"
            )
        payload[reference.name] = (
            None if value is None else _parent_id(store, target, key_field, value)
        )
    return payload


def _parent_id(store: RecordStore, target: ObjectDef, key_field: str, value: str) -> str:
    field = target.field(key_field)
    if field is None or not field.external_id:
        raise SalesforceApiError(
            400, "INVALID_FIELD", f"{key_field} is not an external id field of {target.name}"
        )
    matches = store.find(target.name, field.name, value)
    if len(matches) != 1:
        raise SalesforceApiError(
            400,
            "INVALID_FIELD",
            f"Foreign key external ID: {value} not found for field {field.name} in entity "
            f"{target.name}"
            if not matches
            else f"Foreign key external ID: {value} matches {len(matches)} {target.name} records",
        )
    return str(matches[0]["Id"])


def error_text(error: SalesforceApiError) -> str:
    """The ``sf__Error`` cell: ``CODE:message:fields --``."""
    return f"{error.code}:{error.message}:{','.join(error.fields)} --"


def write_csv(
    header: Sequence[str], rows: Iterable[Sequence[Any]], delimiter: str, line_ending: str
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_ending)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell_text(value) for value in row])
    return buffer.getvalue()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
