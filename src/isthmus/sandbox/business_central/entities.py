"""The Business Central v2.0 entity sets the sandbox serves, with their fields and EDM types.

Field names follow Microsoft's v2.0 API pages; the same table drives ``$metadata``,
``$select`` validation and which fields a client may write.
"""

from __future__ import annotations

from dataclasses import dataclass

from isthmus.protocols.odata import EntityType, NavigationProperty, Property, ServiceModel

S, G, D, B, INT, DT, DAY = (
    "Edm.String",
    "Edm.Guid",
    "Edm.Decimal",
    "Edm.Boolean",
    "Edm.Int32",
    "Edm.DateTimeOffset",
    "Edm.Date",
)

ADDRESS = (
    ("addressLine1", S),
    ("addressLine2", S),
    ("city", S),
    ("state", S),
    ("country", S),
    ("postalCode", S),
)
TOTALS = (
    ("discountAmount", D),
    ("totalAmountExcludingTax", D),
    ("totalTaxAmount", D),
    ("totalAmountIncludingTax", D),
)
HEADER = (
    ("number", S),
    ("externalDocumentNumber", S),
    ("customerId", G),
    ("customerNumber", S),
    ("customerName", S),
    ("currencyId", G),
    ("currencyCode", S),
    ("paymentTermsId", G),
    ("sellToAddressLine1", S),
    ("sellToCity", S),
    ("sellToCountry", S),
    ("sellToPostCode", S),
    *TOTALS,
    ("status", S),
)
LINE = (
    ("documentId", G),
    ("sequence", INT),
    ("itemId", G),
    ("lineType", S),
    ("lineObjectNumber", S),
    ("description", S),
    ("unitOfMeasureCode", S),
    ("quantity", D),
    ("unitPrice", D),
    ("discountPercent", D),
    ("discountAmount", D),
    ("taxPercent", D),
    ("amountExcludingTax", D),
    ("totalTaxAmount", D),
    ("amountIncludingTax", D),
)


@dataclass(frozen=True)
class EntitySpec:
    """One entity set: its type name, fields, lines sub-collection and bound actions."""

    set_name: str
    type_name: str
    fields: tuple[tuple[str, str], ...]
    lines_set: str | None = None
    actions: tuple[str, ...] = ()
    read_only: bool = False


SPECS: tuple[EntitySpec, ...] = (
    EntitySpec(
        "companies",
        "company",
        (("name", S), ("displayName", S), ("businessProfileId", S)),
        read_only=True,
    ),
    EntitySpec(
        "customers",
        "customer",
        (
            ("number", S),
            ("displayName", S),
            ("type", S),
            *ADDRESS,
            ("phoneNumber", S),
            ("email", S),
            ("website", S),
            ("salespersonCode", S),
            ("balanceDue", D),
            ("creditLimit", D),
            ("taxLiable", B),
            ("taxRegistrationNumber", S),
            ("currencyId", G),
            ("currencyCode", S),
            ("paymentTermsId", G),
            ("blocked", S),
        ),
    ),
    EntitySpec(
        "contacts",
        "contact",
        (
            ("number", S),
            ("type", S),
            ("displayName", S),
            ("jobTitle", S),
            ("companyNumber", S),
            ("companyName", S),
            *ADDRESS,
            ("phoneNumber", S),
            ("mobilePhoneNumber", S),
            ("email", S),
        ),
    ),
    EntitySpec(
        "items",
        "item",
        (
            ("number", S),
            ("displayName", S),
            ("type", S),
            ("itemCategoryCode", S),
            ("blocked", B),
            ("gtin", S),
            ("inventory", D),
            ("unitPrice", D),
            ("priceIncludesTax", B),
            ("unitCost", D),
            ("taxGroupCode", S),
            ("baseUnitOfMeasureCode", S),
        ),
    ),
    EntitySpec(
        "currencies",
        "currency",
        (
            ("code", S),
            ("displayName", S),
            ("symbol", S),
            ("amountDecimalPlaces", S),
            ("amountRoundingPrecision", D),
        ),
    ),
    EntitySpec(
        "paymentTerms",
        "paymentTerm",
        (
            ("code", S),
            ("displayName", S),
            ("dueDateCalculation", S),
            ("discountDateCalculation", S),
            ("discountPercent", D),
            ("calculateDiscountOnCreditMemos", B),
        ),
    ),
    EntitySpec(
        "salesQuotes",
        "salesQuote",
        (*HEADER, ("documentDate", DAY), ("validUntilDate", DAY)),
        "salesQuoteLines",
        ("makeOrder",),
    ),
    EntitySpec("salesQuoteLines", "salesQuoteLine", LINE),
    EntitySpec(
        "salesOrders",
        "salesOrder",
        (
            *HEADER,
            ("orderDate", DAY),
            ("postingDate", DAY),
            ("requestedDeliveryDate", DAY),
            ("fullyShipped", B),
        ),
        "salesOrderLines",
        ("shipAndInvoice",),
    ),
    EntitySpec(
        "salesOrderLines",
        "salesOrderLine",
        (
            *LINE,
            ("shipQuantity", D),
            ("shippedQuantity", D),
            ("invoiceQuantity", D),
            ("invoicedQuantity", D),
        ),
    ),
    EntitySpec(
        "salesShipments",
        "salesShipment",
        (
            ("number", S),
            ("orderNumber", S),
            ("customerId", G),
            ("customerNumber", S),
            ("customerName", S),
            ("shipmentDate", DAY),
        ),
        "salesShipmentLines",
        read_only=True,
    ),
    EntitySpec(
        "salesShipmentLines",
        "salesShipmentLine",
        (
            ("documentId", G),
            ("sequence", INT),
            ("itemId", G),
            ("lineObjectNumber", S),
            ("description", S),
            ("quantity", D),
        ),
        read_only=True,
    ),
    EntitySpec(
        "salesInvoices",
        "salesInvoice",
        (
            *HEADER,
            ("invoiceDate", DAY),
            ("postingDate", DAY),
            ("dueDate", DAY),
            ("orderId", G),
            ("orderNumber", S),
            ("remainingAmount", D),
        ),
        "salesInvoiceLines",
        ("post", "makeCorrectiveCreditMemo"),
    ),
    EntitySpec("salesInvoiceLines", "salesInvoiceLine", LINE),
    EntitySpec(
        "salesCreditMemos",
        "salesCreditMemo",
        (
            *HEADER,
            ("creditMemoDate", DAY),
            ("postingDate", DAY),
            ("invoiceId", G),
            ("invoiceNumber", S),
        ),
        "salesCreditMemoLines",
        ("post",),
    ),
    EntitySpec("salesCreditMemoLines", "salesCreditMemoLine", LINE),
    EntitySpec(
        "customerPayments",
        "customerPayment",
        (
            ("journalDisplayName", S),
            ("lineNumber", INT),
            ("customerId", G),
            ("customerNumber", S),
            ("postingDate", DAY),
            ("documentNumber", S),
            ("externalDocumentNumber", S),
            ("amount", D),
            ("appliesToInvoiceId", G),
            ("appliesToInvoiceNumber", S),
            ("description", S),
        ),
    ),
    EntitySpec(
        "itemInventoryByLocation",
        "itemInventoryByLocation",
        (("itemId", G), ("itemNumber", S), ("locationCode", S), ("inventory", D)),
        read_only=True,
    ),
    EntitySpec(
        "customerFinancialDetails",
        "customerFinancialDetail",
        (("number", S), ("balance", D), ("totalSalesExcludingTax", D), ("overdueAmount", D)),
        read_only=True,
    ),
    EntitySpec(
        "salesPriceListLines",
        "salesPriceListLine",
        (
            ("itemId", G),
            ("itemNumber", S),
            ("currencyCode", S),
            ("minimumQuantity", D),
            ("unitPrice", D),
            ("lineDiscountPercent", D),
            ("startingDate", DAY),
            ("endingDate", DAY),
        ),
    ),
)

SPEC_BY_SET = {spec.set_name: spec for spec in SPECS}
LINE_SETS = frozenset(spec.lines_set for spec in SPECS if spec.lines_set)
DECIMAL_FIELDS = {spec.set_name: frozenset(n for n, t in spec.fields if t == D) for spec in SPECS}


def field_names(spec: EntitySpec) -> frozenset[str]:
    """All properties of an entity set, including ``id`` and ``lastModifiedDateTime``."""
    return frozenset({"id", "lastModifiedDateTime", *(name for name, _ in spec.fields)})


# Lengths of BC's text fields (Code[20], Text[100] ...), as its API pages declare them.
MAX_LENGTHS = {
    "number": 20,
    "displayName": 100,
    "name": 100,
    "addressLine1": 100,
    "addressLine2": 50,
    "city": 30,
    "state": 30,
    "country": 10,
    "postalCode": 20,
    "phoneNumber": 30,
    "email": 80,
    "website": 80,
    "salespersonCode": 20,
    "taxRegistrationNumber": 20,
    "currencyCode": 10,
    "externalDocumentNumber": 35,
    "customerNumber": 20,
    "customerName": 100,
    "description": 100,
    "jobTitle": 30,
    "unitOfMeasureCode": 10,
    "lineObjectNumber": 20,
    "sellToAddressLine1": 100,
    "sellToCity": 30,
    "sellToCountry": 10,
    "sellToPostCode": 20,
}


def max_length(name: str, edm_type: str) -> int | None:
    return MAX_LENGTHS.get(name) if edm_type == S else None


def build_model() -> ServiceModel:
    """The OData service model behind ``$metadata``."""
    model = ServiceModel("Microsoft.NAV")
    for spec in SPECS:
        props = (
            Property("id", G, nullable=False),
            *(Property(n, t, max_length=max_length(n, t)) for n, t in spec.fields),
            Property("lastModifiedDateTime", DT),
        )
        nav: tuple[NavigationProperty, ...] = ()
        if spec.lines_set:
            nav = (NavigationProperty(spec.lines_set, SPEC_BY_SET[spec.lines_set].type_name),)
        model.add(
            EntityType(spec.type_name, props, navigation=nav, bound_actions=spec.actions),
            spec.set_name,
        )
    return model
