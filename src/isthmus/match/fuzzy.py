"""Fuzzy duplicate detection: score an unmatched record against likely partners, decide.

The decision per record is one of three: *link* (one candidate scores above
``link_above`` and clearly above the next), *review* (the best candidates score above
``review_above``: a person picks, with the per-field scores as the merge suggestion),
or *create*. It scales by blocking: a record is compared only with partner records that
share a block key (a name prefix, a phone tail, a postal code, an email domain ...),
never with every record, and a block too common to say anything is skipped.

Invariants, as in exact matching: a partner already linked, claimed earlier in the run,
or excluded by the caller (held in an open review) is never a candidate; a partner is
linked to at most one record (the best-scoring records claim first).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from rapidfuzz import fuzz

from isthmus.match import normalise

FuzzyOutcome = Literal["link", "review", "create"]
Comparison = Literal["name", "phone", "plain"]
_NAME_LEAVES = frozenset({"name", "company", "first_name", "last_name"})


@dataclass(frozen=True)
class FuzzyRules:
    """How to compare: weighted canonical paths and the two thresholds (scores are 0..1)."""

    fields: Mapping[str, float]
    link_above: float = 0.92
    review_above: float = 0.75
    # A candidate this close to the best one makes the best one uncertain: review.
    margin: float = 0.03
    # Blocks bigger than this (a common city, a free-mail domain) select nothing useful.
    max_block: int = 200
    max_suggestions: int = 3
    # The share of the total weight that both records must fill for a link; below it,
    # at most a review (two records that agree on a name alone are not the same firm).
    min_coverage: float = 0.5

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self.fields)

    @cached_property
    def total_weight(self) -> float:
        return sum(self.fields.values()) or 1.0

    @cached_property
    def _compared(self) -> tuple[tuple[str, float, Comparison], ...]:
        # Scoring runs for every candidate pair: decide how to compare each path once.
        return tuple((path, weight, _comparison(path)) for path, weight in self.fields.items())


@dataclass(frozen=True, slots=True)
class Profile:
    """One record's matching fields, normalised, in the order of ``FuzzyRules.paths``."""

    id: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float
    fields: Mapping[str, float]  # path -> score of that field, for fields both records fill
    coverage: float


@dataclass(frozen=True)
class FuzzyDecision:
    origin_id: str
    outcome: FuzzyOutcome
    # link: the one partner; review: the suggestions, best first; create: empty.
    candidates: tuple[Candidate, ...] = ()

    @property
    def partner_id(self) -> str | None:
        return self.candidates[0].id if self.outcome == "link" else None


def profile(record_id: str, view: Mapping[str, Any], rules: FuzzyRules) -> Profile:
    """A record's profile from its canonical (flat) view."""
    return Profile(
        record_id,
        tuple(normalise.normaliser_for(path)(view.get(path)) for path in rules.paths),
    )


def block_keys(item: Profile, paths: Sequence[str]) -> set[str]:
    """The keys under which a record is filed; two records are compared only if they
    share one. Each key is prefixed with its path so values of different fields never
    collide."""
    keys: set[str] = set()
    for path, value in zip(paths, item.values, strict=True):
        if value:
            keys.update(f"{path}:{key}" for key in _keys_of(path, value))
    return keys


def _keys_of(path: str, value: str) -> Iterable[str]:
    leaf = path.rpartition(".")[2]
    if leaf in _NAME_LEAVES:
        # A typo rarely hits both the start of the name and the start of its longest word.
        yield "^" + value.replace(" ", "")[:3]
        yield "w" + max(value.split(), key=len)[:4]
    elif normalise.normaliser_for(path) is normalise.phone:
        if len(value) >= 6:
            yield value[-6:]
    elif normalise.normaliser_for(path) is normalise.email:
        yield value
        if "@" in value:
            yield "@" + value.rpartition("@")[2]
    else:
        yield value


class CandidateIndex:
    """Partner profiles filed by block key. Holds only the matching fields, so reading a
    large partner once per run costs memory in proportion to those fields only.

    Most blocks (a phone tail, an e-mail address, a postal code) hold one record, so a
    block is filed under the hash of its key and holds a bare id until a second record
    joins it: about half the memory of a list per key. A hash collision only adds a
    candidate to compare, never loses one.
    """

    def __init__(self, rules: FuzzyRules) -> None:
        self.rules = rules
        self.profiles: dict[str, Profile] = {}
        self._blocks: dict[int, str | list[str]] = {}

    def __len__(self) -> int:
        return len(self.profiles)

    def add(self, item: Profile) -> None:
        if item.id in self.profiles:
            return
        self.profiles[item.id] = item
        for key in block_keys(item, self.rules.paths):
            slot = hash(key)
            members = self._blocks.get(slot)
            if members is None:
                self._blocks[slot] = item.id
            elif isinstance(members, str):
                self._blocks[slot] = [members, item.id]
            else:
                members.append(item.id)

    def candidates(self, item: Profile) -> list[Profile]:
        """Partner profiles sharing a selective block with ``item``, each once."""
        seen: dict[str, Profile] = {}
        for key in sorted(block_keys(item, self.rules.paths)):
            found = self._blocks.get(hash(key), ())
            members = (found,) if isinstance(found, str) else found
            if len(members) > self.rules.max_block:
                continue
            for member in members:
                if member not in seen and member != item.id:
                    seen[member] = self.profiles[member]
        return list(seen.values())


def score(left: Profile, right: Profile, rules: FuzzyRules) -> Candidate:
    """Weighted similarity of ``right`` to ``left`` over the fields both fill, with the
    score of each field (for the person who reviews it)."""
    scores = {
        path: round(_similarity(how, a, b), 3)
        for (path, _, how), a, b in zip(rules._compared, left.values, right.values, strict=True)
        if a and b
    }
    value, coverage = _weighted(left, right, rules)
    return Candidate(right.id, round(value, 4), scores, coverage)


def _weighted(left: Profile, right: Profile, rules: FuzzyRules) -> tuple[float, float]:
    """(score, coverage) only: the hot loop of matching, run for every candidate pair."""
    weighted = filled = 0.0
    for (_, weight, how), a, b in zip(rules._compared, left.values, right.values, strict=True):
        if a and b:
            weighted += weight * (1.0 if a == b else _similarity(how, a, b))
            filled += weight
    return (weighted / filled if filled else 0.0), filled / rules.total_weight


def _comparison(path: str) -> Comparison:
    if path.rpartition(".")[2] in _NAME_LEAVES:
        return "name"
    return "phone" if normalise.normaliser_for(path) is normalise.phone else "plain"


def _similarity(how: Comparison, a: str, b: str) -> float:
    if a == b:
        return 1.0
    if how == "phone":
        short, long = sorted((a, b), key=len)
        # "301234567" and "49301234567": the same line with and without a country code.
        return 1.0 if len(short) >= 6 and long.endswith(short) else fuzz.ratio(a, b) / 100
    if how == "name":
        # Spacing ("Acme Corp" / "AcmeCorp") and word order ("Smith & Jones" / "Jones
        # & Smith") are not differences of name.
        joined = fuzz.ratio(a.replace(" ", ""), b.replace(" ", ""))
        return max(joined, fuzz.token_sort_ratio(a, b)) / 100
    return fuzz.ratio(a, b) / 100


@dataclass
class _Scored:
    item: Profile
    # (-score, partner id), best first: cheap to sort and to filter as partners are claimed
    ranked: list[tuple[float, str]] = field(default_factory=list)

    @property
    def best(self) -> float:
        return -self.ranked[0][0] if self.ranked else 0.0


def match_fuzzy(
    items: Sequence[Profile],
    index: CandidateIndex,
    excluded: Collection[str],
    claimed: set[str],
) -> list[FuzzyDecision]:
    """Decide link / review / create for each unmatched record.

    Args:
        items: profiles of the origin records still unmatched after exact keys.
        index: the partner's profiles.
        excluded: partner ids that may not be matched (linked, or held in a review).
        claimed: partner ids matched earlier in this run; updated in place.

    Returns:
        One decision per item, in the order of ``items``.
    """
    rules = index.rules
    scored = [
        _Scored(
            item,
            sorted(
                (-_weighted(item, other, rules)[0], other.id)
                for other in index.candidates(item)
                if other.id not in excluded and other.id not in claimed
            ),
        )
        for item in items
    ]
    decisions: dict[str, FuzzyDecision] = {}
    # The strongest matches claim first, so a weaker look-alike cannot take a partner
    # from the record that really is its twin.
    for entry in sorted(scored, key=lambda s: (-s.best, s.item.id)):
        # The suggestions and the runner-up are all a decision looks at.
        free = [pid for _, pid in entry.ranked if pid not in claimed][: rules.max_suggestions + 1]
        candidates = [score(entry.item, index.profiles[pid], rules) for pid in free]
        decision = decide(entry.item.id, candidates, rules)
        if decision.partner_id is not None:
            claimed.add(decision.partner_id)
        decisions[entry.item.id] = decision
    return [decisions[item.id] for item in items]


def decide(origin_id: str, candidates: Sequence[Candidate], rules: FuzzyRules) -> FuzzyDecision:
    """The decision for one record from its free candidates, best first."""
    ranked = sorted(candidates, key=lambda c: (-c.score, c.id))
    if not ranked or ranked[0].score < rules.review_above:
        return FuzzyDecision(origin_id, "create")
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if (
        best.score >= rules.link_above
        and best.coverage >= rules.min_coverage
        and best.score - runner_up > rules.margin
    ):
        return FuzzyDecision(origin_id, "link", (best,))
    suggestions = [c for c in ranked if c.score >= rules.review_above]
    return FuzzyDecision(origin_id, "review", tuple(suggestions[: rules.max_suggestions]))
