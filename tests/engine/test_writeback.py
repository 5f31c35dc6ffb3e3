"""``on_rejection.write_back``: which refused records are marked, and with what."""

from __future__ import annotations

from isthmus.connectors.base import WriteResult
from isthmus.engine.config import WriteBackConfig
from isthmus.engine.execute import Task
from isthmus.engine.plan import RecordPlan, Write
from isthmus.engine.record import PlanOutcome
from isthmus.engine.writeback import rejection_ops
from isthmus.errors import RecordError


def _outcome(origin_id: str, error: RecordError | None) -> PlanOutcome:
    write = Write("erp", "create", None, {})
    task = Task(f"{origin_id}#0", origin_id, write)
    task.result = WriteResult(task.ref, "failed" if error else "created", "1", error=error)
    plan = RecordPlan(origin_id, "create", "cid", "new", (write,))
    return PlanOutcome(plan, "crm", origin_id, "erp", tasks=[task])


def test_refusals_of_the_configured_kinds_are_marked_with_the_vendors_words() -> None:
    refused = RecordError("business", "Tryton refused it: ...", vendor_message="x" * 300)
    outcomes = [
        _outcome("a", refused),
        _outcome("b", None),
        _outcome("c", RecordError("transient", "down; retried")),
        _outcome("d", RecordError("validation", "bad value")),
    ]
    spec = WriteBackConfig(field="Sync_Status__c", message_field="Sync_Message__c", max_length=80)
    ops = rejection_ops(outcomes, spec)
    assert [(op.id, op.kind) for op in ops] == [("a", "update"), ("d", "update")]
    assert ops[0].fields == {"Sync_Status__c": "Error", "Sync_Message__c": "x" * 80}
    assert ops[1].fields["Sync_Message__c"] == "bad value", "no vendor words: Isthmus's"


def test_kinds_narrow_what_is_marked() -> None:
    outcomes = [_outcome("a", RecordError("validation", "bad value"))]
    spec = WriteBackConfig(field="Status__c", value="Refused", kinds=["business"])
    assert rejection_ops(outcomes, spec) == []


def test_a_record_refused_before_that_goes_through_is_cleared() -> None:
    outcomes = [_outcome("a", None), _outcome("b", None)]
    spec = WriteBackConfig(field="S", message_field="M", cleared_value="Synced")
    (op,) = rejection_ops(outcomes, spec, refused_before={"b"})
    assert (op.id, op.fields) == ("b", {"S": "Synced", "M": None})
    assert rejection_ops(outcomes, WriteBackConfig(field="S"), refused_before={"b"}) == []
