"""Convergence, as a Hypothesis state machine over the real engine.

Random creates, edits and deletes on both systems, with syncs in between. A model
keeps what each field must end at under the flow's policy:

- ``Name``: conflict rule ``source`` (the CRM wins when both sides changed it);
- ``Phone``: ``last_writer`` with no clock-skew allowance (the record edited last wins);
- ``Website``: owned by the ERP (a CRM edit is reverted to the ERP's value).

After every sync both systems hold the same set of business records, each exactly
once, each field at the value the model dictates, and every both-sides edit that was
settled by policy left an audit event.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config

FIELDS = {"name": ("Name", "name"), "phone": ("Phone", "phone"), "website": ("Website", "web")}
values = st.sampled_from(["a", "b", "c", "d"])
sides = st.sampled_from(["crm", "erp"])


@dataclass
class Business:
    """One business record as the model sees it."""

    number: str
    agreed: dict[str, str | None]  # field -> value both sides hold after the last sync
    ids: dict[str, str] = field(default_factory=dict)  # side -> native id, once it exists
    edits: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)  # side -> field
    last_edit: dict[str, int] = field(default_factory=dict)  # side -> sequence of last edit

    def _moved(self, side: str) -> dict[str, tuple[int, str]]:
        """Edits that changed a value (saving the same value is not a change)."""
        return {n: e for n, e in self.edits.get(side, {}).items() if e[1] != self.agreed[n]}

    def expected(self) -> dict[str, str | None]:
        crm, erp = self._moved("crm"), self._moved("erp")
        result = dict(self.agreed)
        if len(self.ids) == 1:
            # Not synced yet: the create carries what its one side holds (there is no
            # partner value for ownership to protect).
            result.update({n: e[1] for n, e in (crm or erp).items()})
            return result
        for name in FIELDS:
            mine, theirs = crm.get(name), erp.get(name)
            if name == "website":
                result[name] = theirs[1] if theirs else self.agreed[name]  # the ERP owns it
            elif mine and theirs and mine[1] != theirs[1]:
                if name == "name":
                    result[name] = mine[1]  # source wins
                else:  # last writer: the record modified last, whatever field it was
                    later = self.last_edit["crm"] > self.last_edit["erp"]
                    result[name] = mine[1] if later else theirs[1]
            elif mine or theirs:
                result[name] = (mine or theirs)[1]  # type: ignore[index]
        return result

    def contested(self) -> set[str]:
        crm, erp = self._moved("crm"), self._moved("erp")
        return {n for n in set(crm) & set(erp) if crm[n][1] != erp[n][1]}


class Convergence(RuleBasedStateMachine):
    records = Bundle("records")

    @initialize()
    def start(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="isthmus-convergence-"))
        config = write_config(
            self.directory,
            customers={
                "conflict": {
                    "default": "review",
                    "fields": {"name": "source", "phone": "last_writer"},
                    "clock_skew": "0s",
                },
                "ownership": {"website": "erp"},
                "on_delete": {"action": "propagate"},
                "safety": {"min_links": 1000},  # the valves are tested elsewhere
            },
        )
        self.engine, self.crm, self.erp = open_engine(config)
        self.systems: dict[str, MemoryConnector] = {"crm": self.crm, "erp": self.erp}
        self.numbers = itertools.count(1)
        self.clock = itertools.count(1)
        self.live: list[Business] = []
        self.contested_seen: list[tuple[str, str]] = []

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            asyncio.run(self.engine.close())
            shutil.rmtree(self.directory, ignore_errors=True)

    def _native(self, side: str, values_: dict[str, str | None]) -> dict[str, str | None]:
        index = 0 if side == "crm" else 1
        return {FIELDS[name][index]: value for name, value in values_.items()}

    @rule(target=records, side=sides, name=values, phone=values)
    def create(self, side: str, name: str, phone: str) -> Business:
        number = f"N-{next(self.numbers)}"
        business = Business(number, {"name": name, "phone": phone, "website": None})
        fields = self._native(side, {"name": name, "phone": phone})
        fields["AccountNumber" if side == "crm" else "customer_no"] = number
        obj = "Account" if side == "crm" else "customers"
        business.ids[side] = self.systems[side].put(obj, fields)
        self.live.append(business)
        return business

    @rule(business=records, side=sides, name=st.sampled_from(sorted(FIELDS)), value=values)
    def edit(self, business: Business, side: str, name: str, value: str) -> None:
        if business not in self.live or side not in business.ids:
            return  # deleted, or not on that side yet
        obj = "Account" if side == "crm" else "customers"
        self.systems[side].put(obj, self._native(side, {name: value}), business.ids[side])
        seq = next(self.clock)
        business.edits.setdefault(side, {})[name] = (seq, value)
        business.last_edit[side] = seq

    @rule(
        business=records,
        name=st.sampled_from(sorted(FIELDS)),
        crm_value=values,
        erp_value=values,
        erp_first=st.booleans(),
    )
    def edit_on_both_sides(
        self, business: Business, name: str, crm_value: str, erp_value: str, erp_first: bool
    ) -> None:
        """Two people change the same field between syncs: the case policies exist for."""
        order = [("erp", erp_value), ("crm", crm_value)]
        for side, value in order if erp_first else reversed(order):
            self.edit(business, side, name, value)

    @precondition(lambda self: any(len(b.ids) == 2 and not b.edits for b in self.live))
    @rule(data=st.data(), side=sides)
    def delete(self, data: st.DataObject, side: str) -> None:
        calm = [b for b in self.live if len(b.ids) == 2 and not b.edits]
        business = data.draw(st.sampled_from(calm))
        obj = "Account" if side == "crm" else "customers"
        self.systems[side].remove(obj, business.ids[side])
        self.live.remove(business)

    @rule()
    def sync(self) -> None:
        for business in self.live:
            for name in business.contested():
                self.contested_seen.append((business.number, name))
        asyncio.run(self.engine.sync(["customers"]))
        crm_by_number = {r["AccountNumber"]: (k, r) for k, r in self.crm.records("Account").items()}
        erp_by_number = {r["customer_no"]: (k, r) for k, r in self.erp.records("customers").items()}
        for business in self.live:
            expected = business.expected()
            crm_id, crm_record = crm_by_number[business.number]
            erp_id, erp_record = erp_by_number[business.number]
            for name, (crm_field, erp_field) in FIELDS.items():
                assert crm_record.get(crm_field) == expected[name], (business, name, crm_record)
                assert erp_record.get(erp_field) == expected[name], (business, name, erp_record)
            business.ids = {"crm": crm_id, "erp": erp_id}
            business.agreed, business.edits, business.last_edit = expected, {}, {}
        assert len(crm_by_number) == len(erp_by_number) == len(self.live), "deletes travel"

    @invariant()
    def one_record_per_business_on_each_side(self) -> None:
        if not hasattr(self, "crm"):
            return
        crm_numbers = [r["AccountNumber"] for r in self.crm.records("Account").values()]
        erp_numbers = [r["customer_no"] for r in self.erp.records("customers").values()]
        assert len(crm_numbers) == len(set(crm_numbers)), "a duplicate in the CRM"
        assert len(erp_numbers) == len(set(erp_numbers)), "a duplicate in the ERP"

    @invariant()
    def every_settled_conflict_is_audited(self) -> None:
        if not getattr(self, "contested_seen", None):
            return
        audited = {
            e.field
            for e in self.engine.store.audit_events(flow="customers", limit=100_000)
            if e.action in ("conflict", "revert")
        }
        for _, name in self.contested_seen:
            assert name in audited, f"a both-sides edit of {name} left no audit event"


TestConvergence = Convergence.TestCase
TestConvergence.settings = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
