"""Finding a record's partner before anything is created: exact keys (and, later, fuzzy
candidates). Pure decisions over values already read; the engine does the I/O."""

from isthmus.match.exact import ExactMatches, match_exact

__all__ = ["ExactMatches", "match_exact"]
