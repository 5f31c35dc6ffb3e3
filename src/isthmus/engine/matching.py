"""Finding partners for unlinked records before anything is created: exact keys, then
fuzzy scoring, with the I/O it needs (look-ups, or the partner read once per run into a
blocking index of the matching fields). Pure decisions live in ``isthmus.match``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from isthmus.connectors.base import NativeRecord
from isthmus.engine.config import FilterRule
from isthmus.engine.filters import passes
from isthmus.engine.observed import Gathered, Observed
from isthmus.engine.plan import SideState
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.sides import SideBinding
from isthmus.errors import LookupUnresolved
from isthmus.mapping import MappingError
from isthmus.match import (
    CandidateIndex,
    ExactMatches,
    FuzzyDecision,
    FuzzyRules,
    Profile,
    match_exact,
    match_fuzzy,
    profile,
)
from isthmus.store.base import Store
from isthmus.store.types import Xref

CandidateSource = Literal["auto", "index", "lookup"]


@dataclass
class MatchSession:
    """Matching state of one run, shared by its pages and both directions.

    ``claimed`` keeps a partner matched on one page from being matched again on a later
    one (in a dry run nothing is linked, so the store cannot tell); ``in_review`` holds
    the records of open duplicate reviews, which are neither matched nor created until
    a person decides; ``pretend_linked`` is what a dry run would have linked or created.
    """

    flow: str
    keys: Sequence[str]
    rules: FuzzyRules | None = None
    candidates: CandidateSource = "auto"
    # The flow's filter: a record it leaves out is never created, so it needs no match
    # (and no review); it is counted as filtered by the runner.
    filter: Sequence[FilterRule] = ()
    lookup_limit: int = 20
    claimed: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pretend_linked: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    indexes: dict[str, CandidateIndex] = field(default_factory=dict)
    _in_review: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _open_items: dict[tuple[str, str], int] = field(default_factory=dict)  # origin -> item id
    _loaded: bool = False
    _previous: dict[str, dict[str, str]] = field(default_factory=dict)

    def in_review(self, store: Store, system: str) -> set[str]:
        """Native ids of ``system`` in open duplicate review items of this flow."""
        if not self._loaded:
            self._loaded = True
            for item in store.review_items(flow=self.flow, status="open", limit=1_000_000):
                if item.kind == "duplicate":
                    self.hold(item.details, item.id)
        return self._in_review[system]

    def hold(self, details: dict[str, Any], item_id: int | None = None) -> None:
        """Remember the records of a duplicate review item (its ``details``)."""
        self._in_review[details["origin_system"]].add(details["origin_id"])
        self._in_review[details["partner_system"]].update(details["candidates"])
        if item_id is not None:
            self._open_items[(details["origin_system"], details["origin_id"])] = item_id

    def previous_partners(self, store: Store, system: str, other: str) -> dict[str, str]:
        """Native ids of ``system`` -> the ``other`` record each was last unlinked from.

        Read from the audit trail's unlink events once per direction of a run: the
        second direction reads after the first recorded its unlinks, so a record a
        delete just left behind is recognised in the same run.
        """
        if system not in self._previous:
            pairs: dict[str, str] = {}
            events = store.audit_events(flow=self.flow, action="unlink", limit=1_000_000)
            for event in reversed(events):  # oldest first: the latest unlink wins
                if not (event.native_id and event.other_value):
                    continue
                if event.system == system:
                    pairs[event.native_id] = str(event.other_value)
                elif event.system == other:
                    pairs[str(event.other_value)] = event.native_id
            self._previous[system] = pairs
        return self._previous[system]

    def settle(self, system: str, native_id: str) -> int | None:
        """The open duplicate review item of a record just linked or created, if any:
        there is nothing left for a person to decide."""
        return self._open_items.pop((system, native_id), None)


async def match_unlinked(
    ready: dict[str, Observed],
    xrefs: dict[str, Xref],
    sides: tuple[SideBinding, SideBinding],
    store: Store,
    resolver: StoreResolver,
    session: MatchSession,
    result: Gathered,
) -> dict[str, SideState]:
    """Exact keys, then fuzzy scoring, for unlinked records, before any create."""
    origin, partner = sides
    unlinked = {
        nid: item
        for nid, item in ready.items()
        if nid not in xrefs and item.view is not None and passes(item.view, session.filter)
    }
    if not unlinked:
        return {}
    matched = await _match_previous(unlinked, sides, store, session, result)
    result.matched_by.update(dict.fromkeys(matched, "previous"))
    unlinked = {nid: item for nid, item in unlinked.items() if nid not in matched}
    decided = await _match_exact(unlinked, partner, store, session, result)
    matched.update(decided.matched)
    result.matched_by.update(dict.fromkeys(decided.matched, "exact"))
    held = session.in_review(store, origin.system)
    rest = {}
    for nid, item in unlinked.items():
        if nid in matched or nid in result.duplicates:
            continue
        if nid in held:
            result.held.append(nid)
        else:
            rest[nid] = item
    if rest and session.rules is not None:
        for decision in await _match_fuzzy(rest, partner, store, resolver, session):
            if decision.outcome == "link" and decision.partner_id is not None:
                matched[decision.origin_id] = decision.partner_id
                result.matched_by[decision.origin_id] = "fuzzy"
                result.fuzzy_scores[decision.origin_id] = decision.candidates[0].score
            elif decision.outcome == "review":
                result.suggested[decision.origin_id] = decision
    return await _partner_states(matched, result, partner, resolver)


async def _match_previous(
    unlinked: dict[str, Observed],
    sides: tuple[SideBinding, SideBinding],
    store: Store,
    session: MatchSession,
    result: Gathered,
) -> dict[str, str]:
    """Undeleted records find the partner they were unlinked from, if it is still there
    and free: an undelete restores the link instead of matching or creating anew."""
    origin, partner = sides
    previous = session.previous_partners(store, origin.system, partner.system)
    wanted = {nid: previous[nid] for nid in unlinked if nid in previous}
    if not wanted:
        return {}
    found = await partner.connector.read_by_ids(partner.object_name, sorted(set(wanted.values())))
    linked = store.xrefs_by_native(partner.entity, partner.system, list(found))
    claimed = session.claimed[partner.system]
    matched: dict[str, str] = {}
    for nid, partner_id in wanted.items():
        if partner_id not in found:
            # Its partner was deleted and the flow unlinked them on purpose: syncing it
            # now would re-create the deleted record on the other side.
            result.kept_apart.append(nid)
        elif partner_id not in linked and partner_id not in claimed:
            claimed.add(partner_id)
            result.natives[(partner.system, partner_id)] = found[partner_id]
            matched[nid] = partner_id
    return matched


async def _match_exact(
    unlinked: dict[str, Observed],
    partner: SideBinding,
    store: Store,
    session: MatchSession,
    result: Gathered,
) -> ExactMatches:
    claimed = session.claimed[partner.system]  # a partner record is matched by one record only
    decided = ExactMatches()
    for key in session.keys:
        native_field = partner.native_field_for(key)
        wanted = {
            nid: item.view[key]
            for nid, item in unlinked.items()
            if nid not in decided.matched and item.view and item.view.get(key) not in (None, "")
        }
        if native_field is None or not wanted:
            continue
        found = await partner.connector.lookup(
            partner.object_name, native_field, sorted({str(v) for v in wanted.values()})
        )
        for recs in found.values():
            for rec in recs:
                result.natives[(partner.system, rec.id)] = rec
        linked = set(
            store.xrefs_by_native(
                partner.entity, partner.system, [rec.id for recs in found.values() for rec in recs]
            )
        )
        linked |= session.pretend_linked[partner.system]
        found_ids = {value: [rec.id for rec in recs] for value, recs in found.items()}
        match_exact(wanted, found_ids, linked, claimed, decided)
    result.duplicates.update(decided.ambiguous)
    return decided


async def _match_fuzzy(
    rest: dict[str, Observed],
    partner: SideBinding,
    store: Store,
    resolver: StoreResolver,
    session: MatchSession,
) -> list[FuzzyDecision]:
    rules = session.rules
    assert rules is not None
    profiles = [profile(nid, item.view or {}, rules) for nid, item in rest.items()]
    claimed = session.claimed[partner.system]
    index = session.indexes.get(partner.system)
    if index is None and _may_look_up(rest, partner, store, session):
        small = await _lookup_index(rest, partner, resolver, rules)
        decisions = match_fuzzy(
            profiles, small, _excluded(profiles, small, partner, store, session), claimed
        )
        unsure = {d.origin_id for d in decisions if d.outcome == "create"}
        if session.candidates == "lookup" or not unsure:
            return decisions
        # Lookups only find raw-equal values; before creating, check the whole partner.
        decided = {d.origin_id: d for d in decisions if d.origin_id not in unsure}
        for decision in await _match_with_index(
            [p for p in profiles if p.id in unsure], partner, store, resolver, session
        ):
            decided[decision.origin_id] = decision
        return [decided[p.id] for p in profiles]
    return await _match_with_index(profiles, partner, store, resolver, session)


def _may_look_up(
    rest: dict[str, Observed], partner: SideBinding, store: Store, session: MatchSession
) -> bool:
    """Look up instead of reading everything: a few new records of a flow already linked."""
    if session.candidates == "lookup":
        return True
    return (
        session.candidates == "auto"
        and len(rest) <= session.lookup_limit
        and store.count_xrefs(partner.entity, partner.system) > 0
    )


async def _match_with_index(
    profiles: list[Profile],
    partner: SideBinding,
    store: Store,
    resolver: StoreResolver,
    session: MatchSession,
) -> list[FuzzyDecision]:
    assert session.rules is not None
    index = session.indexes.get(partner.system)
    if index is None:
        index = await _read_index(partner, resolver, session.rules)
        session.indexes[partner.system] = index
    excluded = _excluded(profiles, index, partner, store, session)
    return match_fuzzy(profiles, index, excluded, session.claimed[partner.system])


def _excluded(
    profiles: list[Profile],
    index: CandidateIndex,
    partner: SideBinding,
    store: Store,
    session: MatchSession,
) -> set[str]:
    """Candidates that may not be matched: linked, in an open review, or (dry run) taken."""
    candidate_ids = sorted({c.id for item in profiles for c in index.candidates(item)})
    excluded = set(store.xrefs_by_native(partner.entity, partner.system, candidate_ids))
    excluded |= session.in_review(store, partner.system)
    excluded |= session.pretend_linked[partner.system]
    return excluded


async def _read_index(
    partner: SideBinding, resolver: StoreResolver, rules: FuzzyRules
) -> CandidateIndex:
    """Every live partner record's matching fields, read once per run."""
    index = CandidateIndex(rules)
    async for page in partner.connector.read_changes(partner.object_name, None, page_size=1000):
        _add_profiles(index, [rec for rec in page.records if not rec.deleted], partner, resolver)
    return index


async def _lookup_index(
    rest: dict[str, Observed], partner: SideBinding, resolver: StoreResolver, rules: FuzzyRules
) -> CandidateIndex:
    """Candidates found by the raw values of the matching fields: a few calls instead of
    reading the whole partner, for the few new records of an incremental run."""
    index = CandidateIndex(rules)
    for path in rules.paths:
        native_field = partner.native_field_for(path)
        values = sorted(
            {str(item.view[path]) for item in rest.values() if item.view and item.view.get(path)}
        )
        if native_field is None or not values:
            continue
        found = await partner.connector.lookup(partner.object_name, native_field, values)
        _add_profiles(index, [rec for recs in found.values() for rec in recs], partner, resolver)
    return index


def _add_profiles(
    index: CandidateIndex,
    records: Sequence[NativeRecord],
    partner: SideBinding,
    resolver: StoreResolver,
) -> None:
    for record in records:
        try:
            view = partner.view(record.fields, resolver)
        except (MappingError, LookupUnresolved):
            continue  # a record that cannot be read cannot be a partner either
        index.add(profile(record.id, view, index.rules))


async def _partner_states(
    matched: dict[str, str],
    result: Gathered,
    partner: SideBinding,
    resolver: StoreResolver,
) -> dict[str, SideState]:
    """Partner states for matched records; suggested candidates are read for review too."""
    wanted = set(matched.values()) | {
        c.id for decision in result.suggested.values() for c in decision.candidates
    }
    missing = sorted(pid for pid in wanted if (partner.system, pid) not in result.natives)
    if missing:
        found = await partner.connector.read_by_ids(partner.object_name, missing)
        for record in found.values():
            result.natives[(partner.system, record.id)] = record
    states: dict[str, SideState] = {}
    for nid, partner_id in matched.items():
        native = result.natives.get((partner.system, partner_id))
        if native is None:
            continue  # gone since the index was read: nothing to link, so it is created
        states[nid] = SideState(
            partner.system,
            native.id,
            partner.view(native.fields, resolver),
            modified_at=native.modified_at,
        )
    return states
