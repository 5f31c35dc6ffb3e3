"""The connector conformance suite against the Business Central sandbox (customers)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from isthmus.connectors.base import NativeFields
from isthmus.connectors.business_central import BusinessCentralConnector
from isthmus.testing.conformance import ConformanceCase, ConformanceSubject, ConnectorConformance


def make(n: int) -> NativeFields:
    return {"displayName": f"Customer {n}", "email": f"c{n}@example.com", "city": "Lyon"}


def edit(fields: NativeFields) -> NativeFields:
    return {"displayName": f"{fields['displayName']} (renamed)", "city": "Nantes"}


SUBJECT = ConformanceSubject(
    object_name="customers",
    make=make,
    edit=edit,
    compare=("displayName", "email", "city"),
    lookup_field="email",
    invalid=({"displayName": "Bad", "creditLimitt": 5}, "creditLimitt"),
)


class TestBusinessCentralConnector(ConnectorConformance):
    @pytest.fixture
    def conformance(self, connect: Callable[..., BusinessCentralConnector]) -> ConformanceCase:
        return ConformanceCase(
            lambda: connect(objects={"customers": {"external_key": "number"}}), SUBJECT
        )
