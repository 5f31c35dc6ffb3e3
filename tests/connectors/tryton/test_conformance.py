"""The Tryton connector passes the conformance suite against a real trytond."""

from __future__ import annotations

import itertools

import pytest

from isthmus.connectors.base import NativeFields
from isthmus.testing.conformance import ConformanceCase, ConformanceSubject, ConnectorConformance
from tests.connectors.tryton.conftest import connector
from tests.connectors.tryton.rpc import Rpc
from tests.connectors.tryton.server import TrytonServer

# The suite creates records numbered 1, 2, 3... in every test; one database serves the
# whole module, so each test's numbers get a prefix of their own.
_RUNS = itertools.count(1)


def _subject(run: int) -> ConformanceSubject:
    def make(n: int) -> NativeFields:
        return {"name": f"Party {run}-{n}", "code": f"C{run:03d}-{n:05d}", "address.city": "Lyon"}

    def edit(fields: NativeFields) -> NativeFields:
        return {"name": f"{fields['name']} (renamed)", "address.city": "Paris"}

    return ConformanceSubject(
        object_name="party.party",
        make=make,
        edit=edit,
        compare=("name", "code", "address.city"),
        lookup_field="code",
        invalid=({"name": "Bad", "address.country": "ZZ"}, "address.country"),
    )


class TestTrytonConnector(ConnectorConformance):
    @pytest.fixture
    def conformance(self, tryton: TrytonServer) -> ConformanceCase:
        return ConformanceCase(lambda: connector(tryton, batch_size=25), _subject(next(_RUNS)))


def _sales(run: int, party: int) -> ConformanceSubject:
    def make(n: int) -> NativeFields:
        return {"party": str(party), "description": f"Sale {run}-{n}", "comment": "as ordered"}

    def edit(fields: NativeFields) -> NativeFields:
        return {"description": f"{fields['description']} (changed)", "comment": "revised"}

    return ConformanceSubject(
        object_name="sale.sale",
        make=make,
        edit=edit,
        compare=("description", "comment"),
        lookup_field="description",
        invalid=({"party": str(party), "invoice_method": "bogus"}, "invoice_method"),
    )


class TestTrytonConnectorWithAnExternalKey(ConnectorConformance):
    """Sales, with the customer reference as the idempotency key field."""

    @pytest.fixture
    def conformance(self, tryton: TrytonServer) -> ConformanceCase:
        rpc = Rpc(tryton)
        try:
            (party,) = rpc("party.party", "create", [{"name": "Conformance customer"}])
        finally:
            rpc.close()
        return ConformanceCase(
            lambda: connector(
                tryton, batch_size=25, objects={"sale.sale": {"external_key": "reference"}}
            ),
            _sales(next(_RUNS), party),
        )
