"""The connector against trytond on the machine's PostgreSQL: a party, a product and a
sale with lines confirmed through Tryton's buttons, found again by the change feed; a
stale write is refused as a conflict.

The first run on a machine prepares the template database (about 3 minutes: Tryton
activates its modules); later runs copy it in a second.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from isthmus.connectors.base import WriteOp
from tests.connectors.tryton.conftest import connector
from tests.connectors.tryton.server import TrytonServer, postgres_server

PG_HOST = os.environ.get("ISTHMUS_TEST_PG_HOST", "127.0.0.1:5432")
ADMIN_URL = f"postgresql://postgres@{PG_HOST}/test"
SERVER_URI = f"postgresql://postgres@{PG_HOST}/"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def tryton_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_HOST}: {error}")
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}: {error}")
    with postgres_server(tmp_path_factory.mktemp("tryton-pg"), ADMIN_URL, SERVER_URI) as server:
        yield server


def test_a_sale_is_confirmed_through_its_buttons_on_postgresql(
    tryton_pg: TrytonServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        erp = connector(
            tryton_pg,
            objects={
                "product.product": {
                    "defaults": {
                        "type": "service",
                        "salable": True,
                        "default_uom": {"search": [["name", "=", "Unit"]]},
                        "sale_uom": {"search": [["name", "=", "Unit"]]},
                        "account_category": {"search": [["name", "=", "Goods"]]},
                    }
                }
            },
        )
        try:
            (party,) = await erp.write(
                "party.party",
                [WriteOp("p", "create", {"name": "Postgres Inc", "address.city": "Bern"})],
            )
            (product,) = await erp.write(
                "product.product",
                [WriteOp("x", "create", {"name": "Support hour", "code": "S-1"})],
            )
            assert party.ok, party
            assert product.ok, product
            # No price on the line: the product's list price (80) is taken.
            await erp.write(
                "product.product", [WriteOp("lp", "update", {"list_price": "80"}, id=product.id)]
            )
            line = {"product": product.id, "quantity": "3"}
            (sale,) = await erp.write(
                "sale.sale",
                [
                    WriteOp(
                        "s",
                        "create",
                        {"party": party.id, "lines": [line], "state": "confirmed"},
                    )
                ],
            )
            assert sale.ok, sale
            found = await erp.read_by_ids("sale.sale", [sale.id or ""])
            record = found[sale.id or ""].fields
            assert record["state"] == "processing"
            assert record["total_amount"] == Decimal("240")
            assert [ln["quantity"] for ln in record["lines"]] == [Decimal(3)]

            pages = [page async for page in erp.read_changes("party.party", None)]
            assert party.id in {r.id for page in pages for r in page.records}

            stale = "1.0"  # a timestamp from long ago: the record changed since
            (refused,) = await erp.write(
                "party.party",
                [WriteOp("u", "update", {"name": "Renamed"}, id=party.id, if_match=stale)],
            )
            assert refused.error is not None
            assert refused.error.kind == "conflict", refused.error
        finally:
            await erp.close()

    asyncio.run(scenario())
