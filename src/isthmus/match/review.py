"""What a person needs to decide a possible duplicate: both records side by side.

The details of a duplicate review item (kept as JSON in the store): the record, its
candidates in the other system best first, each with its score, the score of each
field, and its values, so ``isthmus review list`` can show why they look alike and
``isthmus review resolve ID --link CANDIDATE`` or ``--create`` can settle it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from isthmus.match.fuzzy import FuzzyDecision
from isthmus.store.types import DeadLetter, ReviewItem


def suggestion_details(
    origin: tuple[str, str],
    partner_system: str,
    decision: FuzzyDecision,
    origin_values: Mapping[str, Any],
    candidate_values: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Details of a duplicate review item for a fuzzy match below the link threshold.

    Args:
        origin: (system, native id) of the record that was about to be created.
        partner_system: the system its candidates live in.
        decision: the fuzzy decision, with its candidates best first.
        origin_values: the record's canonical values of the matching fields.
        candidate_values: candidate id -> its canonical values of the matching fields.
    """
    system, native_id = origin
    best = decision.candidates[0].score if decision.candidates else 0.0
    return {
        "origin_system": system,
        "origin_id": native_id,
        "partner_system": partner_system,
        "method": "fuzzy",
        "candidates": [c.id for c in decision.candidates],
        "origin_values": dict(origin_values),
        "suggestions": [
            {
                "id": c.id,
                "score": c.score,
                "fields": dict(c.fields),
                "values": dict(candidate_values.get(c.id, {})),
            }
            for c in decision.candidates
        ],
        "reason": f"looks like {len(decision.candidates)} record(s) in {partner_system} "
        f"(best score {best:.2f}); link it to one (--link ID) or create a new record (--create)",
    }


def suggestion_item(flow: str, entity: str, details: dict[str, Any]) -> ReviewItem:
    """The review item for ``details`` (one open item per record: a newer suggestion for
    the same record refreshes it)."""
    return ReviewItem(
        flow=flow,
        entity=entity,
        kind="duplicate",
        subject_key=f"{details['origin_system']}:{details['origin_id']}",
        details=details,
    )


def held_letter(flow: str, entity: str, system: str, native_id: str) -> DeadLetter:
    """A record held while a duplicate review it is part of is open: ``waiting``, so each
    run retries it, and it syncs by itself once the review is resolved."""
    return DeadLetter(
        flow=flow,
        entity=entity,
        system=system,
        native_id=native_id,
        kind="waiting_for_review",
        message="part of an open duplicate review; it syncs once a person resolves it "
        "(isthmus review list)",
        status="waiting",
    )
