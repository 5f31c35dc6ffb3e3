"""The Salesforce connector passes the conformance suite against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from isthmus.connectors.base import NativeFields
from isthmus.connectors.salesforce import SalesforceConnector
from isthmus.testing.conformance import ConformanceCase, ConformanceSubject, ConnectorConformance


def make(n: int) -> NativeFields:
    return {"Name": f"Account {n}", "AccountNumber": f"A-{n:05d}", "Industry": "Retail"}


def edit(fields: NativeFields) -> NativeFields:
    return {"Name": f"{fields['Name']} (renamed)", "Industry": "Energy"}


SUBJECT = ConformanceSubject(
    object_name="Account",
    make=make,
    edit=edit,
    compare=("Name", "AccountNumber", "Industry"),
    lookup_field="AccountNumber",
    invalid=({"Name": "x" * 256, "AccountNumber": "A-bad"}, "Name"),
)


class TestSalesforceConnector(ConnectorConformance):
    @pytest.fixture
    def conformance(self, connect: Callable[..., SalesforceConnector]) -> ConformanceCase:
        return ConformanceCase(connect, SUBJECT)
