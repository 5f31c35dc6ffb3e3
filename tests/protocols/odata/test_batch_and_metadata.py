"""``$batch`` parsing, limits, change-set rollback; CSDL metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from isthmus.protocols.odata import (
    BatchError,
    BatchRequest,
    BatchResponse,
    EntityType,
    NavigationProperty,
    Property,
    ServiceModel,
    run_batch,
)
from isthmus.protocols.odata.batch import parse_batch


def _store_handler(store: dict[str, int]):  # type: ignore[no-untyped-def]
    def handle(request: BatchRequest) -> BatchResponse:
        if request.body.get("fail"):
            return BatchResponse(request.id, 400, {"error": {"code": "Bad", "message": "no"}})
        store[request.id] = request.body["v"]
        return BatchResponse(request.id, 201, {"v": request.body["v"]})

    return handle


def test_change_set_rolls_back_when_a_member_fails() -> None:
    store: dict[str, int] = {}
    requests = parse_batch(
        {
            "requests": [
                {"id": "1", "method": "post", "url": "a", "body": {"v": 1}},
                {"id": "2", "method": "POST", "url": "a", "body": {"v": 2}, "atomicityGroup": "g"},
                {
                    "id": "3",
                    "method": "POST",
                    "url": "a",
                    "body": {"fail": True},
                    "atomicityGroup": "g",
                },
                {"id": "4", "method": "POST", "url": "a", "body": {"v": 4}},
            ]
        }
    )
    responses = run_batch(
        requests,
        _store_handler(store),
        lambda: dict(store),
        lambda s: (store.clear(), store.update(s)),
    )  # type: ignore[func-returns-value]
    assert [r.status for r in responses] == [201, 424, 400, 201]
    assert store == {"1": 1, "4": 4}
    assert requests[0].method == "POST"


def test_batch_limit_and_shape() -> None:
    ops = [{"id": str(i), "method": "GET", "url": "x"} for i in range(101)]
    with pytest.raises(BatchError, match="limit is 100"):
        parse_batch({"requests": ops})
    assert len(parse_batch({"requests": ops[:100]})) == 100
    with pytest.raises(BatchError):
        parse_batch({"nope": []})
    with pytest.raises(BatchError, match="twice"):
        parse_batch({"requests": [ops[0], ops[0]]})


def test_metadata_is_valid_csdl() -> None:
    model = ServiceModel("Microsoft.NAV")
    model.add(
        EntityType(
            "salesOrderLine", (Property("id", "Edm.Guid"), Property("quantity", "Edm.Decimal"))
        )
    )
    model.add(
        EntityType(
            "salesOrder",
            (Property("id", "Edm.Guid"), Property("number")),
            navigation=(NavigationProperty("salesOrderLines", "salesOrderLine"),),
            bound_actions=("shipAndInvoice",),
        ),
        "salesOrders",
    )
    root = ET.fromstring(model.metadata_xml())
    ns = {"e": "http://docs.oasis-open.org/odata/ns/edm"}
    order = root.find(".//e:EntityType[@Name='salesOrder']", ns)
    assert order is not None
    nav = order.find("e:NavigationProperty", ns)
    assert nav is not None
    assert nav.get("Type") == "Collection(Microsoft.NAV.salesOrderLine)"
    assert root.find(".//e:EntitySet[@Name='salesOrders']", ns) is not None
    assert root.find(".//e:Action[@Name='shipAndInvoice']", ns) is not None
    with pytest.raises(ValueError, match="unknown EDM type"):
        Property("x", "Edm.Nope")
