"""The shipped Salesforce <-> Tryton config syncs the Salesforce sandbox with a real
trytond: accounts, contacts, products, prices, a quote that becomes a confirmed sale, a
posted invoice, a credit note and a payment; a credit-limit refusal from Tryton lands
as a business dead letter with Tryton's message and marks the Salesforce order.

Each side is checked through its own API: Salesforce's REST query on the sandbox, and
Tryton's JSON-RPC with a client of the test's own (``rpc.Rpc``), never the connector.
The tests act as people too: a sales rep in Salesforce, the order desk and accounting
in Tryton (adding sale lines, posting the invoice, recording the payment).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.runner import RunOptions
from isthmus.sandbox.salesforce.settings import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from isthmus.store.base import Store
from tests.connectors.salesforce.conftest import org
from tests.connectors.tryton.rpc import Rpc
from tests.connectors.tryton.server import TrytonServer
from tests.sandbox.salesforce.conftest import RunningSandbox

__all__ = ["org"]

EXAMPLE = (
    Path(__file__).parents[3] / "src" / "isthmus" / "connectors" / "tryton" / "example"
) / "isthmus.yaml"
API = "/services/data/v59.0"
FAST = RetryPolicy(initial_interval=0.0, maximum_interval=0.0, maximum_attempts=3)


@pytest.fixture
def rpc(tryton: TrytonServer) -> Iterator[Rpc]:
    client = Rpc(tryton)
    yield client
    client.close()


@pytest.fixture
def config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    org: RunningSandbox,
    tryton: TrytonServer,
    rpc: Rpc,
) -> Path:
    """The shipped example config, pointed at this sandbox and this trytond."""
    (warehouse,) = rpc("stock.location", "search", [("code", "=", "WH")])
    for name, value in {
        "ISTHMUS_STORE": f"sqlite:///{tmp_path}/state.db",
        "SF_LOGIN_URL": org.url,
        "SF_CLIENT_ID": DEFAULT_CLIENT_ID,
        "SF_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "TRYTON_URL": tryton.url,
        "TRYTON_DATABASE": tryton.database,
        "TRYTON_USER": tryton.user,
        "TRYTON_PASSWORD": tryton.password,
        "TRYTON_WAREHOUSE_ID": str(warehouse),
    }.items():
        monkeypatch.setenv(name, value)
    return EXAMPLE


@dataclass
class Ran:
    """What one run left: its reports, and the engine's store (still readable)."""

    store: Store
    reports: list[RunReport]


def sync(config: Path, *flows: str) -> Ran:
    """One run of the given flows (all by default)."""

    async def run() -> Ran:
        engine = Engine.from_config(load_config(config))
        try:
            reports = await engine.sync(list(flows) or None, options=RunOptions(retry=FAST))
            for report in reports:
                assert report.status in ("succeeded", "partial"), report
        finally:
            await engine.close()
        return Ran(engine.store, reports)

    return asyncio.run(run())


def replay(config: Path, letter_id: int) -> None:
    async def run() -> None:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.replay([letter_id], actor="test")
            assert report.status == "succeeded", report
        finally:
            await engine.close()

    asyncio.run(run())


def soql(org: RunningSandbox, query: str) -> list[dict[str, Any]]:
    with org.http() as client:
        answer = client.get(f"{API}/query", params={"q": query})
        answer.raise_for_status()
        return list(answer.json()["records"])


def sf_create(org: RunningSandbox, sobject: str, fields: dict[str, Any]) -> str:
    with org.http() as client:
        answer = client.post(f"{API}/sobjects/{sobject}", json=fields)
        answer.raise_for_status()
        return str(answer.json()["id"])


def sf_update(org: RunningSandbox, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
    with org.http() as client:
        client.patch(f"{API}/sobjects/{sobject}/{record_id}", json=fields).raise_for_status()


def add_sale_line(rpc: Rpc, sale_id: int, product_id: int, quantity: int, price: str) -> None:
    """The order desk prices the order in Tryton while it is a draft."""
    (unit,) = rpc("product.product", "read", [product_id], ["sale_uom"])
    rpc(
        "sale.sale",
        "write",
        [sale_id],
        {
            "lines": [
                [
                    "create",
                    [
                        {
                            "type": "line",
                            "product": product_id,
                            "unit": unit["sale_uom"],
                            "quantity": float(quantity),
                            "unit_price": Decimal(price),
                        }
                    ],
                ]
            ]
        },
    )


def test_accounts_contacts_products_prices_sale_invoice_payment(
    config: Path, org: RunningSandbox, rpc: Rpc, tryton: TrytonServer
) -> None:
    # A sales rep works in Salesforce.
    account = sf_create(
        org,
        "Account",
        {
            "Name": "Acme Corporation",
            "AccountNumber": "C-1001",
            "Phone": "+1 555 0100",
            "BillingStreet": "12 Main St",
            "BillingCity": "Springfield",
            "BillingPostalCode": "12345",
            "BillingCountry": "US",
        },
    )
    sf_create(
        org,
        "Contact",
        {
            "AccountId": account,
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Email": "ada@acme.test",
        },
    )
    product = sf_create(
        org, "Product2", {"Name": "Widget", "ProductCode": "W-100", "IsActive": True}
    )
    pricebook = sf_create(org, "Pricebook2", {"Name": "Standard", "IsActive": True})
    sf_create(
        org,
        "PricebookEntry",
        {"Pricebook2Id": pricebook, "Product2Id": product, "UnitPrice": 25.5, "IsActive": True},
    )
    sync(config, "customers", "contacts", "products", "prices")

    # Tryton holds them, read through its own API.
    (party,) = rpc.find("party.party", [("code", "=", "C-1001")], ["name", "phone"])
    assert (party["name"], party["phone"]) == ("Acme Corporation", "+1 555 0100")
    (address,) = rpc.find(
        "party.address",
        [("party", "=", party["id"])],
        ["street", "city", "postal_code", "country.code"],
    )
    assert (address["street"], address["city"], address["postal_code"]) == (
        "12 Main St",
        "Springfield",
        "12345",
    )
    assert address["country."]["code"] == "US"
    (mechanism,) = rpc.find(
        "party.contact_mechanism", [("type", "=", "email")], ["party", "value", "name"]
    )
    assert (mechanism["party"], mechanism["value"], mechanism["name"]) == (
        party["id"],
        "ada@acme.test",
        "Lovelace",
    )
    (widget,) = rpc.find("product.product", [("code", "=", "W-100")], ["name", "salable"])
    assert widget["name"] == "Widget"
    (price,) = rpc.find("product.price_list.line", [("product", "=", widget["id"])], ["formula"])
    assert Decimal(price["formula"]) == Decimal("25.5")

    # Accounting sets the credit limit in Tryton; it reaches the CRM.
    rpc("party.party", "write", [party["id"]], {"credit_limit_amount": Decimal(5000)})
    sync(config, "customers")
    (crm_account,) = soql(org, f"SELECT Credit_Limit__c FROM Account WHERE Id = '{account}'")
    assert crm_account["Credit_Limit__c"] == 5000

    # A draft order in Salesforce becomes a draft sale, priced by the order desk.
    order = sf_create(
        org,
        "Order",
        {
            "AccountId": account,
            "EffectiveDate": date.today().isoformat(),
            "Status": "Draft",
            "OrderReferenceNumber": "PO-77",
        },
    )
    sync(config, "orders")
    (sale,) = rpc.find("sale.sale", [("reference", "=", "PO-77")], ["state", "party"])
    assert (sale["state"], sale["party"]) == ("draft", party["id"])
    add_sale_line(rpc, sale["id"], widget["id"], 4, "25.50")

    # Activated in Salesforce: Tryton quotes and confirms it, and invoices it.
    sf_update(org, "Order", order, {"Status": "Activated"})
    sync(config, "orders")
    (sale,) = rpc.find("sale.sale", [("id", "=", sale["id"])], ["state", "invoices", "number"])
    assert sale["state"] == "processing", "confirmed, then processed by Tryton itself"
    (invoice_id,) = sale["invoices"]
    (crm_order,) = soql(org, f"SELECT Sync_Status__c FROM Order WHERE Id = '{order}'")
    assert crm_order["Sync_Status__c"] != "Error"

    # Accounting posts the invoice in Tryton; it reaches the CRM with its number.
    rpc("account.invoice", "post", [invoice_id])
    (invoice,) = rpc.find(
        "account.invoice", [("id", "=", invoice_id)], ["number", "total_amount", "lines_to_pay"]
    )
    assert invoice["total_amount"] == Decimal("102.00")
    # ... and a credit note for a damaged widget.
    credit_note = rpc(
        "account.invoice",
        "create",
        [
            {
                "type": "out",
                "party": party["id"],
                "invoice_address": address["id"],
                "account": tryton.ids["receivable"],
                "journal": tryton.ids["revenue_journal"],
                "description": "Damaged widget",
                "lines": [
                    [
                        "create",
                        [
                            {
                                "account": tryton.ids["revenue"],
                                "quantity": -1.0,
                                "unit_price": Decimal("25.50"),
                                "description": "Damaged widget",
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    rpc("account.invoice", "post", credit_note)
    (note,) = rpc.find("account.invoice", [("id", "in", credit_note)], ["number"])

    # The customer pays: accounting records a receivable payment and marks it succeeded.
    (payment_id,) = rpc(
        "account.payment",
        "create",
        [
            {
                "company": rpc.context["company"],
                "kind": "receivable",
                "party": party["id"],
                "journal": tryton.ids["payment_journal"],
                "line": invoice["lines_to_pay"][0],
                "amount": Decimal("102.00"),
                "date": date.today(),
                "reference": "wire 4711",
            }
        ],
    )
    rpc("account.payment", "submit", [payment_id])
    rpc.wizard("account.payment.process", "account.payment", [payment_id], "process")
    rpc("account.payment", "succeed", [payment_id])
    (payment,) = rpc.find("account.payment", [("id", "=", payment_id)], ["number", "state"])
    assert payment["state"] == "succeeded"

    sync(config, "invoices", "credit_memos", "payments", "stock")
    (crm_invoice,) = soql(
        org,
        "SELECT Name, ERP_Invoice_Number__c, Account__c, Order__c, Amount__c, Status__c "
        "FROM ERP_Invoice__c",
    )
    assert crm_invoice["ERP_Invoice_Number__c"] == crm_invoice["Name"] == invoice["number"]
    assert (crm_invoice["Account__c"], crm_invoice["Order__c"]) == (account, order)
    assert (crm_invoice["Amount__c"], crm_invoice["Status__c"]) == (102, "Open")
    (crm_note,) = soql(
        org, "SELECT ERP_Credit_Memo_Number__c, Amount__c, Reason__c FROM ERP_Credit_Memo__c"
    )
    assert crm_note == {
        **crm_note,
        "ERP_Credit_Memo_Number__c": note["number"],
        "Amount__c": -25.5,
        "Reason__c": "Damaged widget",
    }
    (crm_payment,) = soql(
        org, "SELECT ERP_Payment_Number__c, Account__c, Amount__c FROM ERP_Payment__c"
    )
    assert (crm_payment["ERP_Payment_Number__c"], crm_payment["Account__c"]) == (
        payment["number"],
        account,
    )
    assert crm_payment["Amount__c"] == 102
    (stock,) = soql(org, "SELECT Product__c, Warehouse__c, Quantity_On_Hand__c FROM ERP_Stock__c")
    assert (stock["Product__c"], stock["Warehouse__c"]) == (product, "WH")

    # Another run writes nothing on either side: what came back is recognised as the
    # echo of what was written.
    ran = sync(config)
    for report in ran.reports:
        written = {k: n for k, n in report.counts.items() if k not in ("read", "echo")}
        assert not written, (report.flow, written)
    assert len(soql(org, "SELECT Id FROM ERP_Invoice__c")) == 1
    assert len(rpc.find("party.party", [("code", "=", "C-1001")], ["id"])) == 1
    assert not list(ran.store.dead_letters(status="open"))


def test_a_credit_limit_refusal_is_a_business_dead_letter_and_marks_the_order(
    config: Path, org: RunningSandbox, rpc: Rpc
) -> None:
    account = sf_create(org, "Account", {"Name": "Tiny Traders", "AccountNumber": "C-2002"})
    product = sf_create(org, "Product2", {"Name": "Gadget", "ProductCode": "G-200"})
    sync(config, "customers", "products")
    (party,) = rpc.find("party.party", [("code", "=", "C-2002")], ["id"])
    (gadget,) = rpc.find("product.product", [("code", "=", "G-200")], ["id"])
    assert product
    rpc("party.party", "write", [party["id"]], {"credit_limit_amount": Decimal(10)})

    order = sf_create(
        org,
        "Order",
        {
            "AccountId": account,
            "EffectiveDate": date.today().isoformat(),
            "Status": "Draft",
            "OrderReferenceNumber": "PO-88",
        },
    )
    sync(config, "orders")
    (sale,) = rpc.find("sale.sale", [("reference", "=", "PO-88")], ["id"])
    add_sale_line(rpc, sale["id"], gadget["id"], 2, "40")
    sf_update(org, "Order", order, {"Status": "Activated"})
    ran = sync(config, "orders")

    (letter,) = ran.store.dead_letters(flow="orders", status="open")
    assert letter.kind == "business"
    assert letter.native_id == order
    assert "credit limit" in (letter.vendor_message or ""), letter
    assert "Tiny Traders" in letter.message, "the dead letter carries Tryton's own message"
    (crm_order,) = soql(org, f"SELECT Sync_Status__c FROM Order WHERE Id = '{order}'")
    assert crm_order["Sync_Status__c"] == "Error"
    (sale,) = rpc.find("sale.sale", [("id", "=", sale["id"])], ["state"])
    assert sale["state"] in ("draft", "quotation"), "Tryton did not confirm the sale"

    # Accounting raises the limit; the dead letter is replayed; the order goes through.
    rpc("party.party", "write", [party["id"]], {"credit_limit_amount": Decimal(1000)})
    replay(config, letter.id or 0)
    (sale,) = rpc.find("sale.sale", [("id", "=", sale["id"])], ["state"])
    assert sale["state"] == "processing"
    (crm_order,) = soql(org, f"SELECT Sync_Status__c FROM Order WHERE Id = '{order}'")
    assert crm_order["Sync_Status__c"] == "Synced", "the CRM sees the refusal is over"


def test_a_party_deleted_in_tryton_is_found_by_reconciliation(
    config: Path, org: RunningSandbox, rpc: Rpc
) -> None:
    sf_create(org, "Account", {"Name": "Gone Soon", "AccountNumber": "C-3003"})
    sync(config, "customers")
    (party,) = rpc.find("party.party", [("code", "=", "C-3003")], ["id"])
    rpc("party.party", "delete", [party["id"]])

    async def reconcile() -> Any:
        engine = Engine.from_config(load_config(config))
        try:
            (report,) = await engine.reconcile(["customers"])
            return report
        finally:
            await engine.close()

    report = asyncio.run(reconcile())
    orphaned = [d for d in report.drifts if d.kind == "orphaned"]
    assert [(d.system, d.native_id) for d in orphaned] == [("erp", str(party["id"]))], (
        "Tryton keeps no tombstones: reconciliation finds the delete the feed cannot see"
    )
