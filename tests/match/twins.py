"""Two in-memory systems that already hold the same customers, for match-first tests.

``seed_twins`` puts the same customers (seeded random) in a CRM and an ERP; a share of
the ERP"s copies differ by a typo, case, spacing, a legal form or phone formatting, as
when people keyed them twice. The config runs the real engine, store and mappings.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.runner import RunOptions
from isthmus.testing import MemoryConnector

WORDS = [
    "Alpen",
    "Nordic",
    "Baltic",
    "Rhein",
    "Atlas",
    "Orion",
    "Vega",
    "Delta",
    "Sigma",
    "Astra",
    "Borealis",
    "Cobalt",
    "Falken",
    "Granit",
    "Helios",
    "Iris",
    "Jade",
    "Kronos",
    "Lumen",
    "Merkur",
    "Nova",
    "Opal",
    "Polar",
    "Quarz",
    "Rubin",
    "Saturn",
    "Titan",
    "Ultra",
    "Viktor",
    "Wolf",
    "Xenon",
    "Yukon",
    "Zephyr",
    "Aurora",
    "Bergmann",
    "Castell",
    "Donau",
    "Elbe",
    "Fjord",
    "Gotha",
]
TRADES = [
    "Maschinenbau",
    "Logistik",
    "Software",
    "Textil",
    "Bau",
    "Elektro",
    "Handel",
    "Optik",
    "Pharma",
    "Druck",
    "Metall",
    "Holz",
    "Glas",
    "Papier",
    "Energie",
    "Medien",
    "Agrar",
    "Chemie",
    "Verpackung",
    "Werkzeug",
]
FORMS = ("GmbH", "AG", "KG", "GmbH & Co. KG", "Ltd", "Inc.", "S.A.", "B.V.", "")
CITIES = [
    "München",
    "Berlin",
    "Hamburg",
    "Köln",
    "Frankfurt",
    "Stuttgart",
    "Düsseldorf",
    "Leipzig",
    "Dresden",
    "Nürnberg",
    "Wien",
    "Zürich",
    "Basel",
    "Graz",
    "Linz",
    "Bremen",
    "Hannover",
    "Essen",
    "Dortmund",
    "Bonn",
]

MAPPINGS = {
    "crm_account": (
        "Account",
        {"name": "Name", "number": "AccountNumber", "phone": "Phone", "email": "Email"},
        {"city": "BillingCity", "postal_code": "BillingPostalCode"},
    ),
    "erp_customer": (
        "customers",
        {"name": "name", "number": "customer_no", "phone": "phone", "email": "email"},
        {"city": "city", "postal_code": "postal_code"},
    ),
}


def _mapping(name: str) -> dict[str, Any]:
    object_name, plain, address = MAPPINGS[name]
    fields: list[dict[str, Any]] = [{"canonical": c, "native": n} for c, n in plain.items()]
    fields += [{"canonical": f"billing_address.{c}", "native": n} for c, n in address.items()]
    return {"name": name, "entity": "customer", "object": object_name, "fields": fields}


def write_config(directory: Path, **flow: Any) -> Path:
    def system(name: str) -> dict[str, Any]:
        object_name, plain, address = MAPPINGS[name]
        native = [*plain.values(), *address.values()]
        spec = {"external_key": "isthmus_id", "fields": {key: {} for key in native}}
        spec["fields"]["Name" if "Name" in native else "name"] = {"required": True}
        return {"connector": "memory", "options": {"objects": {object_name: spec}}}

    (directory / "mappings").mkdir(exist_ok=True)
    for name in MAPPINGS:
        text = yaml.safe_dump(_mapping(name), sort_keys=False)
        (directory / "mappings" / f"{name}.yaml").write_text(text)
    config = {
        "version": 1,
        "store": f"sqlite:///{directory}/state.db",
        "systems": {"crm": system("crm_account"), "erp": system("erp_customer")},
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "crm", "object": "Account", "mapping": "crm_account"},
                "target": {"system": "erp", "object": "customers", "mapping": "erp_customer"},
                "direction": "both",
                "page_size": 500,
                "match": {
                    "keys": ["number"],
                    "fuzzy": {
                        "fields": {
                            "name": 0.5,
                            "phone": 0.2,
                            "email": 0.1,
                            "billing_address.city": 0.1,
                            "billing_address.postal_code": 0.1,
                        }
                    },
                },
                **flow,
            }
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


def customers(count: int, rng: random.Random) -> list[dict[str, str]]:
    """``count`` distinct customers, as the CRM holds them (CRM field names)."""
    seen: set[str] = set()
    result = []
    while len(result) < count:
        name = f"{rng.choice(WORDS)} {rng.choice(TRADES)} {rng.choice(WORDS)}"
        if name in seen:
            continue
        seen.add(name)
        index = len(result)
        city = rng.choice(CITIES)
        result.append(
            {
                "Name": f"{name} {rng.choice(FORMS)}".strip(),
                "Phone": f"+49 {rng.randint(30, 99)} {1_000_000 + index * 7:07d}",
                "Email": f"info{index}@{name.split(maxsplit=1)[0].lower()}.example",
                "BillingCity": city,
                "BillingPostalCode": f"{rng.randint(10000, 99999)}",
                "twin": str(index),
            }
        )
    return result


def typo(text: str, rng: random.Random) -> str:
    """One edit a person makes when typing a name: swap, drop, double or replace a letter."""
    i = rng.randrange(1, len(text) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice("aeinorst") + text[i + 1 :]


def vary(crm: dict[str, str], rng: random.Random) -> dict[str, str]:
    """The ERP"s copy of a CRM customer, with a difference a person would not notice."""
    name, phone = crm["Name"], crm["Phone"]
    change = rng.choice(("typo", "case", "spacing", "form", "phone"))
    if change == "typo":
        name = typo(name, rng)
    elif change == "case":
        name = name.upper() if rng.random() < 0.5 else name.lower()
    elif change == "spacing":
        name = "  ".join(name.split()) if rng.random() < 0.5 else name.replace(" ", "", 1)
    elif change == "form":
        name = name.rsplit(" ", 1)[0] if " " in name else name + " GmbH"
    if change == "phone" or rng.random() < 0.3:
        phone = "0" + phone.removeprefix("+49 ").replace(" ", "/")
    return {
        "name": name,
        "phone": phone,
        "email": crm["Email"].upper() if rng.random() < 0.2 else crm["Email"],
        "city": crm["BillingCity"],
        "postal_code": crm["BillingPostalCode"],
    }


def seed_twins(
    crm: MemoryConnector, erp: MemoryConnector, count: int, varied: float, seed: int = 4
) -> dict[str, str]:
    """Seed both sides with the same customers; returns CRM id -> its twin"s ERP id."""
    rng = random.Random(seed)
    twins = {}
    for record in customers(count, rng):
        fields = {k: v for k, v in record.items() if k != "twin"}
        account = crm.put("Account", fields)
        erp_fields = (
            vary(record, rng)
            if rng.random() < varied
            else {
                "name": record["Name"],
                "phone": record["Phone"],
                "email": record["Email"],
                "city": record["BillingCity"],
                "postal_code": record["BillingPostalCode"],
            }
        )
        twins[account] = erp.put("customers", erp_fields)
    return twins


def sync(engine: Engine, **options: Any) -> RunReport:
    async def run() -> RunReport:
        (report,) = await engine.sync(["customers"], options=RunOptions(**options))
        return report

    return asyncio.run(run())


def links(engine: Engine) -> dict[str, str]:
    """CRM id -> ERP id of every link."""
    crm = {x.canonical_id: x.native_id for x in engine.store.iter_xrefs("customer", "crm")}
    erp = {x.canonical_id: x.native_id for x in engine.store.iter_xrefs("customer", "erp")}
    return {crm[cid]: erp[cid] for cid in crm.keys() & erp.keys()}


def check_no_duplicates(
    engine: Engine, crm: MemoryConnector, erp: MemoryConnector, twins: dict[str, str]
) -> Counter[str]:
    """Nothing created, every link joins twins, every unlinked twin waits in review."""
    assert len(crm.records("Account")) == len(twins)
    assert len(erp.records("customers")) == len(twins)
    linked = links(engine)
    wrong = {crm_id: erp_id for crm_id, erp_id in linked.items() if twins[crm_id] != erp_id}
    assert wrong == {}
    items = engine.store.review_items(flow="customers", limit=100_000)
    in_review = {item.details["origin_id"] for item in items if item.kind == "duplicate"}
    unlinked = set(twins) - set(linked)
    assert unlinked <= in_review
    suggested_twin = sum(
        1 for item in items if twins.get(item.details["origin_id"]) in item.details["candidates"]
    )
    return Counter(linked=len(linked), review=len(items), suggested_twin=suggested_twin)
