"""Record what a page did, in one unit of work with its cursor.

This is the commit point of the write protocol: links (xrefs), content hashes, bases,
audit events, dead letters, review items, counters and the cursor all advance together
or not at all. A crash before this commit leaves pending writes (found by key on
restart) and a cursor that has not moved (so the page is read again, and everything
already applied is recognised as unchanged).

Links, content hashes and dead-letter closes are asked ``*_at_commit``: the store writes
a whole page of them in a few statements when the unit of work commits, and a link
conflict then rolls the whole page back, as it did when it was raised here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from isthmus.connectors.base import Cursor
from isthmus.engine.execute import Task
from isthmus.engine.observed import Observed
from isthmus.engine.plan import Decision, RecordPlan
from isthmus.engine.report import RunReport
from isthmus.errors import RecordError
from isthmus.model.flat import Flat, content_hash
from isthmus.store.base import UnitOfWork
from isthmus.store.types import AuditAction, AuditEvent, DeadLetter, ReviewItem, Xref, XrefTouch


@dataclass
class PlanOutcome:
    """A plan with its tasks after sending, plus what each side now holds."""

    plan: RecordPlan
    origin_system: str
    origin_id: str
    partner_system: str
    partner_id: str | None = None  # known for linked and matched records; set on create
    tasks: list[Task] = field(default_factory=list)
    # system -> the view that system holds after this plan (feeds the content hashes)
    holds: dict[str, Flat] = field(default_factory=dict)


@dataclass(frozen=True)
class PageContext:
    flow: str
    entity: str
    run_id: str
    actor: str = "engine"


def first_error(outcome: PlanOutcome) -> RecordError | None:
    for task in outcome.tasks:
        if task.error is not None:
            return task.error
        if task.result is not None and task.result.error is not None:
            return task.result.error
    return None


def record_outcome(uow: UnitOfWork, ctx: PageContext, out: PlanOutcome, report: RunReport) -> None:
    plan = out.plan
    waiting = next((task.waiting_on for task in out.tasks if task.waiting_on), None)
    if waiting is not None:
        _dead_letter(
            uow,
            ctx,
            out.origin_system,
            out.origin_id,
            RecordError("validation", str(waiting), field=waiting.field),
            plan.canonical_id,
            waiting=True,
        )
        report.add("waiting")
        return
    error = first_error(out)
    failed_fields = (
        frozenset().union(
            *(
                task.write.carries
                for task in out.tasks
                if task.error is not None
                or (task.result is not None and task.result.error is not None)
            )
        )
        if error
        else frozenset()
    )
    cid = plan.canonical_id
    assert cid is not None
    _record_links(uow, ctx, out, error)
    for system in plan.unlink:
        native_id = out.origin_id if system == out.origin_system else out.partner_id
        if native_id is not None:
            uow.remove_xref(ctx.entity, system, native_id)
    if plan.drop_base and error is None:
        uow.delete_base(cid)
    elif plan.new_base is not None and not plan.unlink:
        base = dict(plan.new_base)
        if failed_fields and plan.action != "create":
            # Fields whose write failed keep their old base, so the next run sees them
            # as still changed on one side and sends them again.
            for path in failed_fields:
                base.pop(path, None)
        if error is None or plan.action != "create":
            uow.set_base(cid, ctx.entity, base)
    uow.add_audit(_audit(ctx, out, error))
    for review in plan.reviews:
        _review(uow, ctx, out, review)
    if error is not None:
        _dead_letter(
            uow, ctx, out.origin_system, out.origin_id, error, cid, waiting=error.retryable
        )
        report.add("dead_letters")
    else:
        uow.close_dead_letter_at_commit(ctx.flow, out.origin_system, out.origin_id, "resolved")
        _count(report, uow, ctx, plan)
    if plan.reviews:
        report.add("review", len(plan.reviews))
        report.add("conflicts", len(plan.reviews))
    # Values that differ when two records are first linked are settled by ownership or
    # the flow's source; they are audited, but nobody edited both sides: not conflicts.
    report.add(
        "conflicts",
        sum(1 for d in plan.decisions if d.conflict and not d.reason.startswith("first link")),
    )
    report.add(
        "settled_at_link",
        sum(1 for d in plan.decisions if d.conflict and d.reason.startswith("first link")),
    )


def _record_links(
    uow: UnitOfWork, ctx: PageContext, out: PlanOutcome, error: RecordError | None
) -> None:
    plan = out.plan
    cid = plan.canonical_id
    assert cid is not None
    if out.origin_system in plan.unlink:
        return
    origin_hash = (
        content_hash(out.holds[out.origin_system])
        if (out.origin_system in out.holds and error is None)
        else None
    )
    uow.add_xref_at_commit(Xref(cid, ctx.entity, out.origin_system, out.origin_id))
    if origin_hash is not None:
        uow.touch_xref_at_commit(
            XrefTouch(ctx.entity, out.origin_system, out.origin_id, origin_hash)
        )
    for task in out.tasks:
        result = task.result
        system = task.write.system
        if task.write.kind == "create" and result is not None and result.ok and result.id:
            out.partner_id = result.id
            uow.add_xref_at_commit(Xref(cid, ctx.entity, system, result.id))
            uow.remove_pending_write(f"{cid}@{system}")
        elif task.write.kind == "create" and task.op is not None:
            uow.remove_pending_write(f"{cid}@{system}")
    if plan.link_partner and out.partner_id is not None and error is None:
        uow.add_xref_at_commit(Xref(cid, ctx.entity, out.partner_system, out.partner_id))
    for system, view in out.holds.items():
        if system == out.origin_system or error is not None:
            continue
        native_id = out.partner_id
        if native_id is not None:
            uow.touch_xref_at_commit(XrefTouch(ctx.entity, system, native_id, content_hash(view)))


def _count(report: RunReport, uow: UnitOfWork, ctx: PageContext, plan: RecordPlan) -> None:
    action = {
        "create": "created",
        "update": "updated",
        "delete": "deleted",
        "link": "linked",
        "skip": "unchanged",
        "decouple": "decoupled",
        "review": "unchanged",
    }[plan.action]
    report.add(action)
    if plan.link_partner and plan.action in ("link", "update"):
        if plan.action == "update":  # linked to an existing partner, then updated it
            report.add("linked")
        uow.bump_counter("duplicates_prevented", ctx.flow)


def _audit(ctx: PageContext, out: PlanOutcome, error: RecordError | None) -> Iterable[AuditEvent]:
    plan = out.plan
    common: dict[str, Any] = {
        "flow": ctx.flow,
        "entity": ctx.entity,
        "run_id": ctx.run_id,
        "canonical_id": plan.canonical_id,
        "actor": ctx.actor,
    }
    if error is not None:
        yield AuditEvent(
            action="dead_letter",
            system=out.origin_system,
            native_id=out.origin_id,
            message=error.describe(),
            **common,
        )
        return
    if plan.action in ("create", "delete", "decouple") or (plan.link_partner and out.partner_id):
        actions: dict[str, AuditAction] = {
            "create": "create",
            "delete": "delete",
            "decouple": "unlink",
        }
        action = actions.get(plan.action, "link")
        yield AuditEvent(
            action=action,
            system=out.origin_system,
            native_id=out.origin_id,
            message=plan.reason,
            new_value=plan.new_base if plan.action == "create" else None,
            other_value=out.partner_id,
            **common,
        )
    if plan.action == "update" and plan.unlink:
        # A deactivation: the partner stays, the link goes. Recorded as an unlink so an
        # undelete of the record finds its old partner again.
        yield AuditEvent(
            action="unlink",
            system=out.origin_system,
            native_id=out.origin_id,
            message=plan.reason,
            other_value=out.partner_id,
            **common,
        )
    for decision in plan.decisions:
        yield _decision_event(decision, out, common)


def _decision_event(decision: Decision, out: PlanOutcome, common: dict[str, Any]) -> AuditEvent:
    action: AuditAction = "conflict" if decision.conflict else "update"
    if decision.reason.startswith("changed on the side that does not own"):
        action = "revert"
    return AuditEvent(
        action=action,
        field=decision.field,
        system=out.origin_system,
        native_id=out.origin_id,
        old_value=decision.partner_value,
        new_value=decision.value,
        base_value=decision.base_value,
        other_value=decision.origin_value,
        decision=f"{decision.winner}: {decision.reason}",
        **common,
    )


def _review(uow: UnitOfWork, ctx: PageContext, out: PlanOutcome, review: Decision) -> None:
    cid = out.plan.canonical_id
    uow.put_review_item(
        ReviewItem(
            flow=ctx.flow,
            entity=ctx.entity,
            kind="conflict",
            canonical_id=cid,
            subject_key=f"{cid}:{review.field}",
            details={
                "field": review.field,
                "origin_system": out.origin_system,
                "origin_id": out.origin_id,
                "origin_value": review.origin_value,
                "partner_id": out.partner_id,
                "partner_value": review.partner_value,
                "base_value": review.base_value,
                "reason": review.reason,
            },
        )
    )
    uow.add_audit(
        [
            AuditEvent(
                flow=ctx.flow,
                entity=ctx.entity,
                action="conflict",
                canonical_id=cid,
                field=review.field,
                system=out.origin_system,
                native_id=out.origin_id,
                old_value=review.partner_value,
                new_value=review.origin_value,
                base_value=review.base_value,
                decision="review",
                run_id=ctx.run_id,
                message=review.reason,
            )
        ]
    )


def _dead_letter(
    uow: UnitOfWork,
    ctx: PageContext,
    system: str,
    native_id: str,
    error: RecordError,
    canonical_id: str | None,
    *,
    waiting: bool,
    payload: dict[str, Any] | None = None,
) -> None:
    uow.put_dead_letter(
        DeadLetter(
            flow=ctx.flow,
            entity=ctx.entity,
            system=system,
            native_id=native_id,
            kind="waiting_for_parent" if waiting and not error.retryable else error.kind,
            message=error.message,
            canonical_id=canonical_id,
            field=error.field,
            vendor_code=error.vendor_code,
            vendor_message=error.vendor_message,
            payload=payload or {},
            status="waiting" if waiting else "open",
        )
    )


def record_observed_failure(
    uow: UnitOfWork, ctx: PageContext, item: Observed, system: str, report: RunReport
) -> None:
    """A record that could not even be canonicalised (bad value, unlinked parent)."""
    if item.waiting_on is not None:
        error = RecordError("validation", str(item.waiting_on), field=item.waiting_on.field)
        _dead_letter(
            uow,
            ctx,
            system,
            item.record.id,
            error,
            None,
            waiting=True,
            payload=_jsonable(item.record.fields),
        )
        report.add("waiting")
        return
    assert item.error is not None
    _dead_letter(
        uow,
        ctx,
        system,
        item.record.id,
        item.error,
        None,
        waiting=False,
        payload=_jsonable(item.record.fields),
    )
    uow.add_audit(
        [
            AuditEvent(
                flow=ctx.flow,
                entity=ctx.entity,
                action="dead_letter",
                system=system,
                native_id=item.record.id,
                field=item.error.field,
                message=item.error.describe(),
                run_id=ctx.run_id,
            )
        ]
    )
    report.add("dead_letters")


def record_duplicate(
    uow: UnitOfWork,
    ctx: PageContext,
    system: str,
    native_id: str,
    candidates: list[str],
    partner_system: str,
    report: RunReport,
) -> None:
    uow.put_review_item(
        ReviewItem(
            flow=ctx.flow,
            entity=ctx.entity,
            kind="duplicate",
            subject_key=f"{system}:{native_id}",
            details={
                "origin_system": system,
                "origin_id": native_id,
                "partner_system": partner_system,
                "candidates": candidates,
                "reason": f"{len(candidates)} records in {partner_system} match; "
                "pick the right one or create a new record",
            },
        )
    )
    report.add("review")


def set_cursor(
    uow: UnitOfWork, ctx: PageContext, system: str, object_name: str, cursor: Cursor | None
) -> None:
    if cursor is not None:
        uow.set_cursor(ctx.flow, system, object_name, cursor)


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    from isthmus.model.flat import normalise_value

    result: dict[str, Any] = {}
    for key, value in fields.items():
        try:
            result[key] = normalise_value(value)
        except TypeError:
            result[key] = str(value)
    return result
