"""OData v4 JSON envelopes, ETags and error bodies.

The ETag is a weak validator derived from the record's content, so any change to a field
changes it and a client holding an old one gets 412 on PATCH.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return str(value)


def to_json(value: Any) -> str:
    """Serialise with Decimals as JSON numbers (OData's default IEEE754-compatible form)."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def make_etag(record: dict[str, Any]) -> str:
    """A weak ETag, ``W/"..."``, stable for the same content and changed by any edit."""
    content = {k: v for k, v in record.items() if not k.startswith("@")}
    digest = hashlib.sha256(json.dumps(content, default=str, sort_keys=True).encode()).hexdigest()
    return f'W/"{digest[:24]}"'


def entity_body(context: str, record: dict[str, Any]) -> dict[str, Any]:
    """One entity with ``@odata.context`` and ``@odata.etag``."""
    return {"@odata.context": context, "@odata.etag": make_etag(record), **record}


def collection_body(
    context: str,
    records: Iterable[dict[str, Any]],
    count: int | None = None,
    next_link: str | None = None,
    etag_source: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A collection response: context, optional count, rows with ETags, optional next link.

    ``etag_source`` gives the full rows when ``records`` were narrowed by ``$select`` so
    the ETag still reflects the whole record.
    """
    rows = list(records)
    sources = list(etag_source) if etag_source is not None else rows
    body: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        body["@odata.count"] = count
    body["value"] = [
        {"@odata.etag": make_etag(src), **row} for row, src in zip(rows, sources, strict=True)
    ]
    if next_link is not None:
        body["@odata.nextLink"] = next_link
    return body


def error_body(code: str, message: str) -> dict[str, Any]:
    """The OData error shape ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}
