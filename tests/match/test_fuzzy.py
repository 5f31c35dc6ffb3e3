"""Fuzzy matching: a decision per record (link, review, create), and its invariants."""

from __future__ import annotations

from typing import Any

import pytest

from isthmus.match import CandidateIndex, FuzzyRules, match_fuzzy, profile
from isthmus.match.fuzzy import Candidate, block_keys, decide, score

RULES = FuzzyRules(
    {"name": 0.6, "billing_address.city": 0.2, "phone": 0.2}, link_above=0.92, review_above=0.75
)


def _candidate(cid: str, value: float, coverage: float = 1.0) -> Candidate:
    return Candidate(cid, value, {}, coverage)


@pytest.mark.parametrize(
    ("scores", "outcome", "chosen"),
    [
        ([], "create", []),
        ([0.5], "create", []),
        ([0.7499], "create", []),
        ([0.75], "review", ["p0"]),
        ([0.91], "review", ["p0"]),
        ([0.92], "link", ["p0"]),
        ([0.99, 0.80], "link", ["p0"]),
        # A runner-up within the margin makes the best one uncertain.
        ([0.95, 0.94], "review", ["p0", "p1"]),
        ([0.95, 0.93, 0.76, 0.5], "review", ["p0", "p1", "p2"]),
        ([0.9, 0.8, 0.79, 0.78, 0.77], "review", ["p0", "p1", "p2"]),
    ],
)
def test_decision_table(scores: list[float], outcome: str, chosen: list[str]) -> None:
    candidates = [_candidate(f"p{i}", value) for i, value in enumerate(scores)]
    decision = decide("o", list(reversed(candidates)), RULES)
    assert decision.outcome == outcome
    assert [c.id for c in decision.candidates] == chosen


def test_a_high_score_on_too_few_fields_is_only_a_suggestion() -> None:
    decision = decide("o", [_candidate("p0", 1.0, coverage=0.4)], RULES)
    assert decision.outcome == "review"


def _index(records: dict[str, dict[str, Any]], rules: FuzzyRules = RULES) -> CandidateIndex:
    index = CandidateIndex(rules)
    for record_id, view in records.items():
        index.add(profile(record_id, view, rules))
    return index


ACME = {"name": "ACME GmbH", "billing_address.city": "München", "phone": "+49 89 1234567"}


@pytest.mark.parametrize(
    ("origin", "outcome"),
    [
        ({"name": "Acme", "billing_address.city": "Munchen", "phone": "089 1234567"}, "link"),
        ({"name": "Acme  Gmbh", "billing_address.city": "MÜNCHEN", "phone": None}, "link"),
        ({"name": "Acmee GmbH", "billing_address.city": "München", "phone": "089 1234567"}, "link"),
        (
            {"name": "Acme AG", "billing_address.city": "München", "phone": "089 7654321"},
            "review",
        ),
        (
            {"name": "Beta Werke", "billing_address.city": "München", "phone": "089 1234567"},
            "create",
        ),
        ({"name": "Zeta", "billing_address.city": "Hamburg", "phone": "040 999999"}, "create"),
    ],
)
def test_variants_of_one_customer(origin: dict[str, Any], outcome: str) -> None:
    (decision,) = match_fuzzy([profile("o", origin, RULES)], _index({"p": ACME}), set(), set())
    assert decision.outcome == outcome, decision


def test_a_review_carries_per_field_scores() -> None:
    origin = {"name": "Acme AG", "billing_address.city": "München", "phone": "089 7654321"}
    (decision,) = match_fuzzy([profile("o", origin, RULES)], _index({"p": ACME}), set(), set())
    (suggestion,) = decision.candidates
    assert suggestion.id == "p"
    assert set(suggestion.fields) == {"name", "billing_address.city", "phone"}
    assert suggestion.fields["billing_address.city"] == 1.0
    assert 0.75 <= suggestion.score < 0.92


def test_excluded_and_claimed_partners_are_never_candidates() -> None:
    index = _index({"p1": ACME, "p2": ACME})
    origin = profile("o", ACME, RULES)
    assert match_fuzzy([origin], index, {"p1", "p2"}, set())[0].outcome == "create"
    assert match_fuzzy([origin], index, set(), {"p1", "p2"})[0].outcome == "create"
    # Two equally good partners: uncertain, so review rather than a guess.
    both = match_fuzzy([origin], index, set(), set())[0]
    assert both.outcome == "review"
    assert [c.id for c in both.candidates] == ["p1", "p2"]
    only = match_fuzzy([origin], index, {"p1"}, set())[0]
    assert (only.outcome, only.partner_id) == ("link", "p2")


def test_a_partner_is_linked_once_and_the_best_record_claims_it() -> None:
    weaker = {"name": "Acmee GmbH", "billing_address.city": "München", "phone": "089 1234567"}
    claimed: set[str] = set()
    decisions = match_fuzzy(
        [profile("weak", weaker, RULES), profile("exact", ACME, RULES)],
        _index({"p": ACME}),
        set(),
        claimed,
    )
    assert [(d.origin_id, d.outcome, d.partner_id) for d in decisions] == [
        ("weak", "create", None),
        ("exact", "link", "p"),
    ]
    assert claimed == {"p"}


def test_records_without_a_shared_block_are_never_compared() -> None:
    rules = FuzzyRules({"name": 1.0})
    index = _index({"p": {"name": "Xacme"}}, rules)
    # Same letters after the first: no shared prefix, no shared longest-word prefix.
    assert index.candidates(profile("o", {"name": "Acme"}, rules)) == []
    assert score(profile("o", {"name": "Acme"}, rules), index.profiles["p"], rules).score > 0.8


def test_blocks_too_common_to_select_are_skipped() -> None:
    rules = FuzzyRules({"name": 0.5, "billing_address.city": 0.5}, max_block=3)
    records = {
        f"p{i}": {"name": f"Firm {i:03d}", "billing_address.city": "Paris"} for i in range(5)
    }
    index = _index(records, rules)
    found = index.candidates(
        profile("o", {"name": "Other", "billing_address.city": "Paris"}, rules)
    )
    assert found == []


def test_block_keys_are_per_field() -> None:
    rules = FuzzyRules({"email": 0.5, "phone": 0.5})
    item = profile("o", {"email": "Jo@Acme.com", "phone": "+44 20 7946 0000"}, rules)
    assert block_keys(item, rules.paths) == {
        "email:jo@acme.com",
        "email:@acme.com",
        "phone:460000",
    }
