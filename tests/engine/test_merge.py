"""Table tests for the three-way merge of one field, one row per rule and outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from isthmus.engine.merge import Timestamps, merge_field, same

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SKEW = timedelta(seconds=2)


def times(origin_offset: float, partner_offset: float) -> Timestamps:
    return Timestamps(
        T0 + timedelta(seconds=origin_offset), T0 + timedelta(seconds=partner_offset), SKEW
    )


@pytest.mark.parametrize(
    ("origin", "partner", "base", "rule", "owner", "clock", "value", "winner"),
    [
        # nobody moved
        ("a", "a", "a", "review", None, times(0, 0), "a", "none"),
        # one side moved
        ("new", "a", "a", "review", None, times(0, 0), "new", "origin"),
        ("a", "new", "a", "review", None, times(0, 0), "new", "partner"),
        # both moved the same way
        ("x", "x", "a", "review", None, times(0, 0), "x", "both"),
        # both moved differently: each rule
        ("x", "y", "a", "review", None, times(0, 0), None, "review"),
        ("x", "y", "a", "owner", "origin", times(0, 0), "x", "origin"),
        ("x", "y", "a", "owner", "partner", times(0, 0), "y", "partner"),
        ("x", "y", "a", "last_writer", None, times(10, 0), "x", "origin"),
        ("x", "y", "a", "last_writer", None, times(0, 10), "y", "partner"),
        ("x", "y", "a", "last_writer", None, times(0, 1), None, "review"),  # within skew
        ("", "y", "a", "newest_non_empty", None, times(10, 0), "y", "partner"),
        ("x", None, "a", "newest_non_empty", None, times(0, 10), "x", "origin"),
        ("x", "y", "a", "newest_non_empty", None, times(0, 10), "y", "partner"),
        ("15", "12", "10", "additive", None, times(0, 0), "17", "computed"),
        ("10.5", "9.25", "10", "additive", None, times(0, 0), "9.75", "computed"),
        ("x", "y", "10", "additive", None, times(0, 0), None, "review"),
        # a non-owner moved alone: the owner's value is restored
        ("new", "a", "a", "review", "partner", times(0, 0), "a", "partner"),
        ("a", "new", "a", "review", "origin", times(0, 0), "a", "origin"),
        # an owner moved alone: it travels
        ("new", "a", "a", "review", "origin", times(0, 0), "new", "origin"),
    ],
)
def test_merge_field(origin, partner, base, rule, owner, clock, value, winner) -> None:
    outcome = merge_field(origin, partner, base, base, base, rule=rule, owner=owner, times=clock)
    assert outcome.winner == winner
    if winner != "review":
        assert outcome.value == value


def test_missing_timestamp_goes_to_review() -> None:
    outcome = merge_field(
        "x", "y", "a", "a", "a", rule="last_writer", owner=None, times=Timestamps(None, T0, SKEW)
    )
    assert outcome.winner == "review"
    assert "missing" in outcome.reason


def test_projected_base_hides_a_lossy_side() -> None:
    # The partner stores names cut to 5 characters; its base view is the cut value, so
    # holding the cut value is "unchanged", not a change to send back.
    outcome = merge_field(
        "Long name",
        "Long ",
        "Long name",
        "Long ",
        "Long name",
        rule="review",
        owner=None,
        times=times(0, 0),
    )
    assert outcome.winner == "none"


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (None, "", True),
        ("", [], True),
        (None, None, True),
        ("a", "a", True),
        ("a", "A", False),
        ("0", None, False),
        (False, None, False),
        ([1], [1], True),
    ],
)
def test_same_treats_all_empties_alike(left, right, expected) -> None:
    assert same(left, right) is expected


@pytest.mark.parametrize("rule_side", ["origin", "partner"])
@pytest.mark.parametrize(
    ("origin", "partner", "expected"),
    [
        ("a", "new", {"origin": ("partner", "new"), "partner": ("partner", "new")}),
        ("x", "y", {"origin": ("origin", "x"), "partner": ("partner", "y")}),
    ],
    ids=["one-side-moved", "both-moved"],
)
def test_a_source_or_target_rule_only_settles_edits_on_both_sides(
    rule_side: str, origin: str, partner: str, expected: dict[str, tuple[str, str]]
) -> None:
    # One side moved: its change travels, whichever side the rule names. Both moved:
    # the named side wins.
    outcome = merge_field(
        origin,
        partner,
        "a",
        "a",
        "a",
        rule="source",
        owner=None,
        times=times(0, 0),
        rule_side=rule_side,  # type: ignore[arg-type]
    )
    assert (outcome.winner, outcome.value) == expected[rule_side]
