"""An independent OData v4 client (python-odata) reads $metadata, pages, filters, creates."""

from __future__ import annotations

import requests
from odata import ODataService

from tests.sandbox.business_central.conftest import Sandbox


def _service(sandbox: Sandbox) -> ODataService:
    session = requests.Session()
    session.headers["Authorization"] = sandbox.http.headers["Authorization"]
    return ODataService(
        sandbox.company + "/", reflect_entities=True, session=session, quiet_progress=True
    )


def test_python_odata_reflects_pages_filters_and_creates(sandbox: Sandbox) -> None:
    service = _service(sandbox)
    customer_type = service.entities["customers"]
    every = list(service.query(customer_type))
    # Page size is 5, so the client had to follow @odata.nextLink twice.
    assert len(every) == 12
    first = every[0]
    matches = service.query(customer_type).filter(customer_type.number == first.number).all()
    assert [m.displayName for m in matches] == [first.displayName]
    new_customer = customer_type()
    new_customer.displayName = "Made by python-odata"
    new_customer.city = "Oslo"
    service.save(new_customer)
    found = sandbox.http.get(
        f"{sandbox.company}/customers", params={"$filter": "displayName eq 'Made by python-odata'"}
    ).json()["value"]
    assert len(found) == 1
    assert found[0]["city"] == "Oslo"
