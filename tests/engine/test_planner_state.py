"""A Hypothesis state machine over the pure planner and a tiny in-test executor.

Two systems hold records (flat dicts). Rules edit both sides, create, delete, make
writes fail, and sync. After every sync in which no write failed, every linked pair
agrees on each field that is not waiting for review, and a second sync writes nothing
(no echo, no ping-pong). Nothing is lost: a record of one side is always linked to a
record of the other after a clean sync (or is deleted on both, or decoupled).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from isthmus.engine.plan import RecordInput, SideState, plan_record
from isthmus.engine.policy import DeleteRule, FlowPolicy

FIELDS = ("name", "phone", "city")
VALUES = st.sampled_from(["", "a", "b", "c", "Ünïcødé", "x" * 50])
POLICY = FlowPolicy(
    flow="f",
    entity="customer",
    source="A",
    target="B",
    direction="both",
    conflict_default="review",
    on_delete=DeleteRule("propagate"),
    on_partner_missing="decouple",
)


@dataclass
class World:
    records: dict[str, dict[str, dict[str, str]]] = field(
        default_factory=lambda: {"A": {}, "B": {}}
    )
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # cid -> {system: id}
    bases: dict[str, dict[str, str]] = field(default_factory=dict)
    reviews: set[tuple[str, str]] = field(default_factory=set)  # (cid, field)
    ids: itertools.count = field(default_factory=itertools.count)

    def cid_of(self, system: str, native_id: str) -> str | None:
        return next(
            (cid for cid, sides in self.links.items() if sides.get(system) == native_id), None
        )

    def sync(self, fail: bool) -> int:
        """Sync A then B; returns the number of writes that reached a system."""
        writes = 0
        for origin, partner in (("A", "B"), ("B", "A")):
            seen = set(self.records[origin])
            gone = {
                sides[origin]
                for sides in self.links.values()
                if origin in sides and sides[origin] not in self.records[origin]
            }
            for native_id in sorted(seen | gone):
                writes += self._sync_one(origin, partner, native_id, fail)
        return writes

    def _sync_one(self, origin: str, partner: str, native_id: str, fail: bool) -> int:
        cid = self.cid_of(origin, native_id)
        partner_id = self.links.get(cid, {}).get(partner) if cid else None
        fields = self.records[origin].get(native_id)
        partner_state = None
        if partner_id is not None:
            partner_state = SideState(partner, partner_id, self.records[partner].get(partner_id))
        item = RecordInput(
            f"{origin}:{native_id}",
            SideState(origin, native_id, fields),
            partner_state,
            cid or f"c{next(self.ids)}",
            self.bases.get(cid) if cid else None,
            linked=partner_id is not None,
        )
        plan = plan_record(item, POLICY)
        applied = 0
        for write in plan.writes:
            if fail:
                return applied  # the write failed: nothing recorded, the change stays pending
            target = self.records[write.system]
            if write.kind == "create":
                new_id = f"{write.system}{next(self.ids)}"
                target[new_id] = {k: v for k, v in write.fields.items() if k in FIELDS}
                self.links[plan.canonical_id] = {origin: native_id, write.system: new_id}
            elif write.kind == "update":
                target[write.native_id].update({k: write.fields[k] for k in write.carries})
            else:
                target.pop(write.native_id, None)
            applied += 1
        cid = plan.canonical_id
        for system in plan.unlink:
            self.links.get(cid, {}).pop(system, None)
        if plan.drop_base:
            self.bases.pop(cid, None)
            self.links.pop(cid, None)
        elif plan.new_base is not None and cid in self.links:
            self.bases[cid] = dict(plan.new_base)
        for review in plan.reviews:
            self.reviews.add((cid, review.field))
        for decision in plan.decisions:
            self.reviews.discard((cid, decision.field))
        return applied


class PlannerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World()

    @rule(system=st.sampled_from("AB"), values=st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES)))
    def create(self, system: str, values: dict[str, str]) -> None:
        self.world.records[system][f"{system}{next(self.world.ids)}"] = values

    @precondition(lambda self: any(self.world.records.values()))
    @rule(data=st.data(), system=st.sampled_from("AB"), name=st.sampled_from(FIELDS), value=VALUES)
    def edit(self, data: st.DataObject, system: str, name: str, value: str) -> None:
        ids = sorted(self.world.records[system])
        if ids:
            self.world.records[system][data.draw(st.sampled_from(ids))][name] = value

    @precondition(lambda self: any(self.world.records.values()))
    @rule(data=st.data(), system=st.sampled_from("AB"))
    def delete(self, data: st.DataObject, system: str) -> None:
        ids = sorted(self.world.records[system])
        if ids:
            self.world.records[system].pop(data.draw(st.sampled_from(ids)))

    @rule()
    def failing_sync(self) -> None:
        self.world.sync(fail=True)

    @rule()
    def clean_sync(self) -> None:
        self.world.sync(fail=False)
        self.world.sync(fail=False)  # B's side may have changed A in the first pass
        # A third sync with no edits in between must write nothing: no echo, no ping-pong.
        assert self.world.sync(fail=False) == 0
        self._assert_converged()

    def _assert_converged(self) -> None:
        world = self.world
        for cid, sides in world.links.items():
            if len(sides) < 2:
                continue
            left, right = world.records["A"][sides["A"]], world.records["B"][sides["B"]]
            for name in FIELDS:
                if (cid, name) in world.reviews:
                    continue
                assert left[name] == right[name], (cid, name, left, right)
        linked = {
            system: {sides[system] for sides in world.links.values() if system in sides}
            for system in "AB"
        }
        for system in "AB":
            unlinked = set(world.records[system]) - linked[system]
            assert not unlinked, f"records of {system} never synced: {unlinked}"

    @invariant()
    def links_are_one_to_one(self) -> None:
        for system in "AB":
            ids = [sides[system] for sides in self.world.links.values() if system in sides]
            assert len(ids) == len(set(ids)), "a record is linked twice"


PlannerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestPlannerMachine = PlannerMachine.TestCase
