"""Object descriptions from BC's ``$metadata`` (EDMX), read once per connector.

``$metadata`` names each entity set's type and its properties with EDM types; which
properties BC computes (numbers of posted documents, totals, balances, stamps) is not
in it, so those are listed here from Microsoft's v2.0 API pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree

from isthmus.connectors.base import FieldDescription, FieldType, ObjectDescription
from isthmus.errors import IsthmusError

_EDM: Mapping[str, FieldType] = {
    "Edm.String": "string",
    "Edm.Guid": "id",
    "Edm.Decimal": "decimal",
    "Edm.Double": "decimal",
    "Edm.Int32": "integer",
    "Edm.Int64": "integer",
    "Edm.Boolean": "boolean",
    "Edm.Date": "date",
    "Edm.DateTimeOffset": "datetime",
}
COMPUTED = frozenset(
    {
        "id",
        "lastModifiedDateTime",
        "balanceDue",
        "inventory",
        "totalAmountExcludingTax",
        "totalTaxAmount",
        "totalAmountIncludingTax",
        "remainingAmount",
        "shippedQuantity",
        "invoicedQuantity",
        "amountExcludingTax",
        "amountIncludingTax",
        "status",
    }
)
# Document headers get their number from BC's number series; master data may be numbered
# by the caller.
NUMBERED_BY_BC = frozenset(
    {"salesQuotes", "salesOrders", "salesInvoices", "salesCreditMemos", "salesShipments"}
)
# The field that holds Isthmus's idempotency key when the config names none.
DOCUMENTS = ("salesQuotes", "salesOrders", "salesInvoices", "salesCreditMemos")
DEFAULT_KEYS: Mapping[str, str] = dict.fromkeys(DOCUMENTS, "externalDocumentNumber")
LINES: Mapping[str, str] = {
    "salesQuotes": "salesQuoteLines",
    "salesOrders": "salesOrderLines",
    "salesInvoices": "salesInvoiceLines",
    "salesCreditMemos": "salesCreditMemoLines",
    "salesShipments": "salesShipmentLines",
}
_NS = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}


def entity_types(metadata: str) -> dict[str, list[tuple[str, str]]]:
    """Entity set name -> [(property, EDM type)] from an EDMX document."""
    try:
        root = ElementTree.fromstring(metadata)
    except ElementTree.ParseError as error:
        raise IsthmusError(f"Business Central's $metadata is not XML: {error}") from None
    types: dict[str, list[tuple[str, str]]] = {}
    for entity in root.iter(f"{{{_NS['edm']}}}EntityType"):
        types[entity.get("Name", "")] = [
            (prop.get("Name", ""), prop.get("Type", "Edm.String"))
            for prop in entity.findall("edm:Property", _NS)
        ]
    sets: dict[str, list[tuple[str, str]]] = {}
    for entity_set in root.iter(f"{{{_NS['edm']}}}EntitySet"):
        type_name = entity_set.get("EntityType", "").rsplit(".", 1)[-1]
        if type_name in types:
            sets[entity_set.get("Name", "")] = types[type_name]
    return sets


def to_description(
    set_name: str, properties: list[tuple[str, str]], external_key: str | None
) -> ObjectDescription:
    fields: dict[str, FieldDescription] = {}
    for name, edm in properties:
        kind = _EDM.get(edm, "string")
        read_only = name in COMPUTED or (name == "number" and set_name in NUMBERED_BY_BC)
        fields[name] = FieldDescription(
            name,
            "reference" if kind == "id" and name != "id" else kind,
            read_only=read_only and name != external_key,
            external_id=name == external_key,
        )
    lines = LINES.get(set_name)
    if lines:  # deep insert: a document's lines travel inside it
        fields[lines] = FieldDescription(lines, "json")
    return ObjectDescription(
        set_name, "id", fields, external_key=external_key, deletable=set_name not in ("companies",)
    )
