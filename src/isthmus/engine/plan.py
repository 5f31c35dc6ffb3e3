"""The pure planner: (change, link, base, partner, policy) -> a plan of actions.

No I/O happens here, so every decision the engine makes about one record can be tested
with plain values (including a Hypothesis state machine, tests/engine/test_planner_*.py).
The executor (``engine.executor``) gathers the inputs and carries plans out.

Vocabulary: the *origin* is the system where the change was observed; the *partner* is
the linked (or matched) record in the other system of the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from isthmus.engine.merge import FieldOutcome, Timestamps, merge_field, same_at
from isthmus.engine.policy import FlowPolicy
from isthmus.model.flat import Flat, FlatValue


@dataclass(frozen=True)
class SideState:
    """One system's view of a record, canonicalised."""

    system: str
    native_id: str | None
    fields: Flat | None  # None: the record is gone (deleted, or missing on read)
    base_view: Flat | None = None  # the base as this side would hold it
    modified_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.fields is not None


@dataclass(frozen=True)
class RecordInput:
    key: str
    origin: SideState
    partner: SideState | None  # None: no link and no match
    canonical_id: str | None  # the link id, or a fresh one for an unlinked record
    base: Flat | None
    linked: bool  # partner came from a link (True) or from matching (False)


@dataclass(frozen=True)
class Write:
    """Write canonical values to one system. ``fields`` is the full merged record for
    creates and updates; the executor turns it into native fields and sends only the
    native fields that differ from what the system holds."""

    system: str
    kind: Literal["create", "update", "delete"]
    native_id: str | None
    fields: Flat
    carries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """One field's merge outcome, for the audit trail."""

    field: str
    value: FlatValue
    origin_value: FlatValue
    partner_value: FlatValue
    base_value: FlatValue
    winner: str
    reason: str
    conflict: bool


PlanAction = Literal["skip", "create", "update", "delete", "link", "decouple", "review"]


@dataclass(frozen=True)
class RecordPlan:
    key: str
    action: PlanAction
    canonical_id: str | None
    reason: str
    writes: tuple[Write, ...] = ()
    new_base: Flat | None = None
    decisions: tuple[Decision, ...] = ()
    reviews: tuple[Decision, ...] = ()
    link_partner: bool = False  # record the partner as linked (match, or after create)
    unlink: tuple[str, ...] = ()  # systems whose xref is to be removed
    drop_base: bool = False


def plan_record(item: RecordInput, policy: FlowPolicy) -> RecordPlan:
    """Decide what to do with one observed record."""
    origin, partner = item.origin, item.partner
    if not origin.exists:
        return _plan_origin_gone(item, policy)
    if partner is None:
        return _plan_create(item, policy)
    if not partner.exists:
        return _plan_partner_missing(item, policy)
    return _plan_merge(item, policy)


def _plan_create(item: RecordInput, policy: FlowPolicy) -> RecordPlan:
    origin = item.origin
    target = policy.other(origin.system)
    if not policy.may_write(origin.system, target):
        return RecordPlan(
            item.key,
            "skip",
            item.canonical_id,
            f"one-way flow: records new in {origin.system} are not sent",
        )
    assert origin.fields is not None
    write = Write(target, "create", None, dict(origin.fields), frozenset(origin.fields))
    return RecordPlan(
        item.key,
        "create",
        item.canonical_id,
        f"new in {origin.system}",
        writes=(write,),
        new_base=dict(origin.fields),
    )


def _plan_origin_gone(item: RecordInput, policy: FlowPolicy) -> RecordPlan:
    origin, partner = item.origin, item.partner
    if item.canonical_id is None or partner is None or not item.linked:
        return RecordPlan(item.key, "skip", item.canonical_id, "deleted before it was ever linked")
    if not policy.may_write(origin.system, partner.system):
        return RecordPlan(
            item.key,
            "decouple",
            item.canonical_id,
            f"deleted in {origin.system}; one-way flow keeps {partner.system}'s copy",
            unlink=(origin.system,),
            drop_base=False,
        )
    rule = policy.on_delete
    if rule.action == "ignore":
        return RecordPlan(
            item.key,
            "skip",
            item.canonical_id,
            f"deleted in {origin.system}; this flow ignores deletes",
            unlink=(origin.system,),
        )
    if rule.action == "decouple" or not partner.exists:
        return RecordPlan(
            item.key,
            "decouple",
            item.canonical_id,
            f"deleted in {origin.system}; link removed, {partner.system} keeps its copy",
            unlink=(origin.system, partner.system),
            drop_base=True,
        )
    if rule.action == "deactivate":
        merged = dict(partner.fields or {})
        merged.update(rule.set_fields)
        write = Write(
            partner.system, "update", partner.native_id, merged, frozenset(rule.set_fields)
        )
        return RecordPlan(
            item.key,
            "update",
            item.canonical_id,
            f"deleted in {origin.system}; deactivated in {partner.system}",
            writes=(write,),
            unlink=(origin.system, partner.system),
            drop_base=True,
        )
    write = Write(partner.system, "delete", partner.native_id, {})
    return RecordPlan(
        item.key,
        "delete",
        item.canonical_id,
        f"deleted in {origin.system}; deleting in {partner.system}",
        writes=(write,),
        unlink=(origin.system, partner.system),
        drop_base=True,
    )


def _plan_partner_missing(item: RecordInput, policy: FlowPolicy) -> RecordPlan:
    origin, partner = item.origin, item.partner
    assert partner is not None
    assert origin.fields is not None
    action = policy.on_partner_missing
    if action == "restore" and policy.may_write(origin.system, partner.system):
        write = Write(partner.system, "create", None, dict(origin.fields), frozenset(origin.fields))
        return RecordPlan(
            item.key,
            "create",
            item.canonical_id,
            f"linked record {partner.native_id} is gone from {partner.system}; restoring it",
            writes=(write,),
            new_base=dict(origin.fields),
            unlink=(partner.system,),
        )
    if action == "decouple":
        return RecordPlan(
            item.key,
            "decouple",
            item.canonical_id,
            f"linked record {partner.native_id} is gone from {partner.system}; link removed",
            unlink=(partner.system,),
            drop_base=True,
        )
    decision = Decision(
        "*",
        None,
        "exists",
        "missing",
        None,
        "review",
        f"linked record {partner.native_id} is gone from {partner.system}: "
        "restore it or remove the link",
        conflict=True,
    )
    return RecordPlan(item.key, "review", item.canonical_id, decision.reason, reviews=(decision,))


@dataclass(frozen=True)
class _Meeting:
    """Both sides of a linked or matched pair, known to exist (saves None checks)."""

    origin: SideState
    partner: SideState
    origin_fields: Flat
    partner_fields: Flat
    base: Flat | None
    linked: bool

    def base_view(self, side: SideState, path: str) -> FlatValue:
        base = self.base or {}
        return (side.base_view or base).get(path, base.get(path))


def _plan_merge(item: RecordInput, policy: FlowPolicy) -> RecordPlan:
    assert item.partner is not None
    assert item.origin.fields is not None
    assert item.partner.fields is not None
    meeting = _Meeting(
        item.origin, item.partner, item.origin.fields, item.partner.fields, item.base, item.linked
    )
    times = Timestamps(item.origin.modified_at, item.partner.modified_at, policy.clock_skew)
    decided: Flat = {}  # paths whose value must travel: a side won, or a value was computed
    decisions: list[Decision] = []
    reviews: list[Decision] = []
    new_base: Flat = dict(item.base or {})
    for path in sorted(set(meeting.origin_fields) | set(meeting.partner_fields)):
        outcome = _merge_path(path, meeting, policy, times)
        if outcome.winner == "review":
            # Nothing is written for a field under review: both sides keep their value.
            reviews.append(_decision(path, outcome, meeting))
            continue
        if outcome.winner == "keep":
            continue
        if outcome.winner in ("origin", "partner", "computed"):
            decided[path] = outcome.value
        if outcome.winner != "none" or item.base is None or path not in item.base:
            new_base[path] = outcome.value
        if outcome.winner not in ("none", "both") or outcome.conflict:
            decisions.append(_decision(path, outcome, meeting))
    writes = _writes_for(meeting, policy, decided)
    action: PlanAction = "update" if writes else ("review" if reviews else "skip")
    if not item.linked and not writes:
        action = "link"
    return RecordPlan(
        item.key,
        action,
        item.canonical_id,
        _merge_reason(writes, reviews, meeting),
        writes=writes,
        new_base=new_base,
        decisions=tuple(decisions),
        reviews=tuple(reviews),
        link_partner=not item.linked,
    )


def _merge_path(
    path: str, meeting: _Meeting, policy: FlowPolicy, times: Timestamps
) -> FieldOutcome:
    if path not in meeting.partner_fields:
        return FieldOutcome(meeting.origin_fields[path], "none", "only the origin maps this field")
    if path not in meeting.origin_fields:
        return FieldOutcome(
            meeting.partner_fields[path], "none", "only the partner maps this field"
        )
    if meeting.base is None or path not in meeting.base:
        # First time these two records meet (linked by matching, or a field newly mapped):
        # there is no agreed value, so ownership or the flow's source picks a side.
        return _first_meeting(path, meeting, policy)
    if (
        policy.direction == "one_way"
        and policy.repair
        and _only_target_moved(path, meeting, policy)
    ):
        from_origin = meeting.origin.system == policy.source
        fields = meeting.origin_fields if from_origin else meeting.partner_fields
        return FieldOutcome(
            fields[path],
            "origin" if from_origin else "partner",
            "reconciliation repair: the source's value restored on the target",
        )
    if policy.direction == "one_way" and _only_target_moved(path, meeting, policy):
        # A one-way flow sends the source's changes; it does not police the target. A
        # field only the target changed is left alone (and reconciliation reports it).
        return FieldOutcome(
            meeting.partner_fields[path],
            "keep",
            "target's own change kept: a one-way flow sends source changes only",
        )
    return merge_field(
        meeting.origin_fields[path],
        meeting.partner_fields[path],
        meeting.base_view(meeting.origin, path),
        meeting.base_view(meeting.partner, path),
        meeting.base.get(path),
        rule=policy.rule_for(path),
        owner=_side_of(policy.owner_of(path), meeting),
        times=times,
        rule_side=_rule_side(path, meeting, policy),
        path=path,
    )


def _only_target_moved(path: str, meeting: _Meeting, policy: FlowPolicy) -> bool:
    origin_is_target = meeting.origin.system == policy.target
    target, target_fields = (
        (meeting.origin, meeting.origin_fields)
        if origin_is_target
        else (meeting.partner, meeting.partner_fields)
    )
    source, source_fields = (
        (meeting.partner, meeting.partner_fields)
        if origin_is_target
        else (meeting.origin, meeting.origin_fields)
    )
    target_moved = not same_at(path, target_fields[path], meeting.base_view(target, path))
    source_moved = not same_at(path, source_fields[path], meeting.base_view(source, path))
    return target_moved and not source_moved


def _first_meeting(path: str, meeting: _Meeting, policy: FlowPolicy) -> FieldOutcome:
    left, right = meeting.origin_fields[path], meeting.partner_fields[path]
    if same_at(path, left, right):
        return FieldOutcome(left, "both", "equal on both sides when first linked")
    owner = policy.owner_of(path) or policy.source
    if policy.rule_for(path) == "target" and path not in policy.ownership:
        owner = policy.target
    if owner == meeting.origin.system:
        return FieldOutcome(left, "origin", f"first link: {owner}'s value taken", conflict=True)
    return FieldOutcome(right, "partner", f"first link: {owner}'s value taken", conflict=True)


def _side_of(system: str | None, meeting: _Meeting) -> Literal["origin", "partner"] | None:
    if system is None:
        return None
    return "origin" if system == meeting.origin.system else "partner"


def _rule_side(
    path: str, meeting: _Meeting, policy: FlowPolicy
) -> Literal["origin", "partner"] | None:
    """The side a ``source``/``target`` conflict rule names for this path, if any."""
    rule = policy.rule_for(path)
    if rule == "source":
        return _side_of(policy.source, meeting)
    if rule == "target":
        return _side_of(policy.target, meeting)
    return None


def _writes_for(meeting: _Meeting, policy: FlowPolicy, decided: Flat) -> tuple[Write, ...]:
    """Updates for each side that holds a decided value differently. Unchanged fields are
    never rewritten: a side that stores a value its own way (truncated, rounded) keeps it."""
    writes: list[Write] = []
    for side, fields in (
        (meeting.partner, meeting.partner_fields),
        (meeting.origin, meeting.origin_fields),
    ):
        if not policy.may_write(policy.other(side.system), side.system):
            continue
        changed = frozenset(
            path
            for path, value in decided.items()
            if path in fields
            and not same_at(path, fields[path], value)
            and policy.can_write(side.system, path)
        )
        if changed:
            full = dict(fields)
            full.update(decided)
            writes.append(Write(side.system, "update", side.native_id, full, changed))
    return tuple(writes)


def _decision(path: str, outcome: FieldOutcome, meeting: _Meeting) -> Decision:
    return Decision(
        path,
        outcome.value,
        meeting.origin_fields.get(path),
        meeting.partner_fields.get(path),
        (meeting.base or {}).get(path),
        outcome.winner,
        outcome.reason,
        outcome.conflict,
    )


def _merge_reason(writes: tuple[Write, ...], reviews: list[Decision], meeting: _Meeting) -> str:
    parts = []
    if not meeting.linked:
        parts.append(f"matched {meeting.partner.system} record {meeting.partner.native_id}")
    parts.extend(f"{len(write.carries)} field(s) to {write.system}" for write in writes)
    if reviews:
        parts.append(f"{len(reviews)} conflict(s) to review")
    if not parts:
        parts.append("no change (already in agreement)")
    return "; ".join(parts)
