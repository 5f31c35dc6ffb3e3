"""Safety valves: stop a run that looks like an accident before it does damage.

Two signs of an accident, each answered with ``SafetyValveError`` and a request to
re-run with ``--force`` once a person has looked:
- a full read of a side that returns nothing while we hold links for it (a wrong
  filter, an emptied table, a credentials switch to an empty sandbox);
- a run that would delete, or overwrite a value someone typed on the other side, for
  more than a set share of the linked records.
Counts accumulate over the whole run, so a mass delete spread over pages still stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from isthmus.engine.plan import RecordPlan
from isthmus.engine.policy import SafetyLimits
from isthmus.errors import SafetyValveError


@dataclass
class SafetyValve:
    flow: str
    limits: SafetyLimits
    linked: int
    force: bool = False
    deletes: int = 0
    overwrites: int = 0

    def check_empty_side(self, system: str, linked_here: int) -> None:
        if self.force or linked_here < max(1, self.limits.min_links):
            return
        raise SafetyValveError(
            f"flow {self.flow!r}: {system} returned no records at all, but {linked_here} of its "
            "records are linked. Nothing was changed. If the side really is empty now, run "
            "again with --force."
        )

    def admit(self, plans: Sequence[RecordPlan]) -> None:
        """Count a page's drastic actions; raise before anything of the page is written."""
        deletes = sum(1 for plan in plans for write in plan.writes if write.kind == "delete")
        overwrites = sum(
            1
            for plan in plans
            for decision in plan.decisions
            # A both-sides edit settled by policy overwrites what someone typed, whether
            # or not the field had a value at the last agreement.
            if decision.conflict
        )
        if self.force or self.linked < self.limits.min_links:
            self.deletes += deletes
            self.overwrites += overwrites
            return
        if (self.deletes + deletes) > self.limits.max_delete_ratio * self.linked:
            raise SafetyValveError(
                f"flow {self.flow!r} would delete {self.deletes + deletes} of {self.linked} linked "
                f"records (limit {self.limits.max_delete_ratio:.0%}). The deletes so far stopped "
                "here. Check the source system; if the deletes are intended, run again with "
                "--force."
            )
        if (self.overwrites + overwrites) > self.limits.max_overwrite_ratio * self.linked:
            raise SafetyValveError(
                f"flow {self.flow!r} would overwrite values changed on both sides in "
                f"{self.overwrites + overwrites} of {self.linked} linked records (limit "
                f"{self.limits.max_overwrite_ratio:.0%}). Check the conflict policy; to go "
                "ahead, run again with --force."
            )
        self.deletes += deletes
        self.overwrites += overwrites
