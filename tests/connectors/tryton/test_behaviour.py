"""How the Tryton connector behaves where the conformance suite does not look: login and
connection failures, Tryton's refusals, workflows, object aliases, the change feed's
overlap, and its options."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from isthmus.connectors.base import WriteOp
from isthmus.connectors.registry import create_connector
from isthmus.connectors.tryton import TrytonConnector
from isthmus.errors import AuthError, ConfigError, TransientError
from tests.connectors.tryton.conftest import connector
from tests.connectors.tryton.rpc import Rpc
from tests.connectors.tryton.server import TrytonServer, free_port

T = TypeVar("T")


def run(
    server: TrytonServer, scenario: Callable[[TrytonConnector], Awaitable[T]], **options: Any
) -> T:
    async def body() -> T:
        erp = connector(server, **options)
        try:
            return await scenario(erp)
        finally:
            await erp.close()

    return asyncio.run(body())


def test_a_wrong_password_is_an_auth_error(tryton: TrytonServer) -> None:
    async def scenario(erp: TrytonConnector) -> None:
        with pytest.raises(AuthError, match="refused the login of 'admin'"):
            await erp.describe("party.party")

    run(tryton, scenario, password="not-the-password")


def test_an_unreachable_server_is_transient(tryton: TrytonServer) -> None:
    async def scenario(erp: TrytonConnector) -> None:
        with pytest.raises(TransientError, match="cannot reach"):
            await erp.describe("party.party")

    run(tryton, scenario, url=f"http://127.0.0.1:{free_port()}")


def test_a_refused_confirmation_leaves_no_half_made_sale(tryton: TrytonServer) -> None:
    rpc = Rpc(tryton)
    (party,) = rpc(
        "party.party",
        "create",
        [
            {
                "name": "Careful Ltd",
                "credit_limit_amount": Decimal(5),
                "addresses": [["create", [{}]]],
            }
        ],
    )
    (template,) = rpc(
        "product.template",
        "create",
        [
            {
                "name": "Bolt",
                "type": "service",
                "default_uom": tryton.ids["unit"],
                "sale_uom": tryton.ids["unit"],
                "account_category": tryton.ids["account_category"],
                "salable": True,
                "products": [["create", [{}]]],
            }
        ],
    )
    (product,) = rpc("product.product", "search", [("template", "=", template)])

    async def scenario(erp: TrytonConnector) -> None:
        line = {"product": str(product), "quantity": 2, "unit_price": Decimal(10)}
        good = {"party": str(party), "reference": "R-ok", "lines": [line]}
        refused = {**good, "reference": "R-refused", "state": "confirmed"}
        results = await erp.write(
            "sale.sale", [WriteOp("ok", "create", good), WriteOp("no", "create", refused)]
        )
        assert [r.outcome for r in results] == ["created", "failed"]
        error = results[1].error
        assert error is not None
        assert error.kind == "business"
        assert "credit limit" in (error.vendor_message or "")

    run(tryton, scenario)
    references = {
        s["reference"] for s in rpc.find("sale.sale", [("party", "=", party)], ["reference"])
    }
    assert references == {"R-ok"}, "the refused sale was deleted again; the draft one stays"
    rpc.close()


def test_tryton_refusals_fail_alone_with_trytons_message(tryton: TrytonServer) -> None:
    async def scenario(erp: TrytonConnector) -> None:
        await erp.write("party.party", [WriteOp("x", "create", {"name": "First", "code": "DUP"})])
        ops = [
            WriteOp("a", "create", {"name": "Fine"}),
            WriteOp("b", "create", {"name": "Second", "code": "DUP"}),
            WriteOp("c", "create", {"name": "Also fine"}),
        ]
        results = await erp.write("party.party", ops)
        assert [r.outcome for r in results] == ["created", "failed", "created"]
        error = results[1].error
        assert error is not None
        assert error.vendor_code == "UserError"
        assert "unique" in (error.vendor_message or ""), "Tryton's own words"

    run(tryton, scenario)


def test_an_alias_reads_only_its_domain_and_creates_with_its_defaults(
    tryton: TrytonServer,
) -> None:
    objects = {
        "emails": {
            "model": "party.contact_mechanism",
            "domain": [["type", "=", "email"]],
            "defaults": {"type": "email"},
        }
    }

    async def scenario(erp: TrytonConnector) -> None:
        (party,) = await erp.write(
            "party.party",
            [
                WriteOp(
                    "p", "create", {"name": "Mail Corp", "phone": "+33 1", "email": "a@mail.test"}
                )
            ],
        )
        (created,) = await erp.write(
            "emails", [WriteOp("m", "create", {"party": party.id, "value": "b@mail.test"})]
        )
        assert created.ok, created
        records = [
            r for page in [p async for p in erp.read_changes("emails", None)] for r in page.records
        ]
        mine = {r.fields["value"] for r in records if str(r.fields["party"]) == party.id}
        assert mine == {"a@mail.test", "b@mail.test"}, "the phone number is not an e-mail"
        (read,) = (await erp.read_by_ids("party.party", [party.id or ""])).values()
        assert (read.fields["phone"], read.fields["email"]) == ("+33 1", "a@mail.test")

    run(tryton, scenario, objects=objects)


def test_without_overlap_a_cursor_after_the_last_change_reads_nothing(
    tryton: TrytonServer,
) -> None:
    async def scenario(erp: TrytonConnector) -> None:
        await erp.write("party.party", [WriteOp("p", "create", {"name": "Quiet"})])
        cursor = None
        async for page in erp.read_changes("party.party", None, page_size=50):
            cursor = page.cursor
        later = [p async for p in erp.read_changes("party.party", cursor)]
        assert [r for page in later for r in page.records] == []
        (moved,) = await erp.write("party.party", [WriteOp("q", "create", {"name": "Loud"})])
        again = [
            r.id
            for p in [p async for p in erp.read_changes("party.party", cursor)]
            for r in p.records
        ]
        assert again == [moved.id]

    run(tryton, scenario, overlap_seconds=0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"database": "x", "user": "u", "password": "p"}, "options.url is required"),
        ({"url": "erp:8000", "database": "x", "user": "u", "password": "p"}, "http://"),
        ({"url": "http://e", "database": "x", "user": "u", "password": "p", "nope": 1}, "nope"),
        (
            {
                "url": "http://e",
                "database": "x",
                "user": "u",
                "password": "p",
                "objects": {"a": {"domain": 3}},
            },
            "domain",
        ),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_connector("tryton", "erp", options)


def test_an_invoice_created_as_posted_is_validated_then_posted(tryton: TrytonServer) -> None:
    rpc = Rpc(tryton)
    (party,) = rpc(
        "party.party", "create", [{"name": "Billed Ltd", "addresses": [["create", [{}]]]}]
    )
    (address,) = rpc("party.address", "search", [("party", "=", party)])
    rpc.close()
    line = {"account": tryton.ids["revenue"], "quantity": 2.0, "unit_price": Decimal("12.50")}
    invoice = {
        "type": "out",
        "party": str(party),
        "invoice_address": str(address),
        "account": str(tryton.ids["receivable"]),
        "journal": str(tryton.ids["revenue_journal"]),
        # Invoice lines are not a virtual field: Tryton's own one2many commands pass as is.
        "lines": [["create", [line]]],
        "state": "posted",
    }

    async def scenario(erp: TrytonConnector) -> None:
        (created,) = await erp.write("account.invoice", [WriteOp("i", "create", invoice)])
        assert created.ok, created
        (read,) = (await erp.read_by_ids("account.invoice", [created.id or ""])).values()
        assert read.fields["state"] == "posted"
        assert read.fields["number"], "Tryton numbered it when posting"
        assert read.fields["total_amount"] == Decimal("25.00")
        assert [ln["quantity"] for ln in read.fields["lines"]] == [Decimal(2)]

    run(tryton, scenario)
