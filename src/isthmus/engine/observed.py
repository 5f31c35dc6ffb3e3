"""What the gather step hands the planner and the recorder: each record of a page after
canonicalisation (``Observed``), and everything read for the page (``Gathered``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from isthmus.connectors.base import NativeRecord
from isthmus.engine.plan import RecordInput, SideState
from isthmus.errors import LookupUnresolved, RecordError
from isthmus.match import (
    FuzzyDecision,
)
from isthmus.model.flat import Flat
from isthmus.store.types import Xref


@dataclass
class Observed:
    """One record of the page after canonicalisation."""

    record: NativeRecord
    view: Flat | None = None
    hash: str | None = None
    error: RecordError | None = None
    waiting_on: LookupUnresolved | None = None


@dataclass
class Gathered:
    inputs: list[RecordInput] = field(default_factory=list)
    observed: dict[str, Observed] = field(default_factory=dict)
    # native records as each side holds them, keyed (system, native_id): the executor
    # diffs native fields against these so it only sends what really changes.
    natives: dict[tuple[str, str], NativeRecord] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    # fuzzy matches too uncertain to link: origin id -> the decision with its suggestions
    suggested: dict[str, FuzzyDecision] = field(default_factory=dict)
    # unlinked records already part of an open duplicate review: not matched, not created
    held: list[str] = field(default_factory=list)
    # origin id -> "exact" or "fuzzy", for records matched to an unlinked partner
    matched_by: dict[str, str] = field(default_factory=dict)
    fuzzy_scores: dict[str, float] = field(default_factory=dict)  # origin id -> link score
    origin_xrefs: dict[str, Xref] = field(default_factory=dict)
    # unlinked records whose partner was deleted and the flow kept them apart (decouple,
    # deactivate): not synced again unless their partner comes back (an undelete)
    kept_apart: list[str] = field(default_factory=list)
    _partners: dict[str, SideState | None] | None = None

    @property
    def waits_for_review(self) -> set[str]:
        """Unlinked records a person decides on: not planned, not created."""
        return {*self.duplicates, *self.suggested, *self.held}

    def partner_of(self, key: str) -> SideState | None:
        """The partner state planned for a record key (an index, built once per page)."""
        if self._partners is None or len(self._partners) != len(self.inputs):
            self._partners = {item.key: item.partner for item in self.inputs}
        return self._partners.get(key)
