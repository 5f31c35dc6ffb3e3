"""Exact-key matching never gives a partner twice and never guesses between several."""

from __future__ import annotations

from isthmus.match import ExactMatches, match_exact


def test_one_free_partner_is_matched() -> None:
    result = match_exact({"a1": "C-1", "a2": "C-9"}, {"C-1": ["x1"]}, set(), set())
    assert result.matched == {"a1": "x1"}
    assert result.ambiguous == {}


def test_linked_partners_are_not_candidates() -> None:
    result = match_exact({"a1": "C-1"}, {"C-1": ["x1", "x2"]}, {"x1"}, set())
    assert result.matched == {"a1": "x2"}


def test_several_free_partners_go_to_review() -> None:
    result = match_exact({"a1": "C-1"}, {"C-1": ["x1", "x2"]}, set(), set())
    assert result.matched == {}
    assert result.ambiguous == {"a1": ["x1", "x2"]}


def test_a_partner_is_claimed_once_per_page() -> None:
    claimed: set[str] = set()
    result = match_exact({"a1": "C-1", "a2": "C-1"}, {"C-1": ["x1"]}, set(), claimed)
    assert result.matched == {"a1": "x1"}
    assert result.ambiguous == {"a2": ["x1"]}
    assert claimed == {"x1"}


def test_a_later_key_settles_an_earlier_ambiguity() -> None:
    claimed: set[str] = set()
    by_email = match_exact({"a1": "a@x"}, {"a@x": ["x1", "x2"]}, set(), claimed)
    assert by_email.ambiguous == {"a1": ["x1", "x2"]}
    both = match_exact({"a1": "C-2"}, {"C-2": ["x2"]}, set(), claimed, by_email)
    assert both.matched == {"a1": "x2"}
    assert both.ambiguous == {}


def test_numbers_and_strings_meet() -> None:
    result = match_exact({"a1": 1001}, {"1001": ["x1"]}, set(), set(), ExactMatches())
    assert result.matched == {"a1": "x1"}
