"""Short constructors for field and object definitions, so object lists read as data."""

from __future__ import annotations

from typing import Any

from isthmus.sandbox.salesforce.schema import FieldDef, FieldType, ObjectDef

CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "CHF", "JPY")
SYNC_STATUSES = ("Not Synced", "Pending", "Synced", "Error")


def system_fields() -> tuple[FieldDef, ...]:
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
        # The idempotency key an integration installs on every object it writes (a
        # unique external id), so a create whose answer was lost can be found again.
        FieldDef("Isthmus_Id__c", "string", "Isthmus ID", length=64, external_id=True, unique=True),
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


def text(name: str, length: int = 255, **options: Any) -> FieldDef:
    return FieldDef(name, "string", length=length, **options)


def ref(name: str, target: str, relationship: str, **options: Any) -> FieldDef:
    return FieldDef(
        name,
        "reference",
        length=18,
        reference_to=target,
        relationship_name=relationship,
        **options,
    )


def money(name: str, **options: Any) -> FieldDef:
    return FieldDef(name, "currency", precision=18, scale=2, **options)


def number(name: str, scale: int = 2, **options: Any) -> FieldDef:
    return FieldDef(name, "double", precision=18, scale=scale, **options)


def picklist(name: str, values: tuple[str, ...], **options: Any) -> FieldDef:
    return FieldDef(name, "picklist", length=255, picklist=values, **options)


def sobject(
    name: str,
    prefix: str,
    label: str,
    plural: str,
    fields: tuple[FieldDef, ...],
    unique_together: tuple[tuple[str, ...], ...] = (),
) -> ObjectDef:
    return ObjectDef(name, prefix, label, plural, system_fields() + fields, unique_together)


def address(prefix: str) -> tuple[FieldDef, ...]:
    return (
        FieldDef(f"{prefix}Street", "textarea", length=255),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", 80),
    )


def sync_status() -> FieldDef:
    """``Sync_Status__c``: where Isthmus stands with this record (restricted picklist)."""
    return picklist("Sync_Status__c", SYNC_STATUSES, restricted=True, default="Not Synced")
