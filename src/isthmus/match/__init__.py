"""Finding a record's partner before anything is created: exact keys, then fuzzy
candidates. Pure decisions over values already read; the engine does the I/O."""

from isthmus.match.exact import ExactMatches, match_exact
from isthmus.match.fuzzy import (
    Candidate,
    CandidateIndex,
    FuzzyDecision,
    FuzzyRules,
    Profile,
    match_fuzzy,
    profile,
)

__all__ = [
    "Candidate",
    "CandidateIndex",
    "ExactMatches",
    "FuzzyDecision",
    "FuzzyRules",
    "Profile",
    "match_exact",
    "match_fuzzy",
    "profile",
]
