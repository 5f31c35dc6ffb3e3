"""The sandbox org's sObjects: the standard sales objects and the custom ERP objects.

Key prefixes are the real ones for standard objects (001 Account, 003 Contact, ...);
custom objects get ``a0x`` prefixes as an org would assign. The org has multi-currency
on, so every object carries a restricted ``CurrencyIsoCode``.
"""

from __future__ import annotations

from typing import Any

from isthmus.sandbox.salesforce.ids import make_id
from isthmus.sandbox.salesforce.schema import (
    SYSTEM_FIELDS,
    FieldDef,
    FieldType,
    ObjectDef,
    Schema,
)

CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "CHF", "JPY")
#: The integration user every sandbox session acts as.
SANDBOX_USER_ID = make_id("005", 1)
SANDBOX_ORG_ID = make_id("00D", 1)


def _system_fields() -> tuple[FieldDef, ...]:
    def fixed(name: str, kind: FieldType, label: str, **options: Any) -> FieldDef:
        return FieldDef(name, kind, label, createable=False, updateable=False, **options)

    return (
        fixed("Id", "id", "Record ID", length=18),
        fixed("IsDeleted", "boolean", "Deleted", default=False),
        fixed("CreatedDate", "datetime", "Created Date"),
        fixed(
            "CreatedById",
            "reference",
            "Created By ID",
            length=18,
            reference_to="User",
            relationship_name="CreatedBy",
        ),
        fixed("LastModifiedDate", "datetime", "Last Modified Date"),
        fixed(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            length=18,
            reference_to="User",
            relationship_name="LastModifiedBy",
        ),
        fixed("SystemModstamp", "datetime", "System Modstamp"),
        FieldDef(
            "CurrencyIsoCode",
            "picklist",
            "Currency ISO Code",
            length=3,
            picklist=CURRENCIES,
            restricted=True,
            default="USD",
        ),
    )


def _text(name: str, length: int = 255, **options: Any) -> FieldDef:
    return FieldDef(name, "string", length=length, **options)


def _ref(name: str, target: str, relationship: str, **options: Any) -> FieldDef:
    return FieldDef(
        name,
        "reference",
        length=18,
        reference_to=target,
        relationship_name=relationship,
        **options,
    )


def _money(name: str, **options: Any) -> FieldDef:
    return FieldDef(name, "currency", precision=18, scale=2, **options)


def _number(name: str, scale: int = 2, **options: Any) -> FieldDef:
    return FieldDef(name, "double", precision=18, scale=scale, **options)


def _picklist(name: str, values: tuple[str, ...], **options: Any) -> FieldDef:
    return FieldDef(name, "picklist", length=255, picklist=values, **options)


def _object(
    name: str,
    prefix: str,
    label: str,
    plural: str,
    fields: tuple[FieldDef, ...],
    unique_together: tuple[tuple[str, ...], ...] = (),
) -> ObjectDef:
    return ObjectDef(name, prefix, label, plural, _system_fields() + fields, unique_together)


def _address(prefix: str) -> tuple[FieldDef, ...]:
    return (
        FieldDef(f"{prefix}Street", "textarea", length=255),
        _text(f"{prefix}City", 40),
        _text(f"{prefix}State", 80),
        _text(f"{prefix}PostalCode", 20),
        _text(f"{prefix}Country", 80),
    )


SYNC_STATUSES = ("Not Synced", "Pending", "Synced", "Error")
_sync_status = _picklist("Sync_Status__c", SYNC_STATUSES, restricted=True, default="Not Synced")

ACCOUNT = _object(
    "Account",
    "001",
    "Account",
    "Accounts",
    (
        _text("Name", 255, required=True),
        _text("AccountNumber", 40),
        _picklist("Type", ("Prospect", "Customer - Direct", "Customer - Channel", "Partner")),
        _picklist("Industry", ("Manufacturing", "Retail", "Technology", "Healthcare", "Energy")),
        *_address("Billing"),
        *_address("Shipping"),
        FieldDef("Phone", "phone", length=40),
        FieldDef("Website", "url", length=255),
        _money("AnnualRevenue"),
        FieldDef("NumberOfEmployees", "int"),
        FieldDef("Description", "textarea", length=32000),
        _ref("ParentId", "Account", "Parent"),
        _ref("OwnerId", "User", "Owner"),
        _text("ERP_Customer_Number__c", 40, external_id=True),
        _money("Credit_Limit__c"),
        FieldDef("Credit_Hold__c", "boolean", default=False),
        _text("VAT_Number__c", 30),
        _sync_status,
    ),
)
CONTACT = _object(
    "Contact",
    "003",
    "Contact",
    "Contacts",
    (
        _ref("AccountId", "Account", "Account"),
        _picklist("Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        _text("FirstName", 40),
        _text("LastName", 80, required=True),
        FieldDef("Email", "email", length=80),
        FieldDef("Phone", "phone", length=40),
        _text("Title", 128),
        *_address("Mailing"),
        _ref("OwnerId", "User", "Owner"),
        _text("ERP_Contact_Number__c", 40, external_id=True, unique=True),
    ),
)
PRODUCT = _object(
    "Product2",
    "01t",
    "Product",
    "Products",
    (
        _text("Name", 255, required=True),
        _text("ProductCode", 255),
        FieldDef("Description", "textarea", length=4000),
        FieldDef("IsActive", "boolean", default=True),
        _picklist("Family", ("Hardware", "Software", "Services", "Spare Parts")),
        _picklist("QuantityUnitOfMeasure", ("Each", "Box", "Kg", "Hour")),
        _text("ERP_Item_Number__c", 40, external_id=True, unique=True),
    ),
)
PRICEBOOK = _object(
    "Pricebook2",
    "01s",
    "Price Book",
    "Price Books",
    (
        _text("Name", 255, required=True),
        FieldDef("IsActive", "boolean", default=True),
        FieldDef("IsStandard", "boolean", default=False, createable=False, updateable=False),
        FieldDef("Description", "textarea", length=255),
    ),
)
PRICEBOOK_ENTRY = _object(
    "PricebookEntry",
    "01u",
    "Price Book Entry",
    "Price Book Entries",
    (
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2", required=True, updateable=False),
        _ref("Product2Id", "Product2", "Product2", required=True, updateable=False),
        _money("UnitPrice", required=True),
        FieldDef("IsActive", "boolean", default=True),
        FieldDef("UseStandardPrice", "boolean", default=False),
    ),
    unique_together=(("Pricebook2Id", "Product2Id", "CurrencyIsoCode"),),
)
OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
OPPORTUNITY = _object(
    "Opportunity",
    "006",
    "Opportunity",
    "Opportunities",
    (
        _text("Name", 120, required=True),
        _ref("AccountId", "Account", "Account"),
        _picklist("StageName", OPPORTUNITY_STAGES, required=True, restricted=True),
        FieldDef("CloseDate", "date", required=True),
        _money("Amount"),
        FieldDef("Probability", "percent", precision=3),
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        _ref("OwnerId", "User", "Owner"),
    ),
)
_line_fields = (
    FieldDef("Quantity", "double", precision=12, scale=2, required=True),
    _money("UnitPrice", required=True),
    _number("Discount", 2),
    FieldDef("Description", "textarea", length=255),
)
OPPORTUNITY_LINE = _object(
    "OpportunityLineItem",
    "00k",
    "Opportunity Product",
    "Opportunity Product",
    (
        _ref("OpportunityId", "Opportunity", "Opportunity", required=True, updateable=False),
        _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True),
        _ref("Product2Id", "Product2", "Product2", updateable=False),
        *_line_fields,
    ),
)
QUOTE = _object(
    "Quote",
    "0Q0",
    "Quote",
    "Quotes",
    (
        _text("Name", 255, required=True),
        _ref("OpportunityId", "Opportunity", "Opportunity", required=True, updateable=False),
        _ref("AccountId", "Account", "Account"),
        _ref("ContactId", "Contact", "Contact"),
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        _picklist("Status", ("Draft", "Needs Review", "Approved", "Rejected", "Accepted")),
        FieldDef("ExpirationDate", "date"),
        *_address("Billing"),
    ),
)
QUOTE_LINE = _object(
    "QuoteLineItem",
    "0QL",
    "Quote Line Item",
    "Quote Line Items",
    (
        _ref("QuoteId", "Quote", "Quote", required=True, updateable=False),
        _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True),
        _ref("Product2Id", "Product2", "Product2", updateable=False),
        *_line_fields,
    ),
)
ORDER = _object(
    "Order",
    "801",
    "Order",
    "Orders",
    (
        _ref("AccountId", "Account", "Account", required=True),
        _ref("OpportunityId", "Opportunity", "Opportunity"),
        _ref("QuoteId", "Quote", "Quote"),
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        FieldDef("EffectiveDate", "date", required=True),
        _picklist("Status", ("Draft", "Activated"), required=True, restricted=True),
        _text("OrderReferenceNumber", 80),
        *_address("Billing"),
        *_address("Shipping"),
        _text("ERP_Order_Number__c", 40, external_id=True, unique=True),
        _sync_status,
    ),
)
ORDER_ITEM = _object(
    "OrderItem",
    "802",
    "Order Product",
    "Order Products",
    (
        _ref("OrderId", "Order", "Order", required=True, updateable=False),
        _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True),
        _ref("Product2Id", "Product2", "Product2", updateable=False),
        FieldDef("Quantity", "double", precision=12, scale=2, required=True),
        _money("UnitPrice", required=True),
        FieldDef("Description", "textarea", length=255),
    ),
)
_invoice_statuses = ("Open", "Paid", "Partially Paid", "Cancelled")
ERP_INVOICE = _object(
    "ERP_Invoice__c",
    "a01",
    "ERP Invoice",
    "ERP Invoices",
    (
        _text("Name", 80, required=True),
        _ref("Account__c", "Account", "Account__r", required=True),
        _ref("Order__c", "Order", "Order__r"),
        _text("ERP_Invoice_Number__c", 40, external_id=True, unique=True, required=True),
        FieldDef("Invoice_Date__c", "date", required=True),
        FieldDef("Due_Date__c", "date"),
        _money("Amount__c"),
        _money("Tax_Amount__c"),
        _money("Open_Amount__c"),
        _picklist("Status__c", _invoice_statuses, restricted=True, default="Open"),
    ),
)
ERP_INVOICE_LINE = _object(
    "ERP_Invoice_Line__c",
    "a02",
    "ERP Invoice Line",
    "ERP Invoice Lines",
    (
        _text("Name", 80, required=True),
        _ref("Invoice__c", "ERP_Invoice__c", "Invoice__r", required=True),
        _ref("Product__c", "Product2", "Product__r"),
        _text("ERP_Line_Key__c", 60, external_id=True, unique=True),
        FieldDef("Quantity__c", "double", precision=12, scale=2),
        _money("Unit_Price__c"),
        _money("Line_Amount__c"),
    ),
)
ERP_CREDIT_MEMO = _object(
    "ERP_Credit_Memo__c",
    "a03",
    "ERP Credit Memo",
    "ERP Credit Memos",
    (
        _text("Name", 80, required=True),
        _ref("Account__c", "Account", "Account__r", required=True),
        _ref("Invoice__c", "ERP_Invoice__c", "Invoice__r"),
        _text("ERP_Credit_Memo_Number__c", 40, external_id=True, unique=True),
        FieldDef("Credit_Date__c", "date"),
        _money("Amount__c"),
        _text("Reason__c", 255),
    ),
)
ERP_PAYMENT = _object(
    "ERP_Payment__c",
    "a04",
    "ERP Payment",
    "ERP Payments",
    (
        _text("Name", 80, required=True),
        _ref("Account__c", "Account", "Account__r", required=True),
        _ref("Invoice__c", "ERP_Invoice__c", "Invoice__r"),
        _text("ERP_Payment_Number__c", 40, external_id=True, unique=True),
        FieldDef("Payment_Date__c", "date"),
        _money("Amount__c"),
        _picklist("Method__c", ("Bank Transfer", "Card", "Cheque", "Cash")),
    ),
)
ERP_STOCK = _object(
    "ERP_Stock__c",
    "a05",
    "ERP Stock",
    "ERP Stock Levels",
    (
        _text("Name", 80, required=True),
        _ref("Product__c", "Product2", "Product__r", required=True),
        _text("Warehouse__c", 40, required=True),
        _text("ERP_Stock_Key__c", 80, external_id=True, unique=True),
        _number("Quantity_On_Hand__c"),
        _number("Quantity_Reserved__c"),
        FieldDef("As_Of__c", "datetime"),
    ),
    unique_together=(("Product__c", "Warehouse__c"),),
)
USER = ObjectDef(
    "User",
    "005",
    "User",
    "Users",
    (
        *(f for f in _system_fields() if f.name in SYSTEM_FIELDS),
        _text("Username", 80, required=True),
        _text("Name", 121, createable=False, updateable=False),
        FieldDef("Email", "email", length=128),
        FieldDef("IsActive", "boolean", default=True),
    ),
)

ALL_OBJECTS: tuple[ObjectDef, ...] = (
    ACCOUNT,
    CONTACT,
    PRODUCT,
    PRICEBOOK,
    PRICEBOOK_ENTRY,
    OPPORTUNITY,
    OPPORTUNITY_LINE,
    QUOTE,
    QUOTE_LINE,
    ORDER,
    ORDER_ITEM,
    ERP_INVOICE,
    ERP_INVOICE_LINE,
    ERP_CREDIT_MEMO,
    ERP_PAYMENT,
    ERP_STOCK,
    USER,
)


def sandbox_schema() -> Schema:
    """The schema of the sandbox org."""
    return Schema(ALL_OBJECTS)
