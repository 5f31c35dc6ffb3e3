"""The sandbox org's sObjects: the standard sales objects, plus the ERP ones (erp_objects).

Key prefixes are the real ones for standard objects (001 Account, 003 Contact, ...);
custom objects get ``a0x`` prefixes as an org would assign. The org has multi-currency
on, so every object carries a restricted ``CurrencyIsoCode``.
"""

from __future__ import annotations

from isthmus.sandbox.salesforce.erp_objects import (
    ERP_CREDIT_MEMO,
    ERP_INVOICE,
    ERP_INVOICE_LINE,
    ERP_PAYMENT,
    ERP_STOCK,
)
from isthmus.sandbox.salesforce.ids import make_id
from isthmus.sandbox.salesforce.object_builders import (
    CURRENCIES,
    address,
    money,
    number,
    picklist,
    ref,
    sobject,
    sync_status,
    system_fields,
    text,
)
from isthmus.sandbox.salesforce.schema import SYSTEM_FIELDS, FieldDef, ObjectDef, Schema

__all__ = [
    "CURRENCIES",
    "OPPORTUNITY_STAGES",
    "SANDBOX_ORG_ID",
    "SANDBOX_USER_ID",
    "sandbox_schema",
]

#: The integration user every sandbox session acts as.
SANDBOX_USER_ID = make_id("005", 1)
SANDBOX_ORG_ID = make_id("00D", 1)

_sync_status = sync_status()

ACCOUNT = sobject(
    "Account",
    "001",
    "Account",
    "Accounts",
    (
        text("Name", 255, required=True),
        text("AccountNumber", 40),
        picklist("Type", ("Prospect", "Customer - Direct", "Customer - Channel", "Partner")),
        picklist("Industry", ("Manufacturing", "Retail", "Technology", "Healthcare", "Energy")),
        *address("Billing"),
        *address("Shipping"),
        FieldDef("Phone", "phone", length=40),
        FieldDef("Website", "url", length=255),
        money("AnnualRevenue"),
        FieldDef("NumberOfEmployees", "int"),
        FieldDef("Description", "textarea", length=32000),
        ref("ParentId", "Account", "Parent"),
        ref("OwnerId", "User", "Owner"),
        text("ERP_Customer_Number__c", 40, external_id=True),
        money("Credit_Limit__c"),
        FieldDef("Credit_Hold__c", "boolean", default=False),
        text("VAT_Number__c", 30),
        _sync_status,
    ),
)
CONTACT = sobject(
    "Contact",
    "003",
    "Contact",
    "Contacts",
    (
        ref("AccountId", "Account", "Account"),
        picklist("Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        text("FirstName", 40),
        text("LastName", 80, required=True),
        FieldDef("Email", "email", length=80),
        FieldDef("Phone", "phone", length=40),
        text("Title", 128),
        *address("Mailing"),
        ref("OwnerId", "User", "Owner"),
        text("ERP_Contact_Number__c", 40, external_id=True, unique=True),
    ),
)
PRODUCT = sobject(
    "Product2",
    "01t",
    "Product",
    "Products",
    (
        text("Name", 255, required=True),
        text("ProductCode", 255),
        FieldDef("Description", "textarea", length=4000),
        FieldDef("IsActive", "boolean", default=True),
        picklist("Family", ("Hardware", "Software", "Services", "Spare Parts")),
        picklist("QuantityUnitOfMeasure", ("Each", "Box", "Kg", "Hour")),
        text("ERP_Item_Number__c", 40, external_id=True, unique=True),
    ),
)
PRICEBOOK = sobject(
    "Pricebook2",
    "01s",
    "Price Book",
    "Price Books",
    (
        text("Name", 255, required=True),
        FieldDef("IsActive", "boolean", default=True),
        FieldDef("IsStandard", "boolean", default=False, createable=False, updateable=False),
        FieldDef("Description", "textarea", length=255),
    ),
)
PRICEBOOK_ENTRY = sobject(
    "PricebookEntry",
    "01u",
    "Price Book Entry",
    "Price Book Entries",
    (
        ref("Pricebook2Id", "Pricebook2", "Pricebook2", required=True, updateable=False),
        ref("Product2Id", "Product2", "Product2", required=True, updateable=False),
        money("UnitPrice", required=True),
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
OPPORTUNITY = sobject(
    "Opportunity",
    "006",
    "Opportunity",
    "Opportunities",
    (
        text("Name", 120, required=True),
        ref("AccountId", "Account", "Account"),
        picklist("StageName", OPPORTUNITY_STAGES, required=True, restricted=True),
        FieldDef("CloseDate", "date", required=True),
        money("Amount"),
        FieldDef("Probability", "percent", precision=3),
        ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        ref("OwnerId", "User", "Owner"),
    ),
)
_line_fields = (
    FieldDef("Quantity", "double", precision=12, scale=2, required=True),
    money("UnitPrice", required=True),
    number("Discount", 2),
    FieldDef("Description", "textarea", length=255),
)
OPPORTUNITY_LINE = sobject(
    "OpportunityLineItem",
    "00k",
    "Opportunity Product",
    "Opportunity Product",
    (
        ref("OpportunityId", "Opportunity", "Opportunity", required=True, updateable=False),
        ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True),
        ref("Product2Id", "Product2", "Product2", updateable=False),
        *_line_fields,
    ),
)
QUOTE = sobject(
    "Quote",
    "0Q0",
    "Quote",
    "Quotes",
    (
        text("Name", 255, required=True),
        ref("OpportunityId", "Opportunity", "Opportunity", required=True, updateable=False),
        ref("AccountId", "Account", "Account"),
        ref("ContactId", "Contact", "Contact"),
        ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        picklist("Status", ("Draft", "Needs Review", "Approved", "Rejected", "Accepted")),
        FieldDef("ExpirationDate", "date"),
        *address("Billing"),
    ),
)
QUOTE_LINE = sobject(
    "QuoteLineItem",
    "0QL",
    "Quote Line Item",
    "Quote Line Items",
    (
        ref("QuoteId", "Quote", "Quote", required=True, updateable=False),
        ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True),
        ref("Product2Id", "Product2", "Product2", updateable=False),
        *_line_fields,
    ),
)
ORDER = sobject(
    "Order",
    "801",
    "Order",
    "Orders",
    (
        ref("AccountId", "Account", "Account", required=True),
        ref("OpportunityId", "Opportunity", "Opportunity"),
        ref("QuoteId", "Quote", "Quote"),
        ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        FieldDef("EffectiveDate", "date", required=True),
        picklist("Status", ("Draft", "Activated"), required=True, restricted=True),
        text("OrderReferenceNumber", 80),
        *address("Billing"),
        *address("Shipping"),
        text("ERP_Order_Number__c", 40, external_id=True, unique=True),
        _sync_status,
    ),
)
ORDER_ITEM = sobject(
    "OrderItem",
    "802",
    "Order Product",
    "Order Products",
    (
        ref("OrderId", "Order", "Order", required=True, updateable=False),
        ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True),
        ref("Product2Id", "Product2", "Product2", updateable=False),
        FieldDef("Quantity", "double", precision=12, scale=2, required=True),
        money("UnitPrice", required=True),
        FieldDef("Description", "textarea", length=255),
    ),
)
USER = ObjectDef(
    "User",
    "005",
    "User",
    "Users",
    (
        *(f for f in system_fields() if f.name in SYSTEM_FIELDS),
        text("Username", 80, required=True),
        text("Name", 121, createable=False, updateable=False),
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
