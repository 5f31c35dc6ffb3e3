"""What a run did, counted. The CLI prints it, the store keeps it with the run.

A dry run (``RunOptions(dry_run=True)``) also fills a ``MatchPreview``: what the run
would link (by exact key or by fuzzy score), send to review, hold, create or update,
with a few samples of each, and nothing written anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from isthmus.engine.matching import MatchSession
from isthmus.engine.observed import Gathered, Observed
from isthmus.engine.plan import RecordPlan

PREVIEW_ORDER = (
    "link_exact",
    "link_fuzzy",
    "review",
    "held",
    "create",
    "update",
    "unchanged",
    "skip",
    "delete",
    "failed",
)


@dataclass
class MatchPreview:
    """Counts and samples of what a dry run would do, by category (``PREVIEW_ORDER``)."""

    counts: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    max_samples: int = 5

    def add(self, category: str, sample: dict[str, Any]) -> None:
        self.counts[category] += 1
        kept = self.samples.setdefault(category, [])
        if len(kept) < self.max_samples:
            kept.append(sample)

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": {name: self.counts[name] for name in PREVIEW_ORDER},
            "samples": {name: self.samples.get(name, []) for name in PREVIEW_ORDER},
        }


@dataclass
class RunReport:
    flow: str
    run_id: str
    counts: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    status: str = "running"
    # Set when the run stopped because a system asked to wait (API budget spent, circuit
    # open): the scheduler does not run the flow again before then.
    resume_at: datetime | None = None
    preview: MatchPreview | None = None

    def add(self, name: str, amount: int = 1) -> None:
        if amount:
            self.counts[name] += amount

    @property
    def processed(self) -> int:
        return self.counts["read"]

    def summary(self) -> str:
        order = [
            "read",
            "created",
            "updated",
            "deleted",
            "linked",
            "linked_previous",
            "linked_exact",
            "linked_fuzzy",
            "unchanged",
            "echo",
            "conflicts",
            "review",
            "held",
            "dead_letters",
            "waiting",
            "retries",
            "filtered",
            "kept_apart",
        ]
        parts = [f"{name} {self.counts[name]}" for name in order if self.counts[name]]
        return ", ".join(parts) or "nothing to do"


def preview_page(
    preview: MatchPreview, plans: Sequence[tuple[RecordPlan, Observed]], gathered: Gathered
) -> None:
    """Count one page of a dry run into ``preview``."""
    for native_id in gathered.unchanged:
        preview.add("unchanged", {"id": native_id})
    for native_id, candidates in gathered.duplicates.items():
        preview.add("review", {"id": native_id, "method": "exact", "candidates": candidates})
    for native_id, decision in gathered.suggested.items():
        preview.add(
            "review",
            {
                "id": native_id,
                "label": _label(gathered.observed[native_id]),
                "method": "fuzzy",
                "candidates": [{"id": c.id, "score": c.score} for c in decision.candidates],
            },
        )
    for native_id in gathered.held:
        preview.add("held", {"id": native_id})
    for item in gathered.observed.values():
        if item.error is not None or item.waiting_on is not None:
            reason = item.error.message if item.error else str(item.waiting_on)
            preview.add("failed", {"id": item.record.id, "reason": reason})
    for plan, observed in plans:
        sample: dict[str, Any] = {"id": observed.record.id, "label": _label(observed)}
        partner = gathered.partner_of(plan.key)
        method = gathered.matched_by.get(observed.record.id)
        if method is not None and partner is not None and plan.link_partner:
            sample["partner"] = partner.native_id
            if observed.record.id in gathered.fuzzy_scores:
                sample["score"] = gathered.fuzzy_scores[observed.record.id]
            preview.add(f"link_{method}", sample)
        elif plan.action in ("create", "update", "delete", "skip"):
            preview.add(plan.action, {**sample, "reason": plan.reason})
        else:
            preview.add("skip", {**sample, "reason": plan.reason})


def _label(observed: Observed) -> str:
    view = observed.view or {}
    for path in ("name", "last_name", "code", "number", "email"):
        if view.get(path):
            return str(view[path])
    return observed.record.id


def pretend_page(
    session: MatchSession,
    plans: Sequence[tuple[RecordPlan, Observed]],
    gathered: Gathered,
    systems: tuple[str, str],
) -> None:
    """Remember what a dry-run page would link, create or send to review, so the other
    direction of the flow neither counts the same pairs again nor matches them anew."""
    origin, partner = systems
    for plan, observed in plans:
        if plan.action in ("create", "link", "update"):
            session.pretend_linked[origin].add(observed.record.id)
            partner_state = gathered.partner_of(plan.key)
            if partner_state is not None and partner_state.native_id:
                session.pretend_linked[partner].add(partner_state.native_id)
    for native_id, decision in gathered.suggested.items():
        session.hold(
            {
                "origin_system": origin,
                "origin_id": native_id,
                "partner_system": partner,
                "candidates": [c.id for c in decision.candidates],
            }
        )
