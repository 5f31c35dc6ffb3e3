"""The shape of sObjects and fields, and their describe answers.

:class:`FieldDef` and :class:`ObjectDef` are the single source of truth for validation,
SOQL and describe: what a field is called, its type and length, whether it is required,
its picklist and whether that list is restricted, whether it is an external id, and which
object a reference points to (and under which relationship name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "picklist",
    "boolean",
    "double",
    "currency",
    "percent",
    "int",
    "date",
    "datetime",
    "reference",
    "email",
    "phone",
    "url",
]

TEXT_TYPES: frozenset[str] = frozenset(
    {"id", "string", "textarea", "picklist", "email", "phone", "url", "reference"}
)
NUMBER_TYPES: frozenset[str] = frozenset({"double", "currency", "percent", "int"})

_SOAP_TYPES: dict[str, str] = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}

#: Fields the platform maintains: never written by clients.
SYSTEM_FIELDS: tuple[str, ...] = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject."""

    name: str
    type: FieldType
    label: str = ""
    length: int = 0
    required: bool = False
    createable: bool = True
    updateable: bool = True
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: Any = None
    external_id: bool = False
    unique: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None
    precision: int = 0
    scale: int = 0

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def describe(self) -> dict[str, Any]:
        """This field's entry in ``/sobjects/{Object}/describe``."""
        is_text = self.type in TEXT_TYPES
        return {
            "name": self.name,
            "label": self.label or _label_of(self.name),
            "type": self.type,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length if is_text else 0,
            "byteLength": self.length * 3 if is_text else 0,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "nillable": not self.required and self.type != "boolean" and self.name != "Id",
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.default is not None or self.name in SYSTEM_FIELDS,
            "defaultValue": self.default if self.type in ("boolean", "picklist") else None,
            "calculated": False,
            "custom": self.custom,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "double", "currency", "percent"),
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": value == self.default,
                    "label": value,
                    "validFor": None,
                    "value": value,
                }
                for value in self.picklist
            ],
            "restrictedPicklist": self.restricted,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
            "cascadeDelete": False,
            "autoNumber": False,
            "htmlFormatted": False,
            "caseSensitive": False,
        }


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type and its fields (system fields included)."""

    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: tuple[FieldDef, ...]
    #: Sets of field names whose combined values must be unique (DUPLICATE_VALUE).
    unique_together: tuple[tuple[str, ...], ...] = ()
    _by_lower_name: dict[str, FieldDef] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self._by_lower_name.update({f.name.lower(): f for f in self.fields})

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (case-insensitive, like the API), or None."""
        return self._by_lower_name.get(name.lower())

    def reference_by_relationship(self, relationship: str) -> FieldDef | None:
        """The reference field whose relationship name is ``relationship`` (``Account``)."""
        wanted = relationship.lower()
        for candidate in self.fields:
            if candidate.relationship_name and candidate.relationship_name.lower() == wanted:
                return candidate
        return None

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        }

    def describe_summary(self, version: str) -> dict[str, Any]:
        """This object's entry in describeGlobal."""
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural,
            "keyPrefix": self.key_prefix,
            "custom": self.custom,
            "customSetting": False,
            "createable": True,
            "updateable": True,
            "deletable": True,
            "undeletable": True,
            "queryable": True,
            "retrieveable": True,
            "replicateable": True,
            "searchable": True,
            "triggerable": True,
            "layoutable": True,
            "mergeable": self.name in ("Account", "Contact"),
            "feedEnabled": False,
            "activateable": False,
            "deprecatedAndHidden": False,
            "urls": self.urls(version),
        }

    def describe(self, version: str, children: Iterable[tuple[ObjectDef, FieldDef]]) -> Any:
        """The full ``/sobjects/{Object}/describe`` answer."""
        answer: dict[str, Any] = self.describe_summary(version)
        answer["fields"] = [f.describe() for f in self.fields]
        answer["childRelationships"] = [
            {
                "childSObject": child.name,
                "field": ref.name,
                "relationshipName": _child_relationship_name(child),
                "cascadeDelete": False,
                "restrictedDelete": False,
                "deprecatedAndHidden": False,
            }
            for child, ref in children
        ]
        answer["recordTypeInfos"] = []
        answer["supportedScopes"] = [{"label": "All", "name": "everything"}]
        return answer


def _label_of(api_name: str) -> str:
    base = api_name.removesuffix("__c").removesuffix("Id") or api_name
    return base.replace("_", " ")


def _child_relationship_name(child: ObjectDef) -> str:
    if child.custom:
        return child.label_plural.replace(" ", "_") + "__r"
    return child.label_plural.replace(" ", "")


class Schema:
    """All sObject types of the sandbox org, looked up case-insensitively."""

    def __init__(self, objects: Iterable[ObjectDef]) -> None:
        self.objects: dict[str, ObjectDef] = {o.name: o for o in objects}
        self._by_lower_name = {o.name.lower(): o for o in self.objects.values()}
        self._by_prefix = {o.key_prefix: o for o in self.objects.values()}

    def get(self, name: str) -> ObjectDef | None:
        return self._by_lower_name.get(name.lower())

    def by_id(self, record_id: str) -> ObjectDef | None:
        """The object an id belongs to, from its 3-character key prefix."""
        return self._by_prefix.get(record_id[:3])

    def children_of(self, parent: str) -> list[tuple[ObjectDef, FieldDef]]:
        return [
            (child, ref)
            for child in self.objects.values()
            for ref in child.fields
            if ref.reference_to == parent
        ]
