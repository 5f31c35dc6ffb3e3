"""A CRM and an ERP held in memory, and a config syncing accounts and contacts.

The real engine, store (SQLite), mappings and config loader run; only the two vendor
systems are the in-memory connector from ``isthmus.testing``, so a test can edit
either side "as a user would", inject faults, and inspect both sides afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.testing import MemoryConnector

MAPPINGS = {
    "crm_account.yaml": {
        "name": "crm_account",
        "entity": "customer",
        "object": "Account",
        "fields": [
            {"canonical": "name", "native": "Name"},
            {"canonical": "number", "native": "AccountNumber"},
            {"canonical": "phone", "native": "Phone"},
            {"canonical": "website", "native": "Website"},
            {
                "canonical": "credit_limit",
                "transform": {"money": {"places": 2}},
                "native": {"amount": "Credit_Limit__c", "currency": "CurrencyIsoCode"},
            },
        ],
    },
    "erp_customer.yaml": {
        "name": "erp_customer",
        "entity": "customer",
        "object": "customers",
        "fields": [
            {"canonical": "name", "native": "name"},
            {"canonical": "number", "native": "customer_no"},
            {"canonical": "phone", "native": "phone"},
            {"canonical": "website", "native": "web"},
            {
                "canonical": "credit_limit",
                "transform": {"money": {"places": 2}},
                "native": {"amount": "credit_limit", "currency": "currency"},
            },
        ],
    },
    "crm_contact.yaml": {
        "name": "crm_contact",
        "entity": "contact",
        "object": "Contact",
        "fields": [
            {"canonical": "last_name", "native": "LastName"},
            {"canonical": "email", "native": "Email"},
            {"canonical": "customer_id", "native": "AccountId", "lookup": "customer"},
        ],
    },
    "erp_contact.yaml": {
        "name": "erp_contact",
        "entity": "contact",
        "object": "contacts",
        "fields": [
            {"canonical": "last_name", "native": "surname"},
            {"canonical": "email", "native": "email"},
            {"canonical": "customer_id", "native": "customer", "lookup": "customer"},
        ],
    },
}


def _system(objects: dict[str, dict[str, Any]], faults: dict[str, Any] | None) -> dict[str, Any]:
    options: dict[str, Any] = {"objects": objects}
    if faults:
        options["faults"] = faults
    return {"connector": "memory", "options": options}


def write_config(
    directory: Path,
    *,
    customers: dict[str, Any] | None = None,
    contacts: dict[str, Any] | None = None,
    faults: dict[str, Any] | None = None,
    webhook_secret: str | None = None,
) -> Path:
    """Write mappings and a config; ``customers``/``contacts`` override flow settings."""
    crm = {
        "Account": {
            "external_key": "Isthmus_Id__c",
            "fields": {
                "Name": {"length": 80, "required": True},
                "AccountNumber": {"length": 20},
                "Phone": {"length": 40},
                "Website": {"length": 80},
                "Credit_Limit__c": {"type": "decimal"},
                "CurrencyIsoCode": {"length": 3},
            },
        },
        "Contact": {
            "external_key": "Isthmus_Id__c",
            "fields": {
                "LastName": {"required": True},
                "Email": {},
                "AccountId": {"type": "reference", "references": "Account"},
            },
        },
    }
    erp = {
        "customers": {
            "key": "no",
            "external_key": "crm_ref",
            "fields": {
                "name": {"length": 50, "required": True},
                "customer_no": {"length": 20},
                "phone": {},
                "web": {},
                "credit_limit": {"type": "decimal"},
                "currency": {"length": 3},
            },
        },
        "contacts": {
            "key": "id",
            "external_key": "crm_ref",
            "fields": {"surname": {"required": True}, "email": {}, "customer": {}},
        },
    }
    systems = {"crm": _system(crm, faults), "erp": _system(erp, faults)}
    if webhook_secret:
        systems["crm"]["options"]["webhook_secret"] = webhook_secret
    (directory / "mappings").mkdir(exist_ok=True)
    for name, mapping in MAPPINGS.items():
        (directory / "mappings" / name).write_text(yaml.safe_dump(mapping, sort_keys=False))
    config = {
        "version": 1,
        "store": f"sqlite:///{directory}/state.db",
        "systems": systems,
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "crm", "object": "Account", "mapping": "crm_account"},
                "target": {"system": "erp", "object": "customers", "mapping": "erp_customer"},
                "direction": "both",
                "match": {"keys": ["number"]},
                "page_size": 50,
                **(customers or {}),
            },
            {
                "name": "contacts",
                "entity": "contact",
                "source": {"system": "crm", "object": "Contact", "mapping": "crm_contact"},
                "target": {"system": "erp", "object": "contacts", "mapping": "erp_contact"},
                "direction": "both",
                "match": {"keys": ["email"]},
                "page_size": 50,
                **(contacts or {}),
            },
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def open_engine(config: Path) -> tuple[Engine, MemoryConnector, MemoryConnector]:
    engine = Engine.from_config(load_config(config))
    crm, erp = engine.connectors["crm"], engine.connectors["erp"]
    assert isinstance(crm, MemoryConnector)
    assert isinstance(erp, MemoryConnector)
    return engine, crm, erp
