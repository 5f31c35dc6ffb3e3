"""Scenario tests of the pure planner: one record, one decision, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from isthmus.engine.plan import RecordInput, SideState, plan_record
from isthmus.engine.policy import DeleteRule, FlowPolicy

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def policy(**overrides) -> FlowPolicy:
    values = {
        "flow": "customers",
        "entity": "customer",
        "source": "crm",
        "target": "erp",
        "direction": "both",
    }
    values.update(overrides)
    return FlowPolicy(**values)


def item(
    origin: dict | None,
    partner: dict | None,
    base: dict | None,
    *,
    origin_system="crm",
    linked=True,
    partner_exists=True,
    origin_time=T0,
    partner_time=T0,
) -> RecordInput:
    partner_system = "erp" if origin_system == "crm" else "crm"
    partner_state = None
    if partner is not None or not partner_exists:
        partner_state = SideState(
            partner_system, "P1", partner if partner_exists else None, modified_at=partner_time
        )
    return RecordInput(
        f"{origin_system}:O1",
        SideState(origin_system, "O1", origin, modified_at=origin_time),
        partner_state,
        "cid-1",
        base,
        linked,
    )


def test_new_record_is_created_with_its_fields_as_base() -> None:
    plan = plan_record(item({"name": "Acme"}, None, None, linked=False), policy())
    assert plan.action == "create"
    assert plan.writes[0].system == "erp"
    assert plan.writes[0].fields == {"name": "Acme"}
    assert plan.new_base == {"name": "Acme"}


def test_one_way_flow_does_not_create_from_the_target() -> None:
    plan = plan_record(
        item({"name": "Acme"}, None, None, origin_system="erp", linked=False),
        policy(direction="one_way"),
    )
    assert plan.action == "skip"
    assert plan.writes == ()


def test_unchanged_record_plans_nothing_echo_suppression() -> None:
    base = {"name": "Acme", "phone": "1"}
    plan = plan_record(item(dict(base), dict(base), base), policy())
    assert plan.action == "skip"
    assert plan.writes == ()


def test_change_on_one_side_travels_to_the_other_only_with_changed_fields() -> None:
    base = {"name": "Acme", "phone": "1"}
    plan = plan_record(item({"name": "Acme", "phone": "2"}, dict(base), base), policy())
    assert plan.action == "update"
    (write,) = plan.writes
    assert write.system == "erp"
    assert write.carries == {"phone"}
    assert plan.new_base == {"name": "Acme", "phone": "2"}


def test_edits_on_both_sides_to_different_fields_are_both_kept() -> None:
    base = {"name": "Acme", "phone": "1"}
    plan = plan_record(
        item({"name": "Acme Inc", "phone": "1"}, {"name": "Acme", "phone": "2"}, base), policy()
    )
    systems = {write.system: write.carries for write in plan.writes}
    assert systems == {"erp": {"name"}, "crm": {"phone"}}
    assert plan.new_base == {"name": "Acme Inc", "phone": "2"}
    assert plan.reviews == ()


def test_conflict_goes_to_review_and_nothing_is_overwritten() -> None:
    base = {"name": "Acme"}
    plan = plan_record(item({"name": "Acme A"}, {"name": "Acme B"}, base), policy())
    assert plan.action == "review"
    assert plan.writes == ()
    assert plan.reviews[0].field == "name"
    assert plan.new_base == base  # the base stays until a person decides


def test_owner_wins_a_conflict_and_the_decision_is_reported() -> None:
    base = {"credit_limit.amount": "100"}
    plan = plan_record(
        item({"credit_limit.amount": "150"}, {"credit_limit.amount": "200"}, base),
        policy(ownership={"credit_limit": "erp"}),
    )
    (write,) = plan.writes
    assert write.system == "crm"
    assert write.fields["credit_limit.amount"] == "200"
    (decision,) = plan.decisions
    assert decision.conflict
    assert decision.winner == "partner"
    assert decision.base_value == "100"


def test_non_owner_edit_is_reverted_to_the_owner_value() -> None:
    base = {"credit_limit.amount": "100"}
    plan = plan_record(
        item({"credit_limit.amount": "999"}, dict(base), base),
        policy(ownership={"credit_limit": "erp"}),
    )
    (write,) = plan.writes
    assert write.system == "crm"
    assert write.fields["credit_limit.amount"] == "100"
    assert "owner" in plan.decisions[0].reason


def test_last_writer_wins_outside_the_skew_and_reviews_inside() -> None:
    base = {"phone": "1"}
    later = plan_record(
        item({"phone": "2"}, {"phone": "3"}, base, origin_time=T0 + timedelta(minutes=5)),
        policy(conflict_default="last_writer"),
    )
    assert later.writes[0].system == "erp"
    assert later.writes[0].fields["phone"] == "2"
    close = plan_record(
        item({"phone": "2"}, {"phone": "3"}, base, origin_time=T0 + timedelta(seconds=1)),
        policy(conflict_default="last_writer"),
    )
    assert close.action == "review"


def test_additive_merges_numeric_deltas() -> None:
    base = {"quantity_on_hand": "10"}
    plan = plan_record(
        item({"quantity_on_hand": "7"}, {"quantity_on_hand": "15"}, base),
        policy(conflict_fields={"quantity_on_hand": "additive"}),
    )
    assert {w.system: w.fields["quantity_on_hand"] for w in plan.writes} == {
        "crm": "12",
        "erp": "12",
    }


def test_one_way_flow_keeps_a_target_only_edit() -> None:
    base = {"name": "Acme", "phone": "1"}
    plan = plan_record(
        item({"name": "Acme 2", "phone": "1"}, {"name": "Acme", "phone": "9"}, base),
        policy(direction="one_way"),
    )
    (write,) = plan.writes
    assert write.carries == {"name"}
    assert write.fields["phone"] == "9"  # the target's own value is written back unchanged


def test_first_meeting_takes_the_source_value_for_differences() -> None:
    plan = plan_record(
        item({"name": "Acme", "phone": "1"}, {"name": "ACME", "phone": "1"}, None, linked=False),
        policy(),
    )
    assert plan.link_partner
    (write,) = plan.writes
    assert write.system == "erp"
    assert write.fields["name"] == "Acme"


def test_matched_records_that_agree_are_linked_without_writes() -> None:
    plan = plan_record(item({"name": "Acme"}, {"name": "Acme"}, None, linked=False), policy())
    assert plan.action == "link"
    assert plan.link_partner
    assert plan.writes == ()


def test_delete_policies() -> None:
    base = {"name": "Acme", "active": True}
    gone = item(None, dict(base), base)
    propagate = plan_record(gone, policy(on_delete=DeleteRule("propagate")))
    assert propagate.action == "delete"
    assert propagate.writes[0].kind == "delete"
    decouple = plan_record(gone, policy(on_delete=DeleteRule("decouple")))
    assert decouple.writes == ()
    assert set(decouple.unlink) == {"crm", "erp"}
    deactivate = plan_record(gone, policy(on_delete=DeleteRule("deactivate", {"active": False})))
    assert deactivate.writes[0].fields["active"] is False
    ignore = plan_record(gone, policy(on_delete=DeleteRule("ignore")))
    assert ignore.writes == ()


def test_partner_missing_is_reviewed_by_default_and_restored_on_request() -> None:
    gone = item({"name": "Acme"}, None, {"name": "Acme"}, partner_exists=False)
    assert plan_record(gone, policy()).action == "review"
    restored = plan_record(gone, policy(on_partner_missing="restore"))
    assert restored.action == "create"
    assert restored.unlink == ("erp",)
