"""One-time set-up of a fresh Tryton database: company, chart, fiscal year, and the few
records every sale and invoice needs. Runs in its own process (``python company_setup.py
DATABASE CONFIG_FILE``) because proteus in-process mode loads trytond's global config,
and prints the ids the tests use as one JSON line.

It uses the helpers Tryton ships for its own tests (``trytond.modules.*.tests.tools``),
over proteus in-process: 15 s against about 100 s through a running server.
"""

from __future__ import annotations

import json
import sys


def main(database: str, config_file: str) -> None:
    from proteus import Model, config

    config.set_trytond(database, config_file=config_file)

    from trytond.modules.account.tests.tools import (
        create_chart,
        create_fiscalyear,
        get_accounts,
    )
    from trytond.modules.account_invoice.tests.tools import (
        create_payment_term,
        set_fiscalyear_invoice_sequences,
    )
    from trytond.modules.company.tests.tools import create_company, get_company

    create_company()
    company = get_company()
    create_chart(company)
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company))
    fiscalyear.click("create_period")
    accounts = get_accounts(company)

    category = Model.get("product.category")(name="Goods", accounting=True)
    category.account_revenue = accounts["revenue"]
    category.account_expense = accounts["expense"]
    category.save()

    term = create_payment_term()
    term.save()

    journal = Model.get("account.payment.journal")(
        name="Manual", currency=company.currency, process_method="manual"
    )
    journal.save()

    price_list = Model.get("product.price_list")(name="Standard", price="list_price")
    price_list.save()

    # The integration user acts as sales and accounting (buttons are checked by group).
    User, Group = Model.get("res.user"), Model.get("res.group")
    admin = User(config.get_config().user)
    admin.groups.extend(
        Group.find(
            [
                (
                    "name",
                    "in",
                    [
                        "Sales",
                        "Sales Administrator",
                        "Accounting",
                        "Accounting Administrator",
                        "Payment",
                        "Payment Approval",
                        "Product Administration",
                        "Stock",
                        "Party Administration",
                    ],
                )
            ]
        )
    )
    admin.save()

    # The parties that are customers, so the CRM does not get suppliers or the company.
    Model.get("party.category")(name="Customer").save()

    # Tryton ships no countries (they come from an import script); addresses need a few.
    Country = Model.get("country.country")
    for code, name in (("US", "United States"), ("FR", "France"), ("DE", "Germany")):
        Country(name=name, code=code).save()

    unit = Model.get("product.uom").find([("name", "=", "Unit")])[0]
    (revenue_journal,) = Model.get("account.journal").find([("code", "=", "REV")])
    print(
        json.dumps(
            {
                "company": company.id,
                "currency": company.currency.id,
                "account_category": category.id,
                "payment_term": term.id,
                "payment_journal": journal.id,
                "price_list": price_list.id,
                "unit": unit.id,
                "receivable": accounts["receivable"].id,
                "revenue": accounts["revenue"].id,
                "revenue_journal": revenue_journal.id,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
