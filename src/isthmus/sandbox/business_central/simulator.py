"""Optional activity simulator: the back office at work, so ERP-to-CRM flows see traffic.

Each tick does one thing a real accounts and warehouse team would do: take an order, ship
part of an order, post a draft invoice, collect a payment, or credit an invoice. Choices
come from a seeded generator, so a run is reproducible given the same timing.
"""

from __future__ import annotations

import random
import threading
from decimal import Decimal

from isthmus.sandbox.business_central import posting
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.business_central.documents import BusinessRuleError, insert_document
from isthmus.sandbox.business_central.store import CompanyStore


class ActivitySimulator:
    """Runs :meth:`step` every ``simulate_interval_seconds`` on a daemon thread."""

    def __init__(self, store: CompanyStore, company_id: str, config: SandboxConfig) -> None:
        self._store = store
        self._company = company_id
        self._interval = config.simulate_interval_seconds
        self._rng = random.Random(config.seed + 1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bc-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.step()

    def step(self) -> str:
        """Do one business activity; returns what was done (for logs and tests)."""
        activities = (
            self._take_order,
            self._ship_part,
            self._collect_payment,
            self._credit_invoice,
        )
        with self._store.lock:
            for activity in self._rng.sample(activities, len(activities)):
                saved = self._store.snapshot()
                try:
                    done = activity()
                except BusinessRuleError:
                    # The ERP refused (credit limit, blocked): undo and try something else.
                    self._store.restore(saved)
                    continue
                if done:
                    return done
        return "idle"

    def _take_order(self) -> str:
        customers = self._store.rows(self._company, "customers")
        items = self._store.rows(self._company, "items")
        if not customers or not items:
            return ""
        customer = self._rng.choice(customers)
        lines = [
            {"itemId": item["id"], "quantity": self._rng.randint(1, 5)}
            for item in self._rng.sample(items, min(len(items), self._rng.randint(1, 3)))
        ]
        order = insert_document(
            self._store,
            self._company,
            "salesOrders",
            {"customerId": customer["id"], "salesOrderLines": lines},
        )
        return f"took order {order['number']}"

    def _ship_part(self) -> str:
        orders = self._store.rows(self._company, "salesOrders")
        if not orders:
            return ""
        order = self._rng.choice(orders)
        for line in self._store.lines_of(self._company, "salesOrderLines", order["id"]):
            remaining = line["quantity"] - line["shippedQuantity"]
            line["shipQuantity"] = (
                Decimal(self._rng.randint(0, int(remaining))) if remaining else remaining
            )
            line.pop("invoiceQuantity", None)
        posting.ship_and_invoice(self._store, self._company, order["id"])
        return f"shipped and invoiced part of {order['number']}"

    def _open_invoices(self) -> list[dict[str, object]]:
        return [
            i for i in self._store.rows(self._company, "salesInvoices") if i["status"] == "Open"
        ]

    def _collect_payment(self) -> str:
        invoices = self._open_invoices()
        if not invoices:
            return ""
        invoice = self._rng.choice(invoices)
        remaining = Decimal(str(invoice["remainingAmount"]))
        amount = (
            remaining if self._rng.random() < 0.7 else (remaining / 2).quantize(Decimal("0.01"))
        )
        posting.apply_payment(
            self._store,
            self._company,
            {
                "customerId": invoice["customerId"],
                "amount": amount,
                "appliesToInvoiceId": invoice["id"],
            },
        )
        return f"collected {amount} on {invoice['number']}"

    def _credit_invoice(self) -> str:
        invoices = self._open_invoices()
        if not invoices or self._rng.random() > 0.2:
            return ""
        invoice = self._rng.choice(invoices)
        memo = posting.make_corrective_credit_memo(self._store, self._company, str(invoice["id"]))
        posting.post_credit_memo(self._store, self._company, memo["id"])
        return f"credited {invoice['number']}"
