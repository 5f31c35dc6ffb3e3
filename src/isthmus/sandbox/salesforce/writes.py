"""Write operations shared by the REST, collections and bulk endpoints.

Keeping upsert and per-record result shapes in one place means a single record, a
collection of 200 and a bulk job behave the same way for the same input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

from isthmus.sandbox.salesforce.errors import SalesforceApiError, not_found
from isthmus.sandbox.salesforce.ids import normalise_id
from isthmus.sandbox.salesforce.schema import ObjectDef
from isthmus.sandbox.salesforce.store import RecordStore
from isthmus.sandbox.salesforce.transaction import Record


class MultipleMatchesError(SalesforceApiError):
    """An external id value matches several records: 300 with the records' URLs."""

    def __init__(self, obj: ObjectDef, field_name: str, matches: list[Record], version: str):
        ids = [m["Id"] for m in matches]
        super().__init__(
            300,
            "DUPLICATE_EXTERNAL_ID",
            f"{field_name}: more than one record found for external id field: {ids}",
            [field_name],
        )
        self.urls = [f"{obj.urls(version)['sobject']}/{i}" for i in ids]

    def response(self) -> JSONResponse:
        return JSONResponse(self.urls, status_code=300)


@dataclass(frozen=True)
class UpsertOutcome:
    record: Record
    created: bool


def external_id_field(obj: ObjectDef, field_name: str) -> str:
    """The canonical name of an upsert key field (an external id, or ``Id``).

    Raises:
        SalesforceApiError: 404 NOT_FOUND when the field is not an external id.
    """
    field = obj.field(field_name)
    if field is None or not (field.external_id or field.name == "Id"):
        raise SalesforceApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field_name}",
        )
    return field.name


def upsert(
    store: RecordStore,
    obj: ObjectDef,
    field_name: str,
    value: Any,
    payload: Mapping[str, Any],
    *,
    version: str,
    user_id: str,
    update_only: bool = False,
) -> UpsertOutcome:
    """Create or update the record whose ``field_name`` equals ``value``.

    Raises:
        MultipleMatchesError: several live records carry the value; nothing is written.
        SalesforceApiError: validation failures, or NOT_FOUND with ``update_only``.
    """
    key = external_id_field(obj, field_name)
    body = {k: v for k, v in payload.items() if k != "attributes"}
    sent = next((k for k in body if k.lower() == key.lower()), None)
    if sent is not None:
        if value is not None and str(body[sent]).lower() != str(value).lower():
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"The value of {key} in the body ({body[sent]}) differs from the one in the "
                f"URL ({value}); send it once.",
                [key],
            )
        value = body.pop(sent)
    matches = _matches(store, obj, key, value)
    if len(matches) > 1:
        raise MultipleMatchesError(obj, key, matches, version)
    if matches:
        record = store.update(obj.name, matches[0]["Id"], body, user_id=user_id)
        return UpsertOutcome(record, created=False)
    if update_only:
        raise not_found()
    if key != "Id" and value is not None:
        body[key] = value
    return UpsertOutcome(store.create(obj.name, body, user_id=user_id), created=True)


def _matches(store: RecordStore, obj: ObjectDef, key: str, value: Any) -> list[Record]:
    if value is None or value == "":
        return []
    if key == "Id":
        full = normalise_id(str(value))
        found = store.get(full) if full else None
        if found is None or found[0].name != obj.name or found[1]["IsDeleted"]:
            return []
        return [found[1]]
    return store.find(obj.name, key, value)


ROLLED_BACK = SalesforceApiError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)
