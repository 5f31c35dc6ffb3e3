"""The mapper: table tests per rule shape, and to_canonical(to_native(x)) == x."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isthmus.connectors.base import FieldDescription, ObjectDescription
from isthmus.errors import LookupUnresolved
from isthmus.mapping import Mapper, MappingContext, MappingError, load_mapping, parse_mapping
from isthmus.mapping.transforms.address import number_order, split_block
from isthmus.model import Customer, Money, PostalAddress
from isthmus.model.flat import expand, flatten

FIXTURES = Path(__file__).parent / "fixtures"
SF = Mapper(load_mapping(FIXTURES / "salesforce_account.yaml"))
ERP = Mapper(load_mapping(FIXTURES / "erp_customer.yaml"))
CRM = MappingContext(system="crm")


class Links:
    def canonical_id(self, entity: str, system: str, native_id: str) -> str | None:
        return {"001A": "c-1"}.get(native_id)

    def native_id(self, entity: str, canonical_id: str, system: str) -> str | None:
        return {"c-1": "001A"}.get(canonical_id)


def mapper(rules: str, entity: str = "customer") -> Mapper:
    text = f"name: t\nentity: {entity}\nobject: O\nfields:\n{rules}"
    return Mapper(parse_mapping(text, "t.yaml"))


def test_salesforce_account_to_canonical() -> None:
    native = {
        "Name": "Acme",
        "BillingStreet": "c/o AP\n12 Main St\nSuite 4",
        "BillingCountryCode": "us",
        "BillingPostalCode": 10001,
        "Credit_Limit__c": Decimal("5000.50"),
        "CurrencyIsoCode": "usd",
        "Payment_Terms__c": "Net 30",
        "Credit_Hold__c": "false",
    }
    flat = SF.to_canonical(native, CRM).fields
    assert flat["billing_address.street"] == "Main St"
    assert flat["billing_address.house_number"] == "12"
    assert flat["billing_address.extra_lines"] == ["c/o AP", "Suite 4"]
    assert flat["billing_address.country"] == "US"
    assert flat["billing_address.postal_code"] == "10001"
    assert flat["credit_limit.amount"] == "5000.5"
    assert flat["credit_limit.currency"] == flat["currency"] == "USD"
    assert flat["payment_terms"] == "net_30"
    assert flat["credit_hold"] is False
    assert flat["active"] is True
    assert flat["balance.amount"] is None


def test_to_native_writes_every_field_and_constants() -> None:
    out = SF.to_native({"name": "Acme"}, CRM).fields
    assert set(out) == set(SF.native_fields("to_native"))
    assert out["Type"] == "Customer"
    assert "Balance__c" not in out


def test_paths_and_fields_by_direction() -> None:
    assert "balance.amount" in SF.canonical_paths("to_canonical")
    assert "balance.amount" not in SF.canonical_paths("to_native")
    assert "active" not in SF.canonical_paths("to_native")
    assert SF.native_field_for("billing_address.city") == "BillingCity"
    assert SF.native_field_for("billing_address.street") is None
    assert ERP.native_field_for("billing_address.street") == "street"
    assert ERP.native_field_for("credit_limit.amount") == "credit_limit_lcy"
    assert SF.entity == "customer"


def test_truncation_uses_the_described_length_and_warns() -> None:
    described = ObjectDescription("Account", "Id", {"Name": FieldDescription("Name", length=5)})
    ctx = MappingContext(system="crm", description=described)
    mapped = SF.to_native({"name": "Acme Corporation"}, ctx)
    assert mapped.fields["Name"] == "Acme "
    assert len(mapped.warnings) == 1
    assert "cut to 5" in mapped.warnings[0]
    assert SF.to_native({"name": "Acme"}, ctx).warnings == ()


def test_max_length_wins_over_no_description() -> None:
    mapped = ERP.to_native({"name": "x" * 60}, CRM)
    assert mapped.fields["name"] == "x" * 50
    assert mapped.warnings


def test_rounding_warns() -> None:
    flat = {"credit_limit.amount": "10.005", "credit_limit.currency": "EUR", "currency": "EUR"}
    mapped = ERP.to_native(flat, CRM)
    assert mapped.fields["credit_limit_lcy"] == Decimal("10.00")
    assert "rounded" in mapped.warnings[0]


def test_unmapped_picklist_value_is_a_located_error() -> None:
    with pytest.raises(MappingError) as caught:
        SF.to_canonical({"Payment_Terms__c": "Net 45"}, CRM)
    error = caught.value
    assert error.field == "Payment_Terms__c"
    assert error.value == "Net 45"
    assert "salesforce_account.yaml:" in str(error)
    record = error.to_record_error()
    assert record.kind == "validation"
    assert record.field == "Payment_Terms__c"


def test_currencies_that_disagree_are_refused() -> None:
    flat = {"currency": "EUR", "credit_limit.amount": "5", "credit_limit.currency": "USD"}
    with pytest.raises(MappingError, match="must agree"):
        SF.to_native(flat, CRM)


def test_constant_currency_is_checked_on_the_way_out() -> None:
    rules = "  - canonical: credit_limit\n    transform: money\n"
    rules += "    native: {amount: L, currency: {constant: EUR}}\n"
    money = mapper(rules)
    assert money.to_canonical({"L": "7"}, CRM).fields == {
        "credit_limit.amount": "7",
        "credit_limit.currency": "EUR",
    }
    with pytest.raises(MappingError, match="only in EUR"):
        money.to_native({"credit_limit.amount": "7", "credit_limit.currency": "USD"}, CRM)


def test_amount_without_currency() -> None:
    with pytest.raises(MappingError, match="currency"):
        SF.to_canonical({"Credit_Limit__c": "5"}, CRM)


def test_float_money_is_refused() -> None:
    with pytest.raises(MappingError, match="float"):
        SF.to_canonical({"Credit_Limit__c": 5.5, "CurrencyIsoCode": "EUR"}, CRM)


def test_lookup_both_ways_and_unresolved() -> None:
    contact = mapper(
        "  - {canonical: last_name, native: L}\n"
        "  - {canonical: customer_id, native: AccountId, lookup: customer}\n",
        "contact",
    )
    ctx = MappingContext(system="crm", resolver=Links())
    assert contact.to_canonical({"AccountId": "001A"}, ctx).fields["customer_id"] == "c-1"
    assert contact.to_native({"customer_id": "c-1"}, ctx).fields["AccountId"] == "001A"
    with pytest.raises(LookupUnresolved) as caught:
        contact.to_canonical({"AccountId": "001Z"}, ctx)
    assert caught.value.field == "AccountId"
    with pytest.raises(LookupUnresolved):
        contact.to_native({"customer_id": "c-1"}, CRM)


def test_dates_with_time_zones() -> None:
    price = mapper(
        "  - canonical: valid_from\n    native: start\n"
        "    transform: {date: {timezone: Europe/Paris, format: '%d.%m.%Y'}}\n",
        "price",
    )
    assert price.to_canonical({"start": "2024-01-01T23:30:00Z"}, CRM).fields == {
        "valid_from": "2024-01-02"
    }
    assert price.to_native({"valid_from": "2024-01-02"}, CRM).fields == {"start": "02.01.2024"}
    stock = mapper(
        "  - canonical: as_of\n    native: ts\n    transform: {datetime: {format: salesforce}}\n",
        "inventory",
    )
    ctx = MappingContext(system="crm", default_timezone="America/New_York")
    assert stock.to_canonical({"ts": "2024-01-01 12:00:00"}, ctx).fields == {
        "as_of": "2024-01-01T17:00:00Z"
    }
    assert stock.to_native({"as_of": "2024-01-01T17:00:00Z"}, ctx).fields == {
        "ts": "2024-01-01T17:00:00.000+0000"
    }


@pytest.mark.parametrize(
    ("native", "expected"),
    [({"B": "yes"}, True), ({"B": 0}, False), ({"B": True}, True), ({"B": ""}, None)],
)
def test_booleans_are_coerced(native: dict[str, Any], expected: bool | None) -> None:
    assert mapper("  - {canonical: blocked, native: B}\n").to_canonical(native, CRM).fields == {
        "blocked": expected
    }


def test_canonical_choices_are_enforced() -> None:
    order = mapper("  - {canonical: status, native: S}\n", "sales_order")
    assert order.to_canonical({"S": "open"}, CRM).fields == {"status": "open"}
    with pytest.raises(MappingError, match="add a value_map"):
        order.to_canonical({"S": "Booked"}, CRM)


def test_trim_only_when_asked() -> None:
    assert SF.to_canonical({"Name": " Acme "}, CRM).fields["name"] == " Acme "
    trimmed = mapper("  - {canonical: name, native: N, trim: true}\n")
    assert trimmed.to_canonical({"N": " Acme "}, CRM).fields == {"name": "Acme"}
    assert trimmed.to_native({"name": " Acme "}, CRM).fields == {"N": "Acme"}


# --- to_canonical(to_native(x)) == x for generated customers ---------------------------

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)
WORD = st.sampled_from(["Main", "St", "Hauptstraße", "Rue", "de", "Paix", "Oak", "Ave", "B"])
STREET_LINE = st.tuples(
    st.lists(WORD, min_size=1, max_size=3).map(" ".join),
    st.sampled_from(["", "12", "5a", "12-14"]),
    st.booleans(),
).map(lambda t: " ".join(p for p in ((t[1], t[0]) if t[2] else (t[0], t[1])) if p))
EXTRA = st.sampled_from(["Suite 400", "Building B", "PO Box 12", "Floor 3"])
COUNTRIES = st.sampled_from([None, "US", "DE", "FR", "NL"])


@st.composite
def addresses(draw: st.DrawFn) -> PostalAddress:
    country = draw(COUNTRIES)
    lines = [*draw(st.lists(st.just("c/o Finance"), max_size=1)), draw(STREET_LINE)]
    lines += draw(st.lists(EXTRA, max_size=2))
    # Only shapes the splitter produces: generate a block, keep its structured form.
    parts = split_block("\n".join(lines), number_order(country))
    return PostalAddress(
        street=parts.street,
        house_number=parts.house_number,
        extra_lines=parts.extra_lines,
        postal_code=draw(st.one_of(st.none(), st.from_regex(r"[0-9]{5}", fullmatch=True))),
        city=draw(st.one_of(st.none(), TEXT)),
        region=draw(st.one_of(st.none(), TEXT)),
        country=country,
    )


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    currency = draw(st.sampled_from(["EUR", "USD", "CHF"]))
    amount = draw(st.decimals(min_value=0, max_value=10**9, places=2))
    return Customer(
        name=draw(TEXT),
        number=draw(st.one_of(st.none(), TEXT)),
        phone=draw(st.one_of(st.none(), TEXT)),
        website=draw(st.one_of(st.none(), TEXT)),
        industry=draw(st.sampled_from([None, "technology", "manufacturing", "retail"])),
        billing_address=draw(addresses()),
        currency=currency,
        credit_limit=draw(st.sampled_from([None, Money(amount=amount, currency=currency)])),
        payment_terms=draw(st.sampled_from([None, "net_30", "net_60", "due_on_receipt"])),
        credit_hold=draw(st.booleans()),
    )


@pytest.mark.parametrize("system", [SF, ERP], ids=["salesforce_like", "erp_like"])
@settings(max_examples=150, deadline=None)
@given(customer=customers())
def test_canonical_native_canonical_is_exact(system: Mapper, customer: Customer) -> None:
    flat = expand(flatten(customer), Customer)
    both = set(system.canonical_paths("to_native")) & set(system.canonical_paths("to_canonical"))
    written = system.to_native(flat, CRM)
    assert written.warnings == ()
    back = system.to_canonical(written.fields, CRM).fields
    assert {path: back[path] for path in both} == {path: flat.get(path) for path in both}


@settings(max_examples=100, deadline=None)
@given(customer=customers())
def test_crm_to_erp_to_crm_is_exact(customer: Customer) -> None:
    flat = expand(flatten(customer), Customer)
    erp_view = ERP.to_canonical(ERP.to_native(flat, CRM).fields, CRM).fields
    crm_view = SF.to_canonical(SF.to_native(erp_view, CRM).fields, CRM).fields
    shared = set(SF.canonical_paths("to_native")) & set(ERP.canonical_paths("to_native"))
    assert {p: crm_view[p] for p in shared} == {p: flat.get(p) for p in shared}
