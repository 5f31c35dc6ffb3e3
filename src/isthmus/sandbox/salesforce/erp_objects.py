"""Custom objects that show ERP data in the CRM: invoices and lines, credit memos,
payments and stock levels, each keyed by an ERP number marked as a unique external id.
"""

from __future__ import annotations

from isthmus.sandbox.salesforce.object_builders import (
    money,
    number,
    picklist,
    ref,
    sobject,
    text,
)
from isthmus.sandbox.salesforce.schema import FieldDef

INVOICE_STATUSES = ("Open", "Paid", "Partially Paid", "Cancelled")
ERP_INVOICE = sobject(
    "ERP_Invoice__c",
    "a01",
    "ERP Invoice",
    "ERP Invoices",
    (
        text("Name", 80, required=True),
        ref("Account__c", "Account", "Account__r", required=True),
        ref("Order__c", "Order", "Order__r"),
        text("ERP_Invoice_Number__c", 40, external_id=True, unique=True, required=True),
        FieldDef("Invoice_Date__c", "date", required=True),
        FieldDef("Due_Date__c", "date"),
        money("Amount__c"),
        money("Tax_Amount__c"),
        money("Open_Amount__c"),
        picklist("Status__c", INVOICE_STATUSES, restricted=True, default="Open"),
    ),
)
ERP_INVOICE_LINE = sobject(
    "ERP_Invoice_Line__c",
    "a02",
    "ERP Invoice Line",
    "ERP Invoice Lines",
    (
        text("Name", 80, required=True),
        ref("Invoice__c", "ERP_Invoice__c", "Invoice__r", required=True),
        ref("Product__c", "Product2", "Product__r"),
        text("ERP_Line_Key__c", 60, external_id=True, unique=True),
        FieldDef("Quantity__c", "double", precision=12, scale=2),
        money("Unit_Price__c"),
        money("Line_Amount__c"),
    ),
)
ERP_CREDIT_MEMO = sobject(
    "ERP_Credit_Memo__c",
    "a03",
    "ERP Credit Memo",
    "ERP Credit Memos",
    (
        text("Name", 80, required=True),
        ref("Account__c", "Account", "Account__r", required=True),
        ref("Invoice__c", "ERP_Invoice__c", "Invoice__r"),
        text("ERP_Credit_Memo_Number__c", 40, external_id=True, unique=True),
        FieldDef("Credit_Date__c", "date"),
        money("Amount__c"),
        text("Reason__c", 255),
    ),
)
ERP_PAYMENT = sobject(
    "ERP_Payment__c",
    "a04",
    "ERP Payment",
    "ERP Payments",
    (
        text("Name", 80, required=True),
        ref("Account__c", "Account", "Account__r", required=True),
        ref("Invoice__c", "ERP_Invoice__c", "Invoice__r"),
        text("ERP_Payment_Number__c", 40, external_id=True, unique=True),
        FieldDef("Payment_Date__c", "date"),
        money("Amount__c"),
        picklist("Method__c", ("Bank Transfer", "Card", "Cheque", "Cash")),
    ),
)
ERP_STOCK = sobject(
    "ERP_Stock__c",
    "a05",
    "ERP Stock",
    "ERP Stock Levels",
    (
        text("Name", 80, required=True),
        ref("Product__c", "Product2", "Product__r", required=True),
        text("Warehouse__c", 40, required=True),
        text("ERP_Stock_Key__c", 80, external_id=True, unique=True),
        number("Quantity_On_Hand__c"),
        number("Quantity_Reserved__c"),
        FieldDef("As_Of__c", "datetime"),
    ),
    unique_together=(("Product__c", "Warehouse__c"),),
)
