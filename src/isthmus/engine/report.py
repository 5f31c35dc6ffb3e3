"""What a run did, counted. The CLI prints it, the store keeps it with the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunReport:
    flow: str
    run_id: str
    counts: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    status: str = "running"

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
            "unchanged",
            "echo",
            "conflicts",
            "review",
            "dead_letters",
            "waiting",
            "retries",
            "filtered",
        ]
        parts = [f"{name} {self.counts[name]}" for name in order if self.counts[name]]
        return ", ".join(parts) or "nothing to do"
