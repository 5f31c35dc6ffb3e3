"""The in-memory connector passes the conformance suite every connector must pass."""

from __future__ import annotations

import pytest

from isthmus.connectors.base import FieldDescription, NativeFields
from isthmus.testing.conformance import ConformanceCase, ConformanceSubject, ConnectorConformance
from isthmus.testing.memory import MemoryConnector, describe_object

ACCOUNT = describe_object(
    "Account",
    {
        "Name": FieldDescription("Name", "string", 80, required=True),
        "AccountNumber": FieldDescription("AccountNumber", "string", 40, unique=True),
        "Rating": FieldDescription("Rating", "picklist", picklist=("Hot", "Warm", "Cold")),
    },
    external_key="Isthmus_Id__c",
)


def make(n: int) -> NativeFields:
    return {"Name": f"Account {n}", "AccountNumber": f"A-{n:05d}", "Rating": "Warm"}


def edit(fields: NativeFields) -> NativeFields:
    return {"Name": f"{fields['Name']} (renamed)", "Rating": "Hot"}


SUBJECT = ConformanceSubject(
    object_name="Account",
    make=make,
    edit=edit,
    compare=("Name", "AccountNumber", "Rating"),
    lookup_field="AccountNumber",
    invalid=({"Name": "x" * 81, "AccountNumber": "A-bad"}, "Name"),
)


class TestMemoryConnector(ConnectorConformance):
    @pytest.fixture
    def conformance(self) -> ConformanceCase:
        return ConformanceCase(lambda: MemoryConnector("crm", [ACCOUNT]), SUBJECT)


class TestMemoryConnectorWithWebhooks(ConnectorConformance):
    """The same promises hold with webhooks enabled (an unsigned one is still refused)."""

    @pytest.fixture
    def conformance(self) -> ConformanceCase:
        return ConformanceCase(
            lambda: MemoryConnector("crm", [ACCOUNT], webhook_secret="s3cret"), SUBJECT
        )
