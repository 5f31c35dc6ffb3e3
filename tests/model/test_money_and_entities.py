"""Canonical model: money is Decimal with a currency, floats are refused, entities are strict."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from isthmus.model import Customer, Money, SalesOrder, SalesOrderLine, entity_type


def test_money_parses_strings_and_normalises_currency() -> None:
    money = Money(amount="1234.50", currency=" eur ")
    assert money.amount == Decimal("1234.50")
    assert money.currency == "EUR"
    assert str(money) == "1234.50 EUR"


@pytest.mark.parametrize("bad", [1.5, "abc", True, "NaN", "Infinity"])
def test_money_refuses_floats_and_junk(bad: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount=bad, currency="EUR")
    assert "amount" in str(caught.value)


@pytest.mark.parametrize("bad", ["EURO", "eu", "", 978])
def test_money_refuses_bad_currencies(bad: object) -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money(amount="1", currency=bad)


def test_adding_different_currencies_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot add USD to EUR"):
        Money(amount="1", currency="EUR") + Money(amount="1", currency="USD")


def test_customer_refuses_unknown_fields_and_float_credit_limits() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Customer(name="Acme", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="floats"):
        Customer(name="Acme", credit_limit={"amount": 10.1, "currency": "EUR"})


def test_order_lines_keep_ordered_shipped_and_invoiced_quantities() -> None:
    line = SalesOrderLine(
        line_no=1,
        product_id="p",
        ordered_quantity="10",
        shipped_quantity="4",
        invoiced_quantity="2",
        unit_price={"amount": "9.99", "currency": "EUR"},
        status="partially_shipped",
    )
    order = SalesOrder(customer_id="c", currency="eur", lines=(line,))
    assert order.currency == "EUR"
    assert order.lines[0].shipped_quantity == Decimal(4)
    with pytest.raises(ValidationError):
        SalesOrderLine(
            line_no=1,
            product_id="p",
            ordered_quantity=1.0,
            unit_price={"amount": "1", "currency": "EUR"},
        )


def test_entity_type_names_the_known_entities_on_a_typo() -> None:
    assert entity_type("customer") is Customer
    with pytest.raises(KeyError, match="known entities: contact, credit_memo"):
        entity_type("custmer")
