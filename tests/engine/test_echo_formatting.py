"""A system that reformats what it stores is not taken as making a change.

The ERP keeps phone numbers as digits only and collapses spaces in names. Without
formatting-aware comparison, each write would bounce back once and overwrite the
user's formatting in the CRM.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from isthmus.engine.engine import Engine
from tests.engine.memoryfixtures import open_engine, write_config


def _digits(value: Any) -> Any:
    return re.sub(r"\D", "", value) if isinstance(value, str) else value


def _collapse(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def _sync(engine: Engine) -> dict[str, int]:
    (report,) = asyncio.run(engine.sync(["customers"]))
    return dict(report.counts)


def test_reformatting_by_the_target_does_not_bounce_back(tmp_path: Path) -> None:
    engine, crm, erp = open_engine(write_config(tmp_path))
    erp.reformat = {"phone": _digits, "name": _collapse}
    account = crm.put(
        "Account", {"Name": "Acme  Corp ", "AccountNumber": "C-1", "Phone": "+49 (30) 123-45"}
    )
    _sync(engine)
    (customer_id, customer) = next(iter(erp.records("customers").items()))
    assert (customer["phone"], customer["name"]) == ("493012345", "Acme Corp")

    counts = _sync(engine)
    assert counts.get("updated", 0) == 0, counts
    crm_record = crm.get("Account", account)
    assert crm_record is not None
    assert (crm_record["Phone"], crm_record["Name"]) == ("+49 (30) 123-45", "Acme  Corp ")

    # A formatting-only edit on the CRM side is not sent either...
    crm.put("Account", {"Phone": "+49 30 12345"}, account)
    assert _sync(engine).get("updated", 0) == 0
    # ...but a real change still is, both ways.
    erp.put("customers", {"phone": "4930999"}, customer_id)
    _sync(engine)
    assert crm.get("Account", account)["Phone"] == "4930999"  # type: ignore[index]
    crm.put("Account", {"Name": "ACME Corp"}, account)  # letter case is a real change
    _sync(engine)
    assert erp.get("customers", customer_id)["name"] == "ACME Corp"  # type: ignore[index]
    asyncio.run(engine.close())
